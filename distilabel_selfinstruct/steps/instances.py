"""Instance generation: input-first for ordinary tasks, output-first for classification."""

import re
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import StepInput
from distilabel.steps.tasks.base import Task
from pydantic import Field

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import MAX_INSTANCES_PER_TASK
from distilabel_selfinstruct.steps._base import PromptedTask
from distilabel_selfinstruct.steps.filters import instance_rejection

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput, StepColumns, StepOutput

__all__ = ["InstanceGeneration", "parse_input_first", "parse_output_first"]

# The token cap of one instance generation.
INSTANCE_MAX_NEW_TOKENS = 350

_EXAMPLE_MARKER = re.compile(r"Example\s*\d+\s*[:.]?")
# `Output:` and `Input:`, also numbered (`Output 1:`), as the models write them.
_OUTPUT = re.compile(r"Output\s*\d*\s*:")
_INPUT = re.compile(r"^\s*Input\s*\d*\s*:")
_NEXT_FIELD = re.compile(r"\n\s*(?:Input|Output)\s*\d*\s*:")
_CLASS_LABEL = re.compile(r"Class label\s*:")
# How a task without a usable instance is generated again (with a seed per attempt).
_RETRY_SAMPLING = {"temperature": 0.7, "top_p": 0.95}
# One line `Name: text` (a name of at most three words), nothing else.
_LONE_FIELD = re.compile(r"[A-Z][\w'-]*(?: [\w'-]+){0,2}\s*:[ \t]*([^\n]+)")


def _instance_from(piece: str) -> dict[str, str] | None:
    """`{input, output}` from `[Input:] ... Output: ...`; `None` without an output."""
    parts = _OUTPUT.split(piece, maxsplit=1)
    if len(parts) < 2:
        return None
    given = _INPUT.sub("", parts[0], count=1).strip()
    output = _NEXT_FIELD.split(parts[1], maxsplit=1)[0].strip()
    return {"input": given, "output": output}


def _unmarked_output(piece: str) -> dict[str, str] | None:
    """An input-free instance from a piece with no `Input:` and no `Output:`: its text, or
    the text after its label when it is one `Name: text` line; `None` when empty.
    """
    text = piece.strip()
    if not text or _INPUT.match(text):
        return None
    lone = _LONE_FIELD.fullmatch(text)
    return {"input": "", "output": lone.group(1).strip() if lone else text}


def _usable(instances: list[dict[str, str]]) -> bool:
    return any(instance_rejection(instance) is None for instance in instances)


def _complete_pieces(pieces: list[str], truncated: bool) -> list[str]:
    """The pieces of a generation minus the last one when the token limit cut it."""
    return pieces[:-1] if truncated else pieces


def parse_input_first(
    generation: str | None, truncated: bool = False, unmarked_outputs: bool = True
) -> list[dict[str, str]]:
    """Instances from an input-first generation.

    With `Example k` markers (`Example k:` and `Example k.` too), each piece gives one
    instance: the input is the text before `Output:` (a leading `Input:` removed; named
    fields such as `Sentence:` kept), the output the text after it up to any later `Input:`
    or `Output:` line. `Input k:` and `Output k:` are read like `Input:` and `Output:`.
    Without markers, a text with `Output:` gives one instance; anything else gives none.
    Pieces without `Output:` are skipped, except in a generation that has `Example k`
    markers and no `Output:` at all: small models often write the answer to a task that
    needs no input that way (`Example 1` then `Story: Once upon a time...`), so with
    `unmarked_outputs` (the default; `False` parses as the paper does) each such piece is an
    input-free output: its text, without its label when it is one `Name: text` line. A
    generation cut by the token limit loses its last piece (the cut one), never a complete
    instance.

    Examples:
        >>> parse_input_first("Example 1\\nInput: 2 + 2\\nOutput: 4\\nExample 2\\nInput: 3 + 5\\nOutput: 8")
        [{'input': '2 + 2', 'output': '4'}, {'input': '3 + 5', 'output': '8'}]
        >>> parse_input_first("Example 1\\nInput: 2 + 2\\nOutput: 4\\nExample 2\\nInput: 3 +", truncated=True)
        [{'input': '2 + 2', 'output': '4'}]
        >>> parse_input_first(" Output: Be kind to yourself.")
        [{'input': '', 'output': 'Be kind to yourself.'}]
        >>> parse_input_first("Example 1\\nPoem: Rain on the roof, a soft drum.\\n\\n")
        [{'input': '', 'output': 'Rain on the roof, a soft drum.'}]
    """
    if not generation:
        return []
    if _EXAMPLE_MARKER.search(generation):
        pieces = _EXAMPLE_MARKER.split(generation)[1:]
    elif _OUTPUT.search(generation):
        pieces = [generation]
    else:
        return []
    pieces = _complete_pieces(pieces, truncated)
    if unmarked_outputs and not _OUTPUT.search(generation):
        return [instance for piece in pieces if (instance := _unmarked_output(piece))]
    return [instance for piece in pieces if (instance := _instance_from(piece))]


def parse_output_first(generation: str | None, truncated: bool = False) -> list[dict[str, str]]:
    """Instances from an output-first (classification) generation.

    Split at `Class label:`; in each piece the first line is the label (the output) and
    the remaining lines the input (possibly empty). Pieces with an empty label are
    skipped; a generation cut by the token limit loses its last piece (the cut one).

    Examples:
        >>> parse_output_first("Class label: Spam\\nEmail: Win a prize now!\\nClass label: Not spam\\nEmail: Lunch at noon?")
        [{'input': 'Email: Win a prize now!', 'output': 'Spam'}, {'input': 'Email: Lunch at noon?', 'output': 'Not spam'}]
    """
    if not generation:
        return []
    instances = []
    for piece in _complete_pieces(_CLASS_LABEL.split(generation)[1:], truncated):
        label, _, given = piece.strip().partition("\n")
        if label.strip():
            instances.append({"input": given.strip(), "output": label.strip()})
    return instances


class InstanceGeneration(PromptedTask, Task):
    """Generates `{input, output}` instances for each instruction.

    Ordinary tasks get the input-first prompt (worked examples, then the task: the model
    writes inputs and their outputs); classification tasks get the output-first prompt
    (each class label, then an input of that class), which avoids inputs biased to one
    label. A row with `is_classification` missing or `None` is treated as ordinary.

    Unless `beyond_paper` is false, a task whose greedy generation gives no instance that
    the instance filter's rules keep (`filters.instance_rejection`) is generated again with
    sampling (temperature 0.7, top_p 0.95, the run's seed plus the attempt number), up to
    `retries` times; its raw output is then the last attempt's.

    Attributes:
        max_instances: the most instances asked for; generation stops at
            `Example <max_instances + 1>`.

    Runtime parameters:
        - `llm.generation_kwargs`: default to the paper's (temperature 0, top_p 0,
          presence penalty 1.5, 350 new tokens, stop at the next example or `Task:`; with
          LLMs that take `max_block_repeats`, also at the third copy of a two-line block,
          i.e. a generation that loops). The
          paper lowers the limit to 300 for request batches holding a classification task;
          one limit is used here for every row.

    Input columns:
        - instruction (`str`)
        - is_classification (`bool`, optional)

    Output columns:
        - instances (`list[dict]`): `{input, output}` pairs (empty when none parsed).
        - model_name (`str`)

    Examples:
        ```python
        from distilabel_selfinstruct import InstanceGeneration, LlamaCppCompletionLLM

        task = InstanceGeneration(llm=LlamaCppCompletionLLM())
        task.load()
        rows = next(task.process([{"instruction": "Give the plural of the noun.",
                                   "is_classification": False}]))
        print(rows[0]["instances"])
        ```

        ```text
        [{'input': '...', 'output': '...'}...]
        ```
    """

    max_instances: RuntimeParameter[int] = Field(
        default=MAX_INSTANCES_PER_TASK, description="The most instances asked for per task."
    )
    beyond_paper: RuntimeParameter[bool] = Field(
        default=True,
        description="Read the pieces of an `Example k` generation with no `Output:` at all as"
        " input-free outputs (see `parse_input_first`), and sample again for tasks left"
        " without a usable instance (`retries`); False does as the paper does.",
    )
    retries: RuntimeParameter[int] = Field(
        default=2,
        description="Sampled attempts (temperature 0.7, a seed per attempt) for a task whose"
        " greedy generation gave no instance that the instance filter's rules keep.",
    )

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "is_classification": False}

    @property
    def outputs(self) -> "StepColumns":
        return ["instances", "model_name"]

    def _default_generation_kwargs(self) -> dict[str, Any]:
        return {
            "temperature": 0.0,
            "top_p": 0.0,
            "frequency_penalty": 0.0,
            "presence_penalty": 1.5,
            "max_new_tokens": INSTANCE_MAX_NEW_TOKENS,
            "stop": [f"Example {self.max_instances + 1}", "Task:"],
            # a generation that loops stops at the third copy of an instance (llama.cpp)
            "max_block_repeats": 3,
        }

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        rows = next(super().process(inputs))
        for attempt in range(1, self.retries + 1 if self.beyond_paper else 1):
            empty = [index for index, row in enumerate(rows) if not _usable(row["instances"])]
            if not empty:
                break
            kwargs = {**self.llm.get_generation_kwargs(), **_RETRY_SAMPLING}  # type: ignore[attr-defined]
            if "seed" in kwargs:
                kwargs["seed"] = int(kwargs["seed"]) + attempt
            outputs = self.llm.generate_outputs(
                inputs=[self.format_input(inputs[index]) for index in empty], **kwargs
            )
            for index, output in zip(empty, outputs, strict=True):
                [formatted] = self.format_generations(output, inputs[index])
                rows[index] = {**rows[index], **formatted}
            step_logger(self).info(
                f"{self.name}: attempt {attempt + 1} for {len(empty)} task(s) without a usable"
                f" instance; {sum(not _usable(rows[i]['instances']) for i in empty)} still without"
            )
        yield rows

    def format_input(self, input: dict[str, Any]) -> "FormattedInput":
        template = (
            "instance_output_first" if input.get("is_classification") else "instance_input_first"
        )
        return self._prompt(template, instruction=input["instruction"].strip())

    def parse_generation(
        self, output: str | None, input: dict[str, Any] | None, truncated: bool
    ) -> dict[str, Any]:
        if (input or {}).get("is_classification"):
            return {"instances": parse_output_first(output, truncated=truncated)}
        instances = parse_input_first(
            output, truncated=truncated, unmarked_outputs=self.beyond_paper
        )
        return {"instances": instances}
