"""The prompt templates (jinja2), one file per prompt, rendered by name."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

__all__ = ["render_prompt"]

_ENVIRONMENT = Environment(undefined=StrictUndefined, keep_trailing_newline=False)


@cache
def _template(name: str) -> Template:
    source = (resources.files(__package__) / f"{name}.jinja2").read_text(encoding="utf-8")
    return _ENVIRONMENT.from_string(source)


def render_prompt(name: str, **variables: Any) -> str:
    """Renders the template `prompts/<name>.jinja2` with `variables`.

    Examples:
        >>> print(render_prompt("instruction_proposal", tasks=["Say hi.", "Add 2 and 3."],
        ...                     classification_only=False))
        Below is a numbered list of varied tasks that people ask a capable assistant to do.
        1. Say hi.
        2. Add 2 and 3.
        3.
    """
    return _template(name).render(**variables)
