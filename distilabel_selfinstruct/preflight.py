"""Preflight: every LLM of a run answers one request before anything is generated.

A failure is one line (what failed, where, how to fix it), within seconds:

- an OpenAI-compatible server (`check_server`): reachable, the key accepted, the mode
  served (`/v1/completions` for `"completion"`, `/v1/chat/completions` for `"chat"`), an
  OpenAI-shaped answer, and the run's longest prompt accepted;
- a llama.cpp model (`check_llama_cpp`): loaded in a child process (a crash there, such as
  llama.cpp's AMX fault, cannot take the run down), the longest prompt fits its context,
  and it generates a token.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from distilabel_selfinstruct.steps.proposal import (
    NUM_PROMPT_TASKS,
    PROPOSAL_MAX_NEW_TOKENS,
    _prompt_text,
)

if TYPE_CHECKING:
    from distilabel_selfinstruct.seed_schema import SeedTask

__all__ = ["PreflightError", "PromptTooLong", "check_llama_cpp", "check_server", "longest_prompt"]

SERVER_TIMEOUT = 10.0
MODEL_TIMEOUT = 20.0


class PreflightError(RuntimeError):
    """An LLM cannot serve the run; the message is one line."""


class PromptTooLong(PreflightError):
    """The run's longest prompt does not fit the model's context."""


def _server_message(error: Any) -> str:
    """The server's own message from an OpenAI error body, else the client's text."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        body = body.get("error", body)
        if isinstance(body, dict) and body.get("message"):
            return _one_line(body["message"], 150)
    return _one_line(getattr(error, "message", error), 150)


def _one_line(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def longest_prompt(seeds: Sequence[SeedTask]) -> tuple[str, int]:
    """The longest prompt a run on these seed tasks can send, and the most tokens a run
    generates after a prompt: the proposal prompt listing the longest seed instructions,
    or a classification or instance prompt for the longest one (machine-made instructions
    are shorter than the heuristic filter's limit, so a seed stands in for them).
    """
    from distilabel_selfinstruct.prompts import render_prompt

    longest = sorted((task.instruction for task in seeds), key=len, reverse=True)
    proposal = render_prompt(
        "instruction_proposal",
        tasks=[_prompt_text(task) for task in longest[:NUM_PROMPT_TASKS]],
        classification_only=False,
    )
    others = [
        render_prompt(template, instruction=longest[0] if longest else "")
        for template in (
            "classification_identification",
            "instance_input_first",
            "instance_output_first",
        )
    ] + [  # what the likelihood method of classification scores
        f"{render_prompt('classification_task_lists', classification=flag)} {longest[0]}\n"
        for flag in (True, False)
        if longest
    ]
    return max([proposal, *others], key=len), PROPOSAL_MAX_NEW_TOKENS


def check_server(
    base_url: str,
    model: str,
    mode: str = "completion",
    api_key: str | None = None,
    prompt: str = "Hello",
    timeout: float = SERVER_TIMEOUT,
) -> None:
    """Sends `prompt` (asking for one token) the way the run will.

    Raises:
        PreflightError: the server is down or slow, refuses the key, lacks the endpoint or
            the model, rejects the prompt, or answers with something that is not an
            OpenAI response.
    """
    import openai

    key = api_key or os.getenv("OPENAI_API_KEY")
    client = openai.OpenAI(
        base_url=base_url, api_key=key or "no-key", timeout=timeout, max_retries=0
    )
    endpoint = "/v1/completions" if mode == "completion" else "/v1/chat/completions"
    try:
        if mode == "completion":
            response = client.completions.create(model=model, prompt=prompt, max_tokens=1)
            texts = [choice.text for choice in response.choices]
        else:
            response = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], max_tokens=1
            )
            texts = [choice.message.content for choice in response.choices]
    except Exception as error:
        where = f"the server at {base_url}"
        problem = _server_problem(error, where, endpoint, model, mode, timeout, bool(key))
        raise PreflightError(problem) from None
    if not texts or any(text is None for text in texts):
        raise PreflightError(
            f"the server at {base_url} answered {endpoint} without any generated text"
        )


def _server_problem(
    error: Exception, where: str, endpoint: str, model: str, mode: str, timeout: float, keyed: bool
) -> str:
    """What a failed preflight request means, and what to do about it, in one line."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return (
            f"{where} did not answer within {timeout:.0f} s; check that it is up and not overloaded"
        )
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__ or error
        return f"cannot reach {where} ({_one_line(cause, 120)}); start it or fix --base-url"
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        hint = "the key was refused" if keyed else "OPENAI_API_KEY is not set"
        return (
            f"{where} refused the request (HTTP {error.status_code}: {_server_message(error)});"
            f" {hint}: set OPENAI_API_KEY to a key it accepts"
        )
    if isinstance(error, openai.NotFoundError):
        other = (
            "--mode chat for a chat-only server" if mode == "completion" else "--mode completion"
        )
        return (
            f"{where} answered 404 for {endpoint} with model {model!r}"
            f" ({_server_message(error)}); check --model, or use {other}"
        )
    if isinstance(error, openai.APIStatusError):
        return (
            f"{where} answered HTTP {error.status_code} to the run's longest prompt on {endpoint}:"
            f" {_server_message(error)}"
        )
    # malformed JSON, a body of another shape, ...
    return (
        f"{where} did not give an OpenAI response on {endpoint}"
        f" ({type(error).__name__}: {_one_line(error, 150)}); is --base-url an"
        " OpenAI-compatible API (usually ending in /v1)?"
    )


def check_llama_cpp(
    model_path: str | None,
    prompt: str,
    max_new_tokens: int,
    n_ctx: int,
    extra_buffer_types: bool | None = None,
    timeout: float = MODEL_TIMEOUT,
) -> int:
    """Loads the model in a child process, counts the prompt's tokens and generates one.

    Args:
        model_path: a GGUF file, or `None` for the embedded model.
        prompt: the run's longest prompt.
        max_new_tokens: the most tokens the run generates after it.
        n_ctx: the context size the run loads the model with.
        extra_buffer_types: as `LlamaCppCompletionLLM.extra_buffer_types`.
        timeout: seconds before the child is stopped.

    Returns:
        The prompt's token count.

    Raises:
        PreflightError: the model cannot load, crashes, is too slow, or the prompt does not
            fit its context.
    """
    request = json.dumps(
        {"model_path": model_path, "n_ctx": n_ctx, "extra_buffer_types": extra_buffer_types}
    )
    name = "the embedded model" if model_path is None else f"the model {model_path}"
    try:
        run = subprocess.run(
            [sys.executable, "-m", "distilabel_selfinstruct._preflight_child", request],
            input=prompt,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise PreflightError(
            f"{name} did not load and generate a token within {timeout:.0f} s"
        ) from None
    tokens = _prompt_tokens(run, name)
    if tokens + max_new_tokens > n_ctx:
        size = f"{tokens:,} tokens" if tokens < n_ctx else f"more than {n_ctx:,} tokens"
        raise PromptTooLong(
            f"the run's longest prompt is {size}; with up to {max_new_tokens:,} generated it"
            f" does not fit the {n_ctx:,}-token context of {name}; shorten the longest seed"
            " tasks"
        )
    return tokens


def _prompt_tokens(run: subprocess.CompletedProcess[str], name: str) -> int:
    """The prompt's token count the preflight child printed; `PreflightError` if it failed."""
    if run.returncode < 0:
        signal_name = signal.Signals(-run.returncode).name
        raise PreflightError(
            f"{name} crashed ({signal_name}) while generating its first token on this CPU;"
            " try DISTILABEL_SELFINSTRUCT_EXTRA_BUFFER_TYPES=0, or reinstall llama-cpp-python"
            ' with CMAKE_ARGS="-DGGML_NATIVE=OFF"'
        )
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        error = run.stderr.strip().splitlines()
        raise PreflightError(
            f"{name} failed to load: {_one_line(error[-1] if error else run.returncode)}"
        )
    return int(json.loads(lines[-1])["prompt_tokens"])
