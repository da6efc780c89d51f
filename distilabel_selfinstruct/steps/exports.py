"""The published dataset's shapes: one row per instance, fine-tuning records, rejections."""

import json
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from distilabel.constants import DISTILABEL_METADATA_KEY
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import GlobalStep, Step, StepInput
from pydantic import Field, PrivateAttr

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import REJECTED_ARTIFACT, SEED
from distilabel_selfinstruct.formats import (
    END_OF_TEXT,
    to_alpaca,
    to_messages,
    to_prompt_completion,
)

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

__all__ = [
    "REJECTED_COLUMNS",
    "CollectRejected",
    "FinetuningFormats",
    "FlattenInstances",
    "SelectColumns",
]

# The `rejected` config's schema: rejected instructions and instances share it.
REJECTED_COLUMNS = (
    "id",
    "instruction",
    "input",
    "output",
    "round",
    "most_similar_instruction",
    "most_similar_score",
    "rejected_by",
    "rejection_detail",
    "rejected_at",
)


def _rejected_row(record: dict[str, Any]) -> dict[str, Any]:
    """A rejection record in the `rejected` config's schema (texts never `None`)."""
    row = {column: record.get(column) for column in REJECTED_COLUMNS}
    row["id"] = None if row["id"] is None else str(row["id"])
    for column in ("input", "output", "rejection_detail"):
        row[column] = str(row[column] or "")
    return row


def _instance_rows(rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for row in rows:
        for instance in row.get("instances") or []:
            yield {
                "instruction_id": row.get("id"),
                "instruction": row["instruction"],
                "input": instance.get("input") or "",
                "output": instance["output"],
                "is_classification": row.get("is_classification"),
            }


class SelectColumns(Step):
    """Keeps `columns` of every row, in that order; unlike distilabel's `KeepColumns` it may
    keep `distilabel_metadata` (the token statistics of the earlier tasks), which no step
    declares as an output.

    Examples:
        ```python
        from distilabel_selfinstruct.steps.exports import SelectColumns

        step = SelectColumns(columns=["instruction", "distilabel_metadata"])
        step.load()
        print(next(step.process([{"instruction": "Add.", "id": "t1"}])))
        ```
    """

    columns: list[str]

    @property
    def inputs(self) -> "StepColumns":
        return {column: column != DISTILABEL_METADATA_KEY for column in self.columns}

    @property
    def outputs(self) -> "StepColumns":
        return list(self.columns)

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        yield [{column: row.get(column) for column in self.columns} for row in inputs]


class FlattenInstances(Step):
    """One row per instance, out of rows that hold a task's `instances` list.

    Input columns:
        - instruction (`str`), instances (`list[dict]`), id (`str`, optional),
          is_classification (`bool`, optional).

    Output columns:
        - instruction_id (`str`), instruction (`str`), input (`str`), output (`str`),
          is_classification (`bool`).

    Examples:
        ```python
        from distilabel_selfinstruct.steps.exports import FlattenInstances

        step = FlattenInstances()
        step.load()
        print(next(step.process([{"id": "t1", "instruction": "Add.", "instances": [
            {"input": "2 3", "output": "5"}, {"input": "1 1", "output": "2"}]}])))
        ```

        ```text
        [{'instruction_id': 't1', 'instruction': 'Add.', 'input': '2 3', 'output': '5', 'is_classification': None}, {'instruction_id': 't1', 'instruction': 'Add.', 'input': '1 1', 'output': '2', 'is_classification': None}]
        ```
    """

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "instances": True, "id": False, "is_classification": False}

    @property
    def outputs(self) -> "StepColumns":
        return ["instruction_id", "instruction", "input", "output", "is_classification"]

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        yield list(_instance_rows(inputs))


class FinetuningFormats(Step):
    """Fine-tuning records, one per instance, in three formats side by side: the paper's
    `prompt`/`completion` (see `to_prompt_completion`), Alpaca's `instruction`/`input`/
    `output` with its one-`text` layout, and chat `messages`. `build_self_instruct_pipeline`
    splits them into one config per format (`FINETUNING_CONFIGS`). The layout draws continue
    one `seed`ed sequence from batch to batch, and a record whose prompt/completion pair
    repeats an earlier one of the run is dropped, as in the paper: the output is the same
    as one pass over the whole dataset, while the step still works batch by batch (a
    `GlobalStep` would hold every later step back until the end of the run).

    Runtime parameters:
        - `seed`: seed of the layout draws.

    Input columns:
        - instruction (`str`), instances (`list[dict]`), id (`str`, optional).

    Output columns:
        - instruction_id (`str`), prompt (`str`), completion (`str`), instruction (`str`),
          input (`str`), output (`str`), text (`str`), messages (`list[dict]`).

    Examples:
        ```python
        from distilabel_selfinstruct.steps.exports import FinetuningFormats

        step = FinetuningFormats()
        step.load()
        rows = next(step.process([{"id": "t1", "instruction": "Add.", "instances": [
            {"input": "2 3", "output": "5"}]}]))
        print(rows[0]["prompt"], rows[0]["messages"])
        ```

        ```text
        Add.

        2 3

        Output: [{'role': 'user', 'content': 'Add.\\n\\n2 3'}, {'role': 'assistant', 'content': '5'}]
        ```
    """

    seed: RuntimeParameter[int] = Field(default=SEED, description="Seed of the layout draws.")
    end_of_text: str = END_OF_TEXT

    _rng: random.Random = PrivateAttr(default_factory=random.Random)
    _seen: set[tuple[str, str]] = PrivateAttr(default_factory=set)

    def load(self) -> None:
        super().load()
        self._rng = random.Random(self.seed)
        self._seen = set()

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "instances": True, "id": False}

    @property
    def outputs(self) -> "StepColumns":
        return [
            "instruction_id",
            "prompt",
            "completion",
            "instruction",
            "input",
            "output",
            "text",
            "messages",
        ]

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        ids = [row["instruction_id"] for row in _instance_rows(inputs)]
        paper = to_prompt_completion(inputs, self._rng, self.end_of_text, deduplicate=False)
        records = []
        for instruction_id, pair, alpaca, chat in zip(
            ids, paper, to_alpaca(inputs), to_messages(inputs), strict=True
        ):
            key = (pair["prompt"], pair["completion"])
            if key not in self._seen:
                self._seen.add(key)
                records.append({"instruction_id": instruction_id, **pair, **alpaca, **chat})
        yield records


class CollectRejected(GlobalStep):
    """Gathers the `rejected` artifacts of `sources` (the filter steps) into rows with one
    schema (`REJECTED_COLUMNS`): every rejected instruction or instance with its rule.

    Connect it after the last of those steps: as a `GlobalStep` it runs once every row has
    gone through them, so every rejection is on disk. The rows it receives are only that
    signal. It needs the pipeline's artifacts directory, so it runs inside a pipeline only.

    Runtime parameters:
        - `sources`: the names of the steps whose rejections are collected, in order.

    Output columns:
        - id, instruction, input, output, round, most_similar_instruction,
          most_similar_score, rejected_by, rejection_detail, rejected_at.

    Examples:
        ```python
        from distilabel.pipeline import Pipeline
        from distilabel.steps import LoadDataFromDicts
        from distilabel_selfinstruct import CollectRejected, InstructionFilter

        if __name__ == "__main__":
            with Pipeline(name="rejections") as pipeline:
                rows = LoadDataFromDicts(data=[{"instruction": "Draw a picture of a cat in the garden."},
                                               {"instruction": "Name three rivers in Africa."}])
                rules = InstructionFilter(name="rules")
                rejected = CollectRejected(name="rejected", sources=["rules"])
                rows >> rules >> rejected
            distiset = pipeline.run(use_cache=False)
            # A single leaf step makes the "default" config.
            print(list(distiset["default"]["train"]["rejected_by"]))  # ["blocked_keyword"]
        ```

        ```text
        ['blocked_keyword']
        ```
    """

    sources: RuntimeParameter[list[str]] | None = Field(
        default_factory=list, description="Steps whose rejected artifacts are collected."
    )

    @property
    def inputs(self) -> "StepColumns":
        return []

    @property
    def outputs(self) -> "StepColumns":
        return list(REJECTED_COLUMNS)

    def process_applying_mappings(self, *args: list[dict[str, Any]]) -> "StepOutput":
        """As distilabel's, also when no row came in (every row was rejected): its rows
        are not made from input rows, and distilabel's version divides by their number.
        """
        if any(args):
            yield from super().process_applying_mappings(*args)
            return
        for rows in self.process(*args):
            yield [{self.output_mappings.get(k, k): v for k, v in row.items()} for row in rows]

    def process(self, *inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        if self.artifacts_directory is None:
            raise RuntimeError(f"{self.name} reads the pipeline's artifacts: run it in a pipeline")
        rows = []
        for source in self.sources or []:
            path = self.artifacts_directory.parent / source / REJECTED_ARTIFACT / "rejected.jsonl"
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as handle:
                rows += [_rejected_row(json.loads(line)) for line in handle]
        step_logger(self).info(
            f"{self.name}: {len(rows)} rejections from {', '.join(self.sources or [])}"
        )
        yield rows
