"""The child process of `preflight.check_llama_cpp`: loads the model, prints the prompt's
token count (JSON) and generates one token. A crash here cannot take the run down.

    python -m distilabel_selfinstruct._preflight_child '{"model_path": null, ...}' < prompt
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from distilabel_selfinstruct._compat import llama_cpp_model
from distilabel_selfinstruct.llms import LlamaCppCompletionLLM

# Characters tokenized at most: far more than any context holds, far less than a runaway
# seed file (tokenizing 10 MB takes longer than the preflight may).
_MAX_CHARS_PER_TOKEN = 32


def _child(request: dict[str, Any], prompt: str) -> None:
    """Loads the model, prints the prompt's token count (at least `n_ctx` when it is too
    long to matter), generates one token.
    """
    llm = LlamaCppCompletionLLM(
        model_path=request["model_path"],
        n_ctx=request["n_ctx"],
        extra_buffer_types=request["extra_buffer_types"],
    )
    llm.load()
    model = llama_cpp_model(llm)
    tokens = model.tokenize(prompt[: request["n_ctx"] * _MAX_CHARS_PER_TOKEN].encode("utf-8"))
    if len(tokens) < request["n_ctx"] and len(prompt) > request["n_ctx"] * _MAX_CHARS_PER_TOKEN:
        tokens = model.tokenize(prompt.encode("utf-8"))
    if len(tokens) < request["n_ctx"]:
        model.create_completion(prompt=tokens[-64:], max_tokens=1, temperature=0)
    print(json.dumps({"prompt_tokens": len(tokens)}), flush=True)


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]), sys.stdin.read())
    sys.stdout.flush()
    os._exit(0)  # skip the model's teardown
