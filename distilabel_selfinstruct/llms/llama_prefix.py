"""Few-shot prefixes evaluated once by llama.cpp, with outputs that do not depend on history.

Every Self-Instruct prompt but the proposal one is a long fixed text (the instructions and
worked examples) followed by a short part of its own (`Task: ...`). llama.cpp keeps the
evaluated tokens in its KV cache; `PrefixReuse` keeps the fixed part there and evaluates only
each prompt's own part.

The fixed part of a prompt is found in the prompt alone: the text up to and including its
last blank line. Its tokens are always evaluated the same way (from an empty context, in one
call) and the KV cache is only ever truncated back to them, never restored from a copy, so a
prompt gives the same logits, hence the same text for a given seed, whatever was generated
before it. (The split itself changes the floating-point sums a little compared with one
call over the whole prompt; it is the same split every time.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from distilabel_selfinstruct._compat import llama_cpp_decode_all_logits

__all__ = ["PrefixReuse", "fixed_prefix"]

_SEPARATOR = "\n\n"


def fixed_prefix(prompt: str) -> str:
    """The part of `prompt` treated as shared with other prompts: up to its last blank line.

    Examples:
        >>> fixed_prefix("Examples.\\n\\nTask: a\\nAnswer: b\\n\\nTask: c\\nAnswer:")
        'Examples.\\n\\nTask: a\\nAnswer: b\\n\\n'
        >>> fixed_prefix("1. Say hi.\\n2.")
        ''
    """
    end = prompt.rfind(_SEPARATOR)
    return "" if end < 0 else prompt[: end + len(_SEPARATOR)]


class PrefixReuse:
    """Prepares a `llama_cpp.Llama` for a completion so that only the prompt's own part is
    evaluated when its fixed prefix is the one already in the KV cache.

    Call `prepare(prompt)` right before `create_completion(prompt=prompt, ...)`; llama-cpp-
    python then reuses exactly the prepared tokens; with `enabled` false every prompt and
    scored text is evaluated from an empty context. `prompt_tokens_evaluated` counts the
    prompt tokens llama.cpp actually evaluated, `prompt_tokens` those of the prompts and
    scored texts (what evaluating each from an empty context would cost).
    """

    def __init__(self, model: Any, enabled: bool = True) -> None:
        self._model = model
        self.enabled = enabled
        self._prefix: list[int] | None = None
        self._fixed_tokens: dict[str, list[int]] = {}
        self.prompt_tokens_evaluated = 0
        self.prompt_tokens = 0

    def _tokenize(self, text: str) -> list[int]:
        return self._model.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def _tokenize_fixed(self, text: str) -> list[int]:
        """The tokens of a fixed prefix or scoring context, tokenized once (a few hundred
        tokens, the same for every prompt of a template).
        """
        if text not in self._fixed_tokens:
            if len(self._fixed_tokens) >= 8:
                self._fixed_tokens.pop(next(iter(self._fixed_tokens)))
            self._fixed_tokens[text] = self._tokenize(text)
        return self._fixed_tokens[text]

    def prepare(self, prompt: str) -> int:
        """Leaves the model's context holding the prompt's fixed prefix, or nothing;
        returns the prompt's length in tokens.
        """
        tokens = self._tokenize(prompt)
        self.prompt_tokens += len(tokens)
        prefix_text = fixed_prefix(prompt)
        prefix = self._tokenize_fixed(prefix_text) if prefix_text else []
        shared = prefix and len(prefix) < len(tokens) and tokens[: len(prefix)] == prefix
        if not (self.enabled and shared):
            self.reset()
            self.prompt_tokens_evaluated += len(tokens)
            return len(tokens)
        self._hold(prefix)
        self.prompt_tokens_evaluated += len(tokens) - len(prefix)
        return len(tokens)

    def continuation_logprob(self, context: str, continuation: str) -> float:
        """The log probability of `continuation` right after `context`, with `context`
        evaluated once for all the continuations scored after it.

        Raises:
            ValueError: when `context` and `continuation` merge into one token at their
                boundary (end `context` with a space or a newline), or `continuation` is
                empty.
        """
        context_tokens = self._tokenize_fixed(context)
        tokens = self._tokenize(context + continuation)
        if len(tokens) <= len(context_tokens) or tokens[: len(context_tokens)] != context_tokens:
            raise ValueError(
                f"the continuation {continuation!r} does not start a new token after the context"
            )
        # The last context token is evaluated again with the continuation: its logits
        # predict the continuation's first token.
        self._hold(context_tokens[:-1])
        scored = tokens[len(context_tokens) - 1 :]
        logits = llama_cpp_decode_all_logits(self._model, scored).astype(np.float64)
        self.prompt_tokens_evaluated += len(scored)
        self.prompt_tokens += len(tokens)
        maxima = logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits - maxima).sum(axis=1)) + maxima[:, 0]
        rows = np.arange(len(scored) - 1)
        return float((logits[rows, scored[1:]] - log_norm[:-1]).sum())

    def _hold(self, prefix: list[int]) -> None:
        """Leaves exactly `prefix` in the context, evaluated from an empty one in one call."""
        if prefix != self._prefix or not self.enabled:
            self._model.reset()
            self._model.eval(prefix)
            self._prefix = prefix
            self.prompt_tokens_evaluated += len(prefix)
        # llama-cpp-python matches a prompt against the first `n_tokens` cached tokens and
        # removes the cache past them before evaluating the rest.
        self._model.n_tokens = len(prefix)

    def reset(self) -> None:
        """An empty context (for prompts with no fixed prefix, and chat inputs)."""
        self._model.reset()
        self._prefix = None

    def order(self, prompts: list[Any]) -> list[int]:
        """The indices of `prompts` grouped by fixed prefix (stable), so that a batch that
        mixes two prompt templates evaluates each prefix once.
        """
        keys = [fixed_prefix(p) if isinstance(p, str) else "" for p in prompts]
        first_seen = {key: index for index, key in reversed(list(enumerate(keys)))}
        return sorted(range(len(prompts)), key=lambda index: first_seen[keys[index]])
