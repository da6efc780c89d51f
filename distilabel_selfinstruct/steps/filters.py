"""The paper's heuristic filters: on proposed instructions, and on generated instances."""

import random
import re
import string
from functools import cache
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import Step, StepInput
from pydantic import BaseModel, Field

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import MAX_INSTANCES_PER_TASK, SEED
from distilabel_selfinstruct.prompts import render_prompt
from distilabel_selfinstruct.quality_rules import WorkedExamples, instruction_problem, repeats_input
from distilabel_selfinstruct.steps._base import RejectionLog

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

__all__ = [
    "DEFAULT_BLOCKED_KEYWORDS",
    "InstanceFilter",
    "InstructionFilter",
    "InstructionRules",
    "instance_rejection",
]

# Things a text-only model cannot do (the paper's list).
DEFAULT_BLOCKED_KEYWORDS = [
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
    "map", "maps", "draw", "plot", "go to",
]  # fmt: skip


class InstructionRules(BaseModel):
    """The paper's heuristic rules on proposed instructions, with their options; shared by
    `InstructionFilter` and `SelfInstructBootstrap`.

    Rules, checked in this order (the first that holds is recorded): `too_short` (fewer
    than `min_words` words, whitespace split), `too_long` (more than `max_words`),
    `blocked_keyword` (any of `blocked_keywords` as a whole word, any case),
    `blocked_prefix` (starts with one of `blocked_prefixes`), `leading_punctuation`,
    `non_ascii_start`; then, unless `beyond_paper` is false, `missing_context`,
    `physical_action` and `about_the_model` (`quality_rules.instruction_problem`). A rule is
    off when its option is empty or false.
    """

    min_words: RuntimeParameter[int] = Field(
        default=4, description="Fewest words an instruction may have (the paper drops <= 3)."
    )
    max_words: RuntimeParameter[int] = Field(
        default=150, description="Most words an instruction may have."
    )
    blocked_keywords: RuntimeParameter[list[str]] | None = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED_KEYWORDS),
        description="Whole words (any case) that reject an instruction.",
    )
    blocked_prefixes: RuntimeParameter[list[str]] | None = Field(
        default_factory=lambda: ["Write a program"],
        description="Prefixes that reject an instruction.",
    )
    drop_leading_punctuation: RuntimeParameter[bool] = Field(
        default=True, description="Reject instructions that start with punctuation."
    )
    drop_non_ascii_start: RuntimeParameter[bool] = Field(
        default=True, description="Reject instructions whose first character is not ASCII."
    )
    beyond_paper: RuntimeParameter[bool] = Field(
        default=True,
        description="Also apply the rules beyond the paper (missing_context, physical_action,"
        " about_the_model; see quality_rules); False gives the paper's filters exactly.",
    )

    def rejection_reason(self, instruction: str) -> tuple[str, str] | None:
        """The first rule that rejects `instruction`, as `(rule, detail)`, or `None`."""
        words = len(instruction.split())
        if words < self.min_words:
            return "too_short", f"{words} word(s), fewer than {self.min_words}"
        if words > self.max_words:
            return "too_long", f"{words} words, more than {self.max_words}"
        for keyword in self.blocked_keywords or []:
            if re.search(rf"\b{re.escape(keyword)}\b", instruction, flags=re.IGNORECASE):
                return "blocked_keyword", keyword
        for prefix in self.blocked_prefixes or []:
            if instruction.startswith(prefix):
                return "blocked_prefix", prefix
        first = instruction[:1]
        if self.drop_leading_punctuation and first in string.punctuation:
            return "leading_punctuation", first
        if self.drop_non_ascii_start and first and not first.isascii():
            return "non_ascii_start", first
        return instruction_problem(instruction) if self.beyond_paper else None


class InstructionFilter(InstructionRules, RejectionLog, Step):
    """Drops proposed instructions that the paper's heuristics reject.

    The rules and their options are `InstructionRules`'.

    Rejected rows leave the stream; each is written to the step's `rejected` artifact with
    `rejected_by` (the rule) and `rejection_detail`, and `rejection_counts` counts them.

    Input columns:
        - instruction (`str`)

    Output columns:
        - the input rows that pass, unchanged.

    Examples:
        ```python
        from distilabel_selfinstruct import InstructionFilter

        step = InstructionFilter()
        step.load()
        rows = next(step.process([{"instruction": "Draw a map of your town."},
                                  {"instruction": "Name three rivers in Africa."}]))
        print(rows, step.rejection_counts)
        ```

        ```text
        [{'instruction': 'Name three rivers in Africa.'}] {'blocked_keyword': 1}
        ```
    """

    @property
    def inputs(self) -> "StepColumns":
        return ["instruction"]

    @property
    def outputs(self) -> "StepColumns":
        return ["instruction"]

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        kept, rejected = [], []
        for row in inputs:
            reason = self.rejection_reason(row["instruction"] or "")
            if reason is None:
                kept.append(row)
            else:
                rejected.append(self._rejected_record(row, *reason))
        self._record_rejections(rejected)
        yield kept


class InstanceFilter(RejectionLog, Step):
    """Cleans each task's generated instances with the paper's rules.

    Per instance: `input_equals_output`, `empty_output`, `ends_with_colon` (input or output
    ends with a colon: usually a cut generation). Per task: when two instances share a
    non-empty input but differ in output, all of the task's instances go
    (`conflicting_outputs`); exact duplicates go (`duplicate_instance`); at most
    `max_instances` stay, a reproducible random sample (`over_max_instances`). A task left
    with no instance is rejected (`no_valid_instances`) and leaves the stream, or, with
    `keep_empty_tasks`, stays with an empty `instances` list, so that a list of every kept
    instruction can follow the filter. Each row gets `num_instances`.

    Unless `beyond_paper` is false, also (see `quality_rules`): per instance,
    `output_repeats_input` (the output is the input once labels, case and punctuation are
    set aside) and `copied_from_prompt` (the input or output copies the instance prompts'
    worked examples); per task, `runaway_repetition` (the third and later copies of an
    instance: the generation looped) and `conflicting_empty_input` (instances with no input
    whose outputs differ: the first stays).

    Every dropped instance is written to the `rejected` artifact (task instruction, input,
    output, rule) and counted in `rejection_counts`.

    Input columns:
        - instruction (`str`)
        - instances (`list[dict]`): `{input, output}` pairs.

    Output columns:
        - instances (`list[dict]`): the instances kept.

    Examples:
        ```python
        from distilabel_selfinstruct import InstanceFilter

        step = InstanceFilter()
        step.load()
        row = {"instruction": "Give the capital.", "instances": [
            {"input": "France", "output": "Paris"}, {"input": "Peru", "output": "Peru"}]}
        print(next(step.process([row]))[0]["instances"], step.rejection_counts)
        ```

        ```text
        [{'input': 'France', 'output': 'Paris'}] {'input_equals_output': 1}
        ```
    """

    max_instances: RuntimeParameter[int] = Field(
        default=MAX_INSTANCES_PER_TASK, description="Most instances kept per task (random sample)."
    )
    seed: RuntimeParameter[int] = Field(
        default=SEED, description="Seed of the sample (combined with the instruction)."
    )
    beyond_paper: RuntimeParameter[bool] = Field(
        default=True,
        description="Also apply the rules beyond the paper (output_repeats_input,"
        " copied_from_prompt, runaway_repetition, conflicting_empty_input).",
    )
    keep_empty_tasks: bool = Field(
        default=False,
        description="Keep a task left with no instance (empty `instances`) instead of"
        " dropping it; it is still recorded as `no_valid_instances`.",
    )

    @property
    def outputs(self) -> "StepColumns":
        return ["instances", "num_instances"]

    def instance_rejection(self, instance: dict[str, Any]) -> str | None:
        """The per-instance rule that drops `instance`, or `None`."""
        return instance_rejection(instance, self.beyond_paper)

    def _clean(self, row: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        def reject(instance: dict[str, Any], rule: str, detail: str = "") -> dict[str, Any]:
            record = {"id": row.get("id"), "instruction": row["instruction"],
                      "input": instance.get("input", ""),
                      "output": instance.get("output", "")}  # fmt: skip
            return self._rejected_record(record, rule, detail)

        kept, rejected = [], []
        copies: dict[tuple[str, str], int] = {}
        for instance in row.get("instances") or []:
            rule = self.instance_rejection(instance)
            if rule is None and self.beyond_paper:
                key = (instance.get("input") or "", instance["output"])
                copies[key] = copies.get(key, 0) + 1
                if copies[key] >= 3:
                    rule = "runaway_repetition"
            if rule:
                rejected.append(reject(instance, rule))
            else:
                kept.append({"input": instance.get("input") or "", "output": instance["output"]})

        outputs_by_input: dict[str, set[str]] = {}
        for instance in kept:
            if instance["input"].strip():
                outputs_by_input.setdefault(instance["input"].strip(), set()).add(
                    instance["output"].strip()
                )
        conflicts = [given for given, outputs in outputs_by_input.items() if len(outputs) > 1]
        if conflicts:
            detail = (
                f"input {conflicts[0][:60]!r} has {len(outputs_by_input[conflicts[0]])} outputs"
            )
            return [], rejected + [
                reject(instance, "conflicting_outputs", detail) for instance in kept
            ]

        if self.beyond_paper:
            kept, conflicting = _first_empty_input_output(kept)
            rejected += [reject(i, "conflicting_empty_input") for i in conflicting]

        unique, seen = [], set()
        for instance in kept:
            key = (instance["input"], instance["output"])
            if key in seen:
                rejected.append(reject(instance, "duplicate_instance"))
            else:
                seen.add(key)
                unique.append(instance)

        if len(unique) > self.max_instances:
            rng = random.Random(f"{self.seed}:{row['instruction']}")
            chosen = set(rng.sample(range(len(unique)), self.max_instances))
            rejected += [
                reject(instance, "over_max_instances", f"kept {self.max_instances}")
                for index, instance in enumerate(unique)
                if index not in chosen
            ]
            unique = [instance for index, instance in enumerate(unique) if index in chosen]
        return unique, rejected

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        kept_rows, rejected = [], []
        for row in inputs:
            instances, dropped = self._clean(row)
            rejected += dropped
            if instances or self.keep_empty_tasks:
                kept_rows.append({**row, "instances": instances, "num_instances": len(instances)})
            if not instances:
                record = {key: value for key, value in row.items() if key != "distilabel_metadata"}
                rejected.append(self._rejected_record(record, "no_valid_instances", ""))
        self._record_rejections(rejected)
        step_logger(self).info(
            f"{self.name}: {sum(bool(row['instances']) for row in kept_rows)}/{len(inputs)}"
            " tasks with instances,"
            f" {sum(len(row['instances']) for row in kept_rows)} instances"
        )
        yield kept_rows


def _first_empty_input_output(
    instances: list[dict[str, str]],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Keeps one output for an empty input: the instances with no input whose output
    differs from the first such instance's are split off (exact repeats stay, for the
    duplicate rule to count).
    """
    first = next((i["output"].strip() for i in instances if not i["input"].strip()), None)
    kept, conflicting = [], []
    for instance in instances:
        if (
            first is not None
            and not instance["input"].strip()
            and instance["output"].strip() != first
        ):
            conflicting.append(instance)
        else:
            kept.append(instance)
    return kept, conflicting


@cache
def _worked_examples() -> WorkedExamples:
    """The instance prompts' worked examples, line by line."""
    return WorkedExamples(
        line
        for template in ("instance_input_first", "instance_output_first")
        for line in render_prompt(template, instruction="").splitlines()
    )


def instance_rejection(instance: dict[str, Any], beyond_paper: bool = True) -> str | None:
    """The per-instance rule that drops `instance`, or `None`: the paper's
    (`empty_output`, `input_equals_output`, `ends_with_colon`), then, with `beyond_paper`,
    `output_repeats_input` and `copied_from_prompt` (see `quality_rules`).

    Examples:
        >>> instance_rejection({"input": "Word: happy", "output": "Happy"})
        'output_repeats_input'
        >>> instance_rejection({"input": "Word: happy", "output": "Happy"}, beyond_paper=False) is None
        True
    """
    given = (instance.get("input") or "").strip()
    output = (instance.get("output") or "").strip()
    if not output:
        return "empty_output"
    if given == output:
        return "input_equals_output"
    if given.endswith(":") or output.endswith(":"):
        return "ends_with_colon"
    if not beyond_paper:
        return None
    if repeats_input(given, output):
        return "output_repeats_input"
    if _worked_examples().copied(given) or _worked_examples().copied(output):
        return "copied_from_prompt"
    return None
