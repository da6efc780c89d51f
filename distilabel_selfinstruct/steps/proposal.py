"""Instruction proposal: a numbered list of pool tasks, continued by the model."""

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.base import StepInput
from distilabel.steps.tasks.base import GlobalTask
from pydantic import Field

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import NUM_PROMPTS, SEED
from distilabel_selfinstruct.steps._base import PromptedTask

if TYPE_CHECKING:
    from distilabel.typing import FormattedInput, StepColumns, StepOutput

__all__ = [
    "PROPOSAL_COLUMNS",
    "InstructionProposal",
    "PromptPool",
    "ProposalPrompting",
    "parse_proposed_instructions",
    "sample_prompt_tasks",
]

# The columns of a proposed instruction: its text and where it came from.
PROPOSAL_COLUMNS = (
    "id",
    "instruction",
    "origin",
    "prompt_tasks",
    "prompt_task_ids",
    "raw_generation",
    "model_name",
)

# The most tokens a proposal may generate (the paper's 1024): the longest generation of a run.
PROPOSAL_MAX_NEW_TOKENS = 1024
# Pool tasks listed in each proposal prompt (the paper: 8).
NUM_PROMPT_TASKS = 8

SEED_ORIGIN = "seed"
MACHINE_ORIGIN = "machine"

# A new list item: a line that starts with a number and a period ("10.", "11 .").
_ITEM_MARKER = re.compile(r"\n[ \t]*(\d+)[ \t]*\.")
_SPACES = re.compile(r"\s+")


def _prompt_text(instruction: str) -> str:
    """An instruction as a list item: whitespace collapsed, no trailing colon."""
    return _SPACES.sub(" ", instruction).strip().rstrip(":").strip()


class PromptPool:
    """The pool proposal prompts sample from, split once into human seed tasks and
    machine-made ones and grown round by round, so that sampling a prompt costs the same at
    52,000 instructions as at 100 (splitting the whole pool for every prompt made a long
    bootstrap quadratic). A row is machine-made when its `origin` is `"machine"`.

    With `classification_only`, human seeds are kept only when their `is_classification`
    is true and machine-made tasks unless it is false (see `sample_prompt_tasks`).
    """

    def __init__(self, rows: Iterable[dict[str, Any]] = (), classification_only: bool = False):
        self.classification_only = classification_only
        self.human: list[dict[str, Any]] = []
        self.machine: list[dict[str, Any]] = []
        self.extend(rows)

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        """Adds rows at the end of the pool."""
        only = self.classification_only
        for row in rows:
            if row.get("origin", SEED_ORIGIN) != MACHINE_ORIGIN:
                if not only or row.get("is_classification") is True:
                    self.human.append(row)
            elif not only or row.get("is_classification") is not False:
                self.machine.append(row)

    def sample(
        self, rng: random.Random, num_tasks: int = 8, num_machine: int = 2
    ) -> list[dict[str, Any]]:
        """The tasks of one prompt (see `sample_prompt_tasks`)."""
        if not self.human:
            kind = "classification seed" if self.classification_only else "seed"
            raise ValueError(f"the pool holds no {kind} task to build a proposal prompt from")
        chosen = rng.sample(self.machine, min(num_machine, len(self.machine)))
        chosen += rng.sample(self.human, min(num_tasks - len(chosen), len(self.human)))
        rng.shuffle(chosen)
        return chosen


def sample_prompt_tasks(
    pool: Sequence[dict[str, Any]],
    rng: random.Random,
    num_tasks: int = 8,
    num_machine: int = 2,
    classification_only: bool = False,
) -> list[dict[str, Any]]:
    """Samples the tasks of one proposal prompt, as the paper does.

    Up to `num_machine` machine-made tasks (uniformly among those in the pool; fewer while
    the pool has fewer) and human seed tasks for the rest, without replacement, shuffled
    together. A row is machine-made when its `origin` is `"machine"`; any other row is a
    human seed. (A loop that samples many prompts from a growing pool keeps a `PromptPool`.)

    Args:
        pool: rows with at least `instruction`; `origin` and `is_classification` are read
            when present.
        rng: the random generator (seed it for reproducible prompts).
        num_tasks: tasks per prompt (the paper: 8).
        num_machine: machine-made tasks per prompt once there are that many (the paper: 2).
        classification_only: the classification variant: human seeds only when their
            `is_classification` is true; machine-made tasks unless it is false (in a
            classification-only bootstrap they were all proposed as classification tasks
            and carry no label yet, as in the paper's own code).

    Raises:
        ValueError: when the pool has no human seed task to sample.
    """
    return PromptPool(pool, classification_only).sample(rng, num_tasks, num_machine)


def parse_proposed_instructions(
    generation: str | None, next_number: int = 9, stop_number: int = 16, truncated: bool = False
) -> list[str]:
    """Splits the model's continuation of the numbered list into instructions.

    The text continues item `next_number` (the prompt ends with `"9."`). Items are split at
    lines starting with a number and a period (gaps in the numbering are fine), whitespace
    is collapsed and casing kept. Parsing stops at a blank line or at item `stop_number`
    (the stop sequences, in case the backend ignored them). When the generation was cut by
    the token limit, only its last item is dropped. Empty items are skipped.

    Examples:
        >>> parse_proposed_instructions(" Name a fruit.\\n10. Add 2 and 3.\\n12.  Say   hi.")
        ['Name a fruit.', 'Add 2 and 3.', 'Say hi.']
        >>> parse_proposed_instructions(" Name a fruit.\\n10. Add 2 and", truncated=True)
        ['Name a fruit.']
    """
    if not generation:
        return []
    text = re.sub(rf"^\s*{next_number}[ \t]*\.", "", generation)  # a chat model may repeat it
    text = re.split(r"\n[ \t]*\n", text, maxsplit=1)[0]
    pieces: list[tuple[int, str]] = []
    number, start = next_number, 0
    for marker in _ITEM_MARKER.finditer(text):
        pieces.append((number, text[start : marker.start()]))
        number, start = int(marker.group(1)), marker.end()
    pieces.append((number, text[start:]))
    if truncated:
        pieces = pieces[:-1]
    instructions = []
    for number, piece in pieces:
        if number >= stop_number:
            break
        instruction = _SPACES.sub(" ", piece).strip()
        if instruction:
            instructions.append(instruction)
    return instructions


class ProposalPrompting(PromptedTask):
    """The proposal prompt and its parsing, shared by `InstructionProposal` (one pass over
    a given pool) and `SelfInstructBootstrap` (the iterative loop).

    Attributes:
        num_prompt_tasks: tasks listed in each prompt (the paper: 8).
        num_machine_tasks: machine-made tasks per prompt once the pool has them (2).
        classification_only: the paper's classification variant (classification seeds and
            a header asking for classification tasks).
        stop_number: the list item at which generation stops (the paper: 16).
    """

    num_prompt_tasks: RuntimeParameter[int] = Field(
        default=NUM_PROMPT_TASKS, description="Pool tasks listed in each prompt."
    )
    num_machine_tasks: RuntimeParameter[int] = Field(
        default=2, description="Machine-made tasks per prompt once the pool has them."
    )
    classification_only: bool = False
    stop_number: int = 16

    def _default_generation_kwargs(self) -> dict[str, Any]:
        n = self.stop_number
        return {
            "temperature": 0.7,
            "top_p": 0.5,
            "frequency_penalty": 0.0,
            "presence_penalty": 2.0,
            "max_new_tokens": PROPOSAL_MAX_NEW_TOKENS,
            "stop": ["\n\n", f"\n{n}", f"{n}.", f"{n} ."],
        }

    def format_input(self, input: dict[str, Any]) -> "FormattedInput":
        """The prompt for `input["prompt_tasks"]` (a list of instructions)."""
        return self._prompt(
            "instruction_proposal",
            tasks=[_prompt_text(task) for task in input["prompt_tasks"]],
            classification_only=self.classification_only,
        )

    def parse_generation(
        self, output: str | None, input: dict[str, Any] | None, truncated: bool
    ) -> dict[str, Any]:
        next_number = len(input["prompt_tasks"]) + 1 if input else self.num_prompt_tasks + 1
        return {
            "instructions": parse_proposed_instructions(
                output, next_number, self.stop_number, truncated=truncated
            ),
            "raw_generation": output,
            "truncated": truncated,
        }

    def _propose(
        self,
        pool: Sequence[dict[str, Any]] | PromptPool,
        rng: random.Random,
        num_prompts: int,
        id_prefix: str,
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Samples `num_prompts` prompts from `pool`, generates, and parses every
        continuation into instruction rows (ids `<id_prefix>_<prompt>_<generation>_<item>`).

        Returns:
            The rows, and counts: `prompts`, `generations`, `truncated`, `input_tokens`,
            `output_tokens`.
        """
        if not isinstance(pool, PromptPool):
            pool = PromptPool(pool, self.classification_only)
        prompts = []
        for _ in range(num_prompts):
            tasks = pool.sample(rng, self.num_prompt_tasks, self.num_machine_tasks)
            prompts.append(
                {
                    "prompt_tasks": [task["instruction"] for task in tasks],
                    "prompt_task_ids": [str(task.get("id") or "") for task in tasks],
                }
            )
        outputs = self.llm.generate_outputs(
            inputs=[self.format_input(prompt) for prompt in prompts],
            num_generations=self.num_generations,
            **self.llm.get_generation_kwargs(),
        )
        counts = Counter(prompts=len(prompts))
        rows = []
        for prompt_index, (prompt, generated) in enumerate(zip(prompts, outputs, strict=True)):
            for statistic in ("input_tokens", "output_tokens"):
                counts[statistic] += sum((generated.get("statistics") or {}).get(statistic) or [])
            for number, generation in enumerate(self.format_generations(generated, prompt)):
                counts["generations"] += 1
                counts["truncated"] += bool(generation.get("truncated"))
                for item, instruction in enumerate(generation.get("instructions") or []):
                    rows.append(
                        {
                            "id": f"{id_prefix}_{prompt_index}_{number}_{item}",
                            "instruction": instruction,
                            "origin": MACHINE_ORIGIN,
                            **prompt,
                            "raw_generation": generation.get("raw_generation"),
                            "model_name": self.llm.model_name,
                            "distilabel_metadata": generation.get("distilabel_metadata", {}),
                        }
                    )
        return rows, dict(counts)


class InstructionProposal(ProposalPrompting, GlobalTask):
    """Proposes new instructions by letting the model continue a numbered list of pool tasks.

    `GlobalStep`: it receives the whole pool (every row from its predecessors), builds
    `num_prompts` prompts of `num_prompt_tasks` sampled tasks each (see
    `sample_prompt_tasks`), generates, and splits every continuation into instructions
    (see `parse_proposed_instructions`). It outputs one row per proposed instruction, with
    its provenance: the tasks of its prompt and the raw generation.

    Attributes (see `ProposalPrompting`): `num_prompt_tasks`, `num_machine_tasks`,
    `classification_only`, `stop_number`.

    Runtime parameters:
        - `num_prompts`: prompts per call (the paper sends 5 per request batch).
        - `seed`: seed of the prompt sampling; the same seed and pool give the same prompts.
        - `llm.generation_kwargs`: default to the paper's sampling (temperature 0.7, top_p
          0.5, presence penalty 2, 1024 new tokens, stop at a blank line or item 16).

    Input columns:
        - instruction (`str`): a pool task.
        - origin (`str`, optional): `"machine"` for model-made tasks; anything else (or
          missing) is a human seed.
        - id (`str`, optional): the task's id, recorded as provenance.
        - is_classification (`bool`, optional): used by `classification_only`.

    Output columns:
        - id (`str`): `<step name>_<prompt>_<generation>_<item>`.
        - instruction (`str`): a proposed instruction.
        - origin (`str`): `"machine"`.
        - prompt_tasks (`list[str]`): the tasks listed in its prompt, in order.
        - prompt_task_ids (`list[str]`): their ids (`""` where the pool row had none).
        - raw_generation (`str`): the whole continuation it was parsed from.
        - model_name (`str`): the model.

    Examples:
        Propose instructions from the default seed set with the embedded model:

        ```python
        from distilabel_selfinstruct import InstructionProposal, LlamaCppCompletionLLM, load_seed_tasks

        proposal = InstructionProposal(llm=LlamaCppCompletionLLM(), num_prompts=1, seed=7)
        proposal.load()
        pool = [{**task.to_dict(), "origin": "seed"} for task in load_seed_tasks()]
        rows = next(proposal.process(pool))
        print([row["instruction"] for row in rows])
        ```

        ```text
        ['...', '...'...]
        ```
    """

    num_prompts: RuntimeParameter[int] = Field(default=NUM_PROMPTS, description="Prompts per call.")
    seed: RuntimeParameter[int] = Field(default=SEED, description="Seed of the prompt sampling.")

    @property
    def inputs(self) -> "StepColumns":
        return {"instruction": True, "origin": False, "id": False, "is_classification": False}

    @property
    def outputs(self) -> "StepColumns":
        return list(PROPOSAL_COLUMNS)

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        rows, counts = self._propose(inputs, random.Random(self.seed), self.num_prompts, self.name)
        step_logger(self).info(
            f"{self.name}: {len(rows)} instructions from {counts['prompts']} prompt(s)"
            f" ({counts.get('truncated', 0)} generation(s) cut by the token limit lost their"
            " last item)"
        )
        yield rows
