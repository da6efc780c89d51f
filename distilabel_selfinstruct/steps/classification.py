"""Classification identification: is the task answered by a label from a fixed set?"""

import re
from typing import TYPE_CHECKING, Any

from distilabel.steps.tasks.base import Task

from distilabel_selfinstruct.steps._base import PromptedTask

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput, StepColumns

__all__ = ["ClassificationIdentification", "parse_yes_no"]

_YES = {"yes", "y", "yeah", "yep", "true", "correct"}
_NO = {"no", "n", "nope", "false", "not", "incorrect"}
_FIRST_WORD = re.compile(r"[\W_]*([^\W_]+)")


def parse_yes_no(answer: str | None) -> tuple[bool | None, str | None]:
    """Reads a yes/no answer: `(True, None)`, `(False, None)` or `(None, reason)`.

    The first word decides, in any case and with any punctuation around it.

    Examples:
        >>> parse_yes_no(" Yes")
        (True, None)
        >>> parse_yes_no("no.")
        (False, None)
        >>> parse_yes_no(" Maybe")
        (None, "unparseable answer: 'Maybe'")
    """
    if answer is None:
        return None, "the model returned no text"
    match = _FIRST_WORD.match(answer.lower())
    word = match.group(1) if match else ""
    if word in _YES:
        return True, None
    if word in _NO:
        return False, None
    shown = answer.strip()[:80]
    return None, f"unparseable answer: {shown!r}" if shown else "empty answer"


class ClassificationIdentification(PromptedTask, Task):
    """Asks the model, few-shot, whether each instruction is a classification task (one
    whose answer is a label from a small, fixed set).

    The prompt lists our own worked examples (`prompts/classification_identification.jinja2`)
    and the model answers Yes or No. An answer that is neither gives
    `is_classification=None` and the reason, never an exception.

    Runtime parameters:
        - `llm.generation_kwargs`: default to the paper's (temperature 0, 3 new tokens,
          stop at a newline or `Task`).

    Input columns:
        - instruction (`str`)

    Output columns:
        - is_classification (`bool` or `None`)
        - classification_error (`str` or `None`): why the answer could not be read.
        - model_name (`str`)

    Examples:
        ```python
        from distilabel_selfinstruct import ClassificationIdentification, LlamaCppCompletionLLM

        task = ClassificationIdentification(llm=LlamaCppCompletionLLM())
        task.load()
        rows = next(task.process([{"instruction": "Is the review positive or negative?"}]))
        print(rows[0]["is_classification"], rows[0]["classification_error"])
        ```
    """

    @property
    def inputs(self) -> "StepColumns":
        return ["instruction"]

    @property
    def outputs(self) -> "StepColumns":
        return ["is_classification", "classification_error", "model_name"]

    def _default_generation_kwargs(self) -> dict[str, Any]:
        return {"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 3, "stop": ["\n", "Task"]}

    def format_input(self, input: dict[str, Any]) -> "FormattedInput":
        return self._prompt(
            "classification_identification", instruction=input["instruction"].strip()
        )

    def format_output(
        self, output: str | None, input: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        is_classification, error = parse_yes_no(output)
        return {"is_classification": is_classification, "classification_error": error}
