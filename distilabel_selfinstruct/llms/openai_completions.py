"""Any OpenAI-compatible server in completion mode: the exact prompt text and its stop
sequences on `/v1/completions` (distilabel's `OpenAILLM` drops the stop sequences there),
or one user message on `/v1/chat/completions` for chat models.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms import OpenAILLM
from distilabel.models.llms.utils import prepare_output
from distilabel.typing import FormattedInput, GenerateOutput
from pydantic import Field, NonNegativeInt, PrivateAttr, SecretStr, validate_call

from distilabel_selfinstruct._compat import (
    openai_async_client,
    openai_chat_completion,
    openai_usage,
)
from distilabel_selfinstruct.llms.http_transport import LeanJSONClient
from distilabel_selfinstruct.llms.journaled import JournaledGeneration, PromptMode

__all__ = ["OpenAICompletionLLM"]

# How completion requests reach the server (see `OpenAICompletionLLM.http_client`).
HTTPClient = Literal["auto", "lean", "openai"]

# The loggers that write one line per HTTP request at INFO level.
_PER_REQUEST_LOGGERS = ("httpx", "httpx2", "httpcore", "openai._base_client")


class OpenAICompletionLLM(JournaledGeneration, OpenAILLM):
    """Any OpenAI-compatible server (vLLM, llama.cpp's server, TGI, OpenAI) in completion mode.

    A string prompt goes to `/v1/completions` with its stop sequences (`mode="completion"`,
    for base models), or to `/v1/chat/completions` as one user message (`mode="chat"`).
    The API key comes from `OPENAI_API_KEY`; local servers that need none accept the
    placeholder used when it is unset. `max_concurrency` caps the requests in flight (by
    default distilabel sends a whole batch at once). With `journal_dir` set, finished
    generations are recorded so that a rerun after a crash repeats none (see
    `JournaledGeneration`).

    Completion requests to an `http://` server go through a lean keep-alive client
    (`llms.http_transport`, about 20 times less CPU per request than the `openai` SDK, so
    that a fast local server is not kept waiting); `https://` servers, chat requests,
    `default_headers` and hosts reached through an `HTTP_PROXY` go through the SDK.
    `http_client="openai"` or `"lean"` forces one.

    Examples:
        ```python
        from distilabel_selfinstruct import OpenAICompletionLLM

        llm = OpenAICompletionLLM(model="my-base-model", base_url="http://127.0.0.1:8000/v1")
        llm.load()  # no request yet: use it as the `llm` of any Self-Instruct task
        print(llm.model_name, llm.mode)
        ```

        ```text
        my-base-model completion
        ```
    """

    mode: PromptMode = "completion"
    max_concurrency: RuntimeParameter[int] | None = Field(
        default=None,
        description="The most requests in flight at once (None: a whole batch at once).",
    )
    api_key: RuntimeParameter[SecretStr] | None = Field(
        default_factory=lambda: SecretStr(os.getenv("OPENAI_API_KEY", "no-key")),
        description="The API key; read from OPENAI_API_KEY.",
    )

    http_client: RuntimeParameter[HTTPClient] = Field(
        default="auto",
        description="'lean' (a keep-alive HTTP/1.1 client for http:// servers), 'openai' (the"
        " SDK: https, proxies, default_headers), or 'auto': lean for completion requests to"
        " an http:// server without default_headers or a proxy.",
    )

    _loop_state: tuple[asyncio.AbstractEventLoop, _LoopState] | None = PrivateAttr(default=None)

    def load(self) -> None:
        """Creates the clients; the HTTP libraries' one line per request stays out of the
        run's log (distilabel silences `httpx`, but openai 3.x logs through `httpx2`)."""
        super().load()
        for name in _PER_REQUEST_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))

    def unload(self) -> None:
        """Closes the lean client's connections, then unloads."""
        if self._loop_state is not None and self._loop_state[1].lean is not None:
            if not self._loop_state[0].is_closed():
                self._loop_state[1].lean.close()
            self._loop_state = None
        super().unload()

    def _journal_identity(self) -> dict[str, Any]:
        return {"llm": "openai", "base_url": self.base_url, "model": self.model, "mode": self.mode}

    @validate_call
    async def agenerate(  # type: ignore[override]
        self,
        input: FormattedInput,
        num_generations: int = 1,
        max_new_tokens: NonNegativeInt = 128,
        frequency_penalty: float = 0.0,
        presence_penalty: float = 0.0,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> GenerateOutput:
        """Generates `num_generations` continuations of one input.

        Args:
            input: a prompt (string) or a chat conversation.
            num_generations: continuations to ask for.
            max_new_tokens: the most tokens to generate.
            frequency_penalty: the server's frequency penalty.
            presence_penalty: the server's presence penalty.
            temperature: sampling temperature.
            top_p: nucleus sampling mass.
            stop: sequences that end the generation.
            seed: sampling seed, where the server honours it.
            extra_body: extra fields for the request body.

        Returns:
            The texts and token counts.
        """
        sampling = {
            "max_new_tokens": max_new_tokens,
            "frequency_penalty": frequency_penalty,
            "presence_penalty": presence_penalty,
            "temperature": temperature,
            "top_p": top_p,
            "stop": stop,
        }
        async with self._in_flight():
            if isinstance(input, str) and self.mode == "completion":
                return await self._complete(input, num_generations, sampling, seed, extra_body)
            messages = [{"role": "user", "content": input}] if isinstance(input, str) else input
            return await openai_chat_completion(
                self,
                input=messages,
                num_generations=num_generations,
                **sampling,
                extra_body={**(extra_body or {}), **({"seed": seed} if seed is not None else {})},
            )

    async def _complete(
        self,
        prompt: str,
        num_generations: int,
        sampling: dict[str, Any],
        seed: int | None,
        extra_body: dict[str, Any] | None,
    ) -> GenerateOutput:
        """One `/v1/completions` request: the raw prompt with its stop sequences."""
        max_tokens = sampling.pop("max_new_tokens")
        lean = self._state().lean
        if lean is not None:
            payload = {"model": self.model, "prompt": prompt, "n": num_generations,
                       "max_tokens": max_tokens, "seed": seed, **sampling, **(extra_body or {})}  # fmt: skip
            answer = await lean.post(
                "/completions", {k: v for k, v in payload.items() if v is not None}
            )
            usage = answer.get("usage") or {}
            return prepare_output(
                [choice["text"] for choice in sorted(answer["choices"], key=lambda c: c["index"])],
                [usage.get("prompt_tokens", 0)],
                [usage.get("completion_tokens", 0)],
            )
        completion = await openai_async_client(self).completions.create(
            prompt=prompt,
            model=self.model,
            n=num_generations,
            max_tokens=max_tokens,
            seed=seed,
            extra_body=extra_body,
            **sampling,
        )
        statistics = openai_usage(self, completion)
        return prepare_output(
            [choice.text for choice in completion.choices],
            statistics["input_tokens"],
            statistics["output_tokens"],
        )

    def _in_flight(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """At most `max_concurrency` requests in flight."""
        limit = self._state().limit
        return contextlib.nullcontext() if limit is None else limit

    def _state(self) -> _LoopState:
        """The running event loop's semaphore and lean client (distilabel may run its loops
        one after another; asyncio objects belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._loop_state is None or self._loop_state[0] is not loop:
            limit = asyncio.Semaphore(self.max_concurrency) if self.max_concurrency else None
            lean = None
            if self._uses_lean_client():
                key = self.api_key.get_secret_value() if self.api_key else None
                lean = LeanJSONClient(str(self.base_url), key, self.timeout, self.max_retries)
            self._loop_state = (loop, _LoopState(limit, lean))
        return self._loop_state[1]

    def _uses_lean_client(self) -> bool:
        if self.http_client != "auto":
            return self.http_client == "lean"
        url = str(self.base_url or "")
        if not url.startswith("http://") or self.mode != "completion" or self.default_headers:
            return False
        # the lean client goes straight to the server: a proxy the environment names for
        # this host is the SDK's to use
        return "http" not in getproxies() or bool(proxy_bypass(urlsplit(url).hostname or ""))


class _LoopState(NamedTuple):
    limit: asyncio.Semaphore | None
    lean: LeanJSONClient | None
