"""Classification identification: is the task answered by a label from a fixed set?"""

import itertools
import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from distilabel.models.llms.utils import prepare_output
from distilabel.steps.base import StepInput
from distilabel.steps.tasks.base import Task
from pydantic import Field, PrivateAttr

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.prompts import render_prompt
from distilabel_selfinstruct.steps._base import PromptedTask

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput, GenerateOutput, StepColumns, StepOutput

__all__ = ["ClassificationIdentification", "parse_yes_no"]

# The Yes/No answer's token cap.
CLASSIFICATION_MAX_NEW_TOKENS = 3

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


@cache
def _calibration_set() -> dict[str, list[str]]:
    source = resources.files("distilabel_selfinstruct") / "prompts/classification_calibration.json"
    return json.loads(source.read_text(encoding="utf-8"))


def best_threshold(positives: list[float], negatives: list[float]) -> float:
    """The score threshold that best separates `positives` from `negatives` (the highest
    balanced accuracy; among ties the one nearest 0), a midpoint between two scores.

    Examples:
        >>> best_threshold([2.0, 3.0, 1.5], [-1.0, 1.0, -2.0])
        1.25
    """
    scores = sorted(set(positives + negatives))
    candidates = [(low + high) / 2 for low, high in itertools.pairwise(scores)] or [0.0]

    def balanced_accuracy(threshold: float) -> float:
        hits = sum(score > threshold for score in positives) / len(positives)
        rejections = sum(score <= threshold for score in negatives) / len(negatives)
        return (hits + rejections) / 2

    return max(candidates, key=lambda t: (balanced_accuracy(t), -abs(t)))


class ClassificationIdentification(PromptedTask, Task):
    """Decides, few-shot, whether each instruction is a classification task (one whose
    answer is a label from a small, fixed set).

    Two methods, our own prompts both:

    - `"likelihood"` (where the LLM can score a text: `LlamaCppCompletionLLM`): two
      numbered lists of worked examples, one of classification tasks and one of tasks
      answered in free text (`prompts/classification_task_lists.jinja2`); the instruction
      is a classification task when it is more likely as the next item of the first list
      than of the second, by more than a threshold. The threshold is calibrated when the
      task loads, on our own labelled instructions
      (`prompts/classification_calibration.json`, apart from the worked examples). A
      small base model judges much better this way than by answering a question
      (`benchmarks/classification.py`). The raw output is the log-likelihood ratio.
    - `"answer"` (the paper's way, any LLM): one few-shot list of tasks each followed by
      `Classification: Yes/No` (`prompts/classification_identification.jinja2`); the model
      answers. An answer that is neither gives `is_classification=None` and the reason.

    `method="auto"` (the default) picks `"likelihood"` when the LLM offers it.

    Runtime parameters:
        - `llm.generation_kwargs`: for the `"answer"` method; default to the paper's
          (temperature 0, 3 new tokens, stop at a newline or `Task`).

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

        ```text
        True None
        ```
    """

    method: Literal["auto", "likelihood", "answer"] = Field(
        default="auto",
        description="likelihood: compare the instruction's likelihood after two task lists;"
        " answer: ask Yes/No; auto: likelihood when the LLM can score texts.",
    )

    _threshold: float | None = PrivateAttr(default=None)

    @property
    def inputs(self) -> "StepColumns":
        return ["instruction"]

    @property
    def outputs(self) -> "StepColumns":
        return ["is_classification", "classification_error", "model_name"]

    def load(self) -> None:
        super().load()
        if self.method == "likelihood" and not self._scores_texts():
            raise ValueError(
                f"{type(self.llm).__name__} cannot score a text (no `continuation_logprob`);"
                " use method='answer'"
            )
        self._threshold = None

    def _scores_texts(self) -> bool:
        return callable(getattr(self.llm, "continuation_logprob", None))

    def _uses_likelihood(self) -> bool:
        return self.method == "likelihood" or (self.method == "auto" and self._scores_texts())

    def likelihood_ratios(self, instructions: list[str]) -> list[float]:
        """log P(instruction | classification list) - log P(instruction | free-text list),
        for each instruction (one list after the other, so each is evaluated once).
        """
        score = self.llm.continuation_logprob  # type: ignore[attr-defined]
        items = [_list_item(instruction) for instruction in instructions]
        classification = [score(_task_list(True), item) for item in items]
        return [
            first - score(_task_list(False), item)
            for first, item in zip(classification, items, strict=True)
        ]

    @property
    def threshold(self) -> float:
        """The likelihood ratio above which an instruction is a classification task,
        calibrated on `prompts/classification_calibration.json` at first use.
        """
        if self._threshold is None:
            calibration = _calibration_set()
            positives = calibration["classification"]
            ratios = self.likelihood_ratios(positives + calibration["not_classification"])
            self._threshold = best_threshold(ratios[: len(positives)], ratios[len(positives) :])
            step_logger(self).info(f"{self.name}: likelihood-ratio threshold {self._threshold:.3f}")
        return self._threshold

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        if not self._uses_likelihood():
            yield from super().process(inputs)
            return
        rows = []
        ratios = self.likelihood_ratios([row["instruction"] for row in inputs])
        for row, ratio in zip(inputs, ratios, strict=True):
            output: GenerateOutput = prepare_output([f"{ratio:.4f}"])
            rows += [
                {**row, **formatted, "model_name": self.llm.model_name}
                for formatted in self.format_generations(output, row)
            ]
        yield rows

    def _default_generation_kwargs(self) -> dict[str, Any]:
        return {
            "temperature": 0.0,
            "top_p": 1.0,
            "max_new_tokens": CLASSIFICATION_MAX_NEW_TOKENS,
            "stop": ["\n", "Task"],
        }

    def format_input(self, input: dict[str, Any]) -> "FormattedInput":
        if self._uses_likelihood():  # what is scored after each list
            return _list_item(input["instruction"])
        return self._prompt(
            "classification_identification", instruction=input["instruction"].strip()
        )

    def parse_generation(
        self, output: str | None, input: dict[str, Any] | None, truncated: bool
    ) -> dict[str, Any]:
        if self._uses_likelihood() and output is not None:
            return {
                "is_classification": float(output) > self.threshold,
                "classification_error": None,
            }
        is_classification, error = parse_yes_no(output)
        return {"is_classification": is_classification, "classification_error": error}


def _list_item(instruction: str) -> str:
    return f" {' '.join(instruction.split())}\n"


@cache
def _task_list(classification: bool) -> str:
    return render_prompt("classification_task_lists", classification=classification)
