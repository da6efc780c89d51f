"""The iterative bootstrap: propose, filter, grow the pool, repeat until the target."""

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps.tasks.base import GeneratorTask
from pydantic import Field, PrivateAttr

from distilabel_selfinstruct._compat import step_logger
from distilabel_selfinstruct.constants import (
    NUM_INSTRUCTIONS,
    NUM_PROMPTS,
    SEED,
    SEED_TASKS_ARTIFACT,
)
from distilabel_selfinstruct.rouge_index import RougeLIndex
from distilabel_selfinstruct.run_ahead import run_ahead
from distilabel_selfinstruct.steps._base import RejectionLog
from distilabel_selfinstruct.steps.filters import InstructionRules
from distilabel_selfinstruct.steps.load_seeds import SeedSource
from distilabel_selfinstruct.steps.proposal import PROPOSAL_COLUMNS, PromptPool, ProposalPrompting
from distilabel_selfinstruct.steps.similarity_filter import NoveltyOptions

if TYPE_CHECKING:
    from distilabel.typing import GeneratorStepOutput, StepColumns

__all__ = ["BOOTSTRAP_COLUMNS", "ROUND_RECORD", "SelfInstructBootstrap"]

# The attribute of the log record of each round that carries its figures.
ROUND_RECORD = "selfinstruct_round"


# A proposed instruction's columns, with its round and its closest pool instruction.
BOOTSTRAP_COLUMNS = (
    *PROPOSAL_COLUMNS,
    "round",
    "most_similar_instruction",
    "most_similar_score",
)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class SelfInstructBootstrap(
    ProposalPrompting, InstructionRules, NoveltyOptions, SeedSource, RejectionLog, GeneratorTask
):
    """Self-Instruct's bootstrap loop as one generator: the pool starts with the seed tasks
    and grows round after round until `num_instructions` machine-made instructions are kept.

    Each round sends `num_prompts` proposal prompts (8 pool tasks each, up to 2 of them
    machine-made: later rounds see earlier rounds' output; see `ProposalPrompting`), splits
    the continuations into instructions, and judges each in order: the heuristic rules
    (`InstructionRules`), then ROUGE-L novelty against the whole pool (`NoveltyOptions`;
    a kept instruction joins the pool at once). The loop stops at the first of: the target
    reached (the round's surplus is rejected as `target_reached`), `max_rounds`,
    `max_generated_tokens`, or `max_stalled_rounds` rounds in a row keeping nothing.

    The pool lives in this step (distilabel's DAG has no cycles), and everything is derived
    from `seed`: round `r` samples its prompts with `random.Random(f"{seed}:{r}")`. A rerun
    therefore retraces the same rounds; with the LLM's generation journal
    (`journal_dir`) it replays every finished generation instead of repeating it, which is
    how a killed run resumes, and distilabel's `offset` skips rows already sent.

    Every round logs its progress (pool size, kept and rejected per rule, tokens, rate,
    ETA). Rejected instructions go to the `rejected` artifact, written once at the end; its
    `metadata.json` holds the run's totals (rounds, prompts, generations, tokens, why the
    loop stopped). The seed tasks are saved as the `seed_tasks` artifact.

    Runtime parameters:
        - `num_instructions`: machine-made instructions to keep.
        - `num_prompts`: proposal prompts per round (the paper: 5 per request batch).
        - `max_rounds`, `max_generated_tokens`, `max_stalled_rounds`: the caps.
        - `seed`: seed of the prompt sampling.
        - the rule options of `InstructionRules`, `threshold` and `tokenizer`.

    Output columns:
        - id (`str`): `<step name>_r<round>_<prompt>_<generation>_<item>`.
        - instruction (`str`), origin (`str`, `"machine"`), round (`int`).
        - prompt_tasks (`list[str]`), prompt_task_ids (`list[str]`): its prompt's tasks.
        - raw_generation (`str`): the continuation it was parsed from.
        - most_similar_instruction (`str`), most_similar_score (`float`): its closest pool
          instruction when it was judged.
        - model_name (`str`).

    Examples:
        Bootstrap 4 instructions from the default seed set with the embedded model:

        ```python
        from distilabel_selfinstruct import LlamaCppCompletionLLM, SelfInstructBootstrap

        bootstrap = SelfInstructBootstrap(
            llm=LlamaCppCompletionLLM(), num_instructions=4, num_prompts=2, seed=7
        )
        bootstrap.load()
        for rows, last in bootstrap.process():
            print([(row["round"], row["instruction"]) for row in rows], last)
        ```

        ```text
        [(0, '...')...] True
        ```
    """

    num_instructions: RuntimeParameter[int] = Field(
        default=NUM_INSTRUCTIONS, description="Machine-made instructions to keep."
    )
    num_prompts: RuntimeParameter[int] = Field(
        default=NUM_PROMPTS, description="Proposal prompts per round."
    )
    max_rounds: RuntimeParameter[int] | None = Field(
        default=None, description="Stop after this many rounds."
    )
    max_generated_tokens: RuntimeParameter[int] | None = Field(
        default=None, description="Stop once this many tokens were generated."
    )
    max_stalled_rounds: RuntimeParameter[int] = Field(
        default=20, description="Stop after this many rounds in a row that keep nothing."
    )
    seed: RuntimeParameter[int] = Field(default=SEED, description="Seed of the prompt sampling.")

    _totals: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def totals(self) -> dict[str, Any]:
        """The last finished run's totals: `rounds`, `kept`, `stop_reason`, `prompts`,
        `generations`, `truncated`, `input_tokens`, `output_tokens`.
        """
        return dict(self._totals)

    @property
    def outputs(self) -> "StepColumns":
        return list(BOOTSTRAP_COLUMNS)

    def _stop_reason(self, rounds: int, kept: int, output_tokens: int, stalled: int) -> str | None:
        if kept >= self.num_instructions:
            return "target_reached"
        if self.max_rounds is not None and rounds >= self.max_rounds:
            return "max_rounds"
        if self.max_generated_tokens is not None and output_tokens >= self.max_generated_tokens:
            return "max_generated_tokens"
        if stalled >= self.max_stalled_rounds:
            return "stalled"
        return None

    def _judge(self, row: dict[str, Any], index: RougeLIndex, room: int) -> tuple[str, str] | None:
        """Scores `row` in place; the rule that rejects it, or `None` (it joined the pool)."""
        reason = self.rejection_reason(row["instruction"])
        if reason is not None:
            return reason
        text = row["instruction"]
        # Past the target an instruction is still scored, for the record, but never joins.
        keep, score, position = (
            index.judge(text) if room > 0 else (False, *index.most_similar(text))
        )
        similar = None if position is None else index[position]
        row.update(most_similar_instruction=similar, most_similar_score=score)
        if room <= 0:
            return "target_reached", f"{self.num_instructions} instructions already kept"
        if not keep:
            return "rouge_similarity", self._novelty_detail(score, similar)
        return None

    def process(self, offset: int = 0) -> "GeneratorStepOutput":  # type: ignore[override]
        # distilabel cannot send a generator step's exception back to the pipeline when the
        # step holds a loaded LLM (it does not pickle), so the cause is logged here first.
        # The rounds run ahead in a thread: distilabel pulls the next batch only when the
        # classification step runs out of rows, and the loop would stand still meanwhile.
        try:
            yield from run_ahead(self._rounds(offset), self.batch_size, name=self.name)
        except Exception as error:
            step_logger(self).error(f"Step '{self.name}' failed: {type(error).__name__}: {error}")
            raise

    def _rounds(self, offset: int) -> "GeneratorStepOutput":
        """The bootstrap loop (see the class docstring); `offset` as in `process`."""
        pool = self._seed_rows()
        prompt_pool = PromptPool(pool, self.classification_only)
        index = RougeLIndex(
            [row["instruction"] for row in pool], threshold=self.threshold, tokenizer=self.tokenizer
        )
        totals: Counter[str] = Counter()
        rejected: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        kept_total = rounds = stalled = sent = 0
        started = time.monotonic()
        stop = self._stop_reason(rounds, kept_total, 0, stalled)
        while stop is None:
            rng = random.Random(f"{self.seed}:{rounds}")
            rows, counts = self._propose(
                prompt_pool, rng, self.num_prompts, f"{self.name}_r{rounds}"
            )
            totals.update(counts)
            kept = []
            for row in rows:
                row["round"] = rounds
                reason = self._judge(row, index, self.num_instructions - kept_total - len(kept))
                if reason is None:
                    kept.append(row)
                else:
                    rejected.append(self._rejected_record(row, *reason))
            pool.extend(kept)
            prompt_pool.extend(kept)
            kept_total += len(kept)
            rounds += 1
            stalled = 0 if kept else stalled + 1
            self._log_progress(rounds, len(pool), kept_total, rejected, totals, started)
            stop = self._stop_reason(rounds, kept_total, totals["output_tokens"], stalled)
            # Rows already sent before a distilabel resume (`offset`) are not sent again.
            fresh, sent = kept[max(0, offset - sent) :], sent + len(kept)
            if stop is None:
                yield fresh, False  # `run_ahead` cuts rounds into batches
        self._totals = {"rounds": rounds, "kept": kept_total, "stop_reason": stop, **totals}
        self._record_rejections(rejected, complete=True, metadata=self._totals)
        self._save_seed_tasks()
        step_logger(self).info(
            f"{self.name}: stopped ({stop}) after {rounds} round(s):"
            f" {kept_total} instructions kept, {len(rejected)} rejected"
        )
        yield (fresh if rounds else []), True

    def _save_seed_tasks(self) -> None:
        """The seed pool as the `seed_tasks` artifact, for reports that compare with it."""
        if self.artifacts_directory is None:
            return

        def write(directory: Path) -> None:
            with (directory / "seed_tasks.jsonl").open("w", encoding="utf-8") as handle:
                for task in self._loaded:
                    handle.write(json.dumps(task.to_dict(), ensure_ascii=False) + "\n")

        self.save_artifact(
            SEED_TASKS_ARTIFACT,
            write_function=write,
            metadata={"count": len(self._loaded), "seeds_digest": self.seeds_digest,
                      "source": self.source if self.tasks is None else "tasks"},
        )  # fmt: skip

    def _log_progress(
        self,
        rounds: int,
        pool: int,
        kept: int,
        rejected: list[dict[str, Any]],
        totals: Counter[str],
        started: float,
    ) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        by_rule = Counter(record["rejected_by"] for record in rejected)
        rules = ", ".join(f"{rule} {n}" for rule, n in by_rule.most_common()) or "none"
        eta = (
            _duration((self.num_instructions - kept) * elapsed / kept)
            if 0 < kept < self.num_instructions
            else "-"
        )
        rate = totals["output_tokens"] / elapsed
        figures = {
            "round": rounds,
            "pool": pool,
            "kept": kept,
            "target": self.num_instructions,
            "tokens_per_s": round(rate, 1),
            "elapsed": _duration(elapsed),
            "eta": eta,
        }
        step_logger(self).info(
            f"{self.name}: round {rounds} | pool {pool} | kept {kept}/{self.num_instructions}"
            f" | rejected {len(rejected)} ({rules}) | tokens in {totals['input_tokens']:,}"
            f" out {totals['output_tokens']:,} | {rate:.0f} tok/s"
            f" | elapsed {_duration(elapsed)} | ETA {eta}",
            # the same figures for a progress display (`supervisor.supervise`'s `on_event`)
            extra={ROUND_RECORD: figures},
        )
