"""What a run will cost before it runs (`distilabel-selfinstruct run --dry-run`): for each
stage, its model, the requests it sends and the tokens they carry, from the real prompts
of this run (its seed tasks, the package's templates) counted by the model's tokenizer
where one is at hand.

The number of bootstrap requests depends on how many proposals survive the filters, which
no run knows in advance: the plan assumes the yield of the default run on the embedded
model (`KEPT_PER_PROPOSAL`), and says so. Output tokens are the caps (`max_new_tokens`),
the most a stage can generate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from distilabel_selfinstruct.constants import BOOTSTRAP, CLASSIFICATION, INSTANCE_GENERATION
from distilabel_selfinstruct.prompts import render_prompt
from distilabel_selfinstruct.seed_schema import SeedTask
from distilabel_selfinstruct.steps.classification import CLASSIFICATION_MAX_NEW_TOKENS
from distilabel_selfinstruct.steps.instances import INSTANCE_MAX_NEW_TOKENS
from distilabel_selfinstruct.steps.proposal import (
    NUM_PROMPT_TASKS,
    PROPOSAL_MAX_NEW_TOKENS,
    sample_prompt_tasks,
)

__all__ = ["KEPT_PER_PROPOSAL", "StagePlan", "format_plan", "plan_run"]

# Instructions kept per proposal prompt in the default run on the embedded model (100 kept
# from 40 prompts); a stronger model usually keeps more, so the plan errs on the high side.
KEPT_PER_PROPOSAL = 2.5
# Share of instance prompts sent again (the sampled retries): 14 of 100 in the default run.
INSTANCE_RETRY_SHARE = 0.14
# The share of classification tasks the instance prompts assume (the default run: 8%).
CLASSIFICATION_SHARE = 0.1


@dataclass(frozen=True)
class StagePlan:
    """One stage's expected requests and their tokens (prompts, and the outputs' cap)."""

    stage: str
    model: str
    requests: int
    prompt_tokens: int
    max_output_tokens: int


def _mean(values: Sequence[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def plan_run(
    seeds: Sequence[SeedTask],
    num_instructions: int,
    num_prompts: int,
    models: Mapping[str, str],
    count_tokens: Callable[[str], int],
    seed: int = 42,
) -> list[StagePlan]:
    """The plan of a run: one `StagePlan` per stage that prompts a model.

    Args:
        seeds: the run's seed tasks (their instructions fill the prompts).
        num_instructions: instructions to keep.
        num_prompts: proposal prompts per round.
        models: each stage's model, by stage name.
        count_tokens: a prompt's token count.
        seed: the run's seed (the sampled proposal prompts).
    """
    rounds = math.ceil(num_instructions / (KEPT_PER_PROPOSAL * num_prompts))
    bootstrap_requests = rounds * num_prompts
    proposal, classify, instance_prompt = _prompt_tokens(seeds, count_tokens, seed)
    instance_requests = math.ceil(num_instructions * (1 + INSTANCE_RETRY_SHARE))
    return [
        StagePlan(
            BOOTSTRAP,
            models[BOOTSTRAP],
            bootstrap_requests,
            round(bootstrap_requests * proposal),
            bootstrap_requests * PROPOSAL_MAX_NEW_TOKENS,
        ),
        StagePlan(
            CLASSIFICATION,
            models[CLASSIFICATION],
            num_instructions,
            round(num_instructions * classify),
            num_instructions * CLASSIFICATION_MAX_NEW_TOKENS,
        ),
        StagePlan(
            INSTANCE_GENERATION,
            models[INSTANCE_GENERATION],
            instance_requests,
            round(instance_requests * instance_prompt),
            instance_requests * INSTANCE_MAX_NEW_TOKENS,
        ),
    ]


def _prompt_tokens(
    seeds: Sequence[SeedTask], count_tokens: Callable[[str], int], seed: int
) -> tuple[float, float, float]:
    """Mean tokens of a proposal prompt (8 sampled as the run samples them), of a
    classification prompt and of an instance prompt (by the share of classification tasks)."""
    rng = random.Random(seed)
    pool = [{**task.to_dict(), "origin": "seed"} for task in seeds]
    proposals = [
        count_tokens(
            render_prompt(
                "instruction_proposal",
                tasks=[task["instruction"] for task in sample_prompt_tasks(pool, rng)],
                classification_only=False,
            )
        )
        for _ in range(8)
    ]
    examples = [task.instruction for task in seeds[:NUM_PROMPT_TASKS]]

    def mean_tokens(template: str) -> float:
        return _mean([count_tokens(render_prompt(template, instruction=text)) for text in examples])

    instance = (1 - CLASSIFICATION_SHARE) * mean_tokens("instance_input_first")
    instance += CLASSIFICATION_SHARE * mean_tokens("instance_output_first")
    return _mean(proposals), mean_tokens("classification_identification"), instance


def format_plan(
    plans: Sequence[StagePlan], token_source: str, price_per_1k_tokens: float | None = None
) -> str:
    """The plan as a table, with its assumptions and, given a price, the most it costs.

    Examples:
        >>> plans = [StagePlan("bootstrap", "m", 40, 20_000, 40_960)]
        >>> print(format_plan(plans, "the model's tokenizer", price_per_1k_tokens=0.5))
        dry run: nothing was generated
        stage      model  requests  prompt tokens  output tokens (at most)
        bootstrap  m            40         20,000                   40,960
        total                   40         20,000                   40,960
        cost at 0.5 per 1K tokens: at most 30.48 (prompts 10.00)
        tokens counted by the model's tokenizer; bootstrap requests assume 2.5 instructions kept per proposal prompt (the default run on the embedded model)
    """
    header = ("stage", "model", "requests", "prompt tokens", "output tokens (at most)")
    rows = [(p.stage, p.model, p.requests, p.prompt_tokens, p.max_output_tokens) for p in plans]
    total = ("total", "", *(sum(row[index] for row in rows) for index in (2, 3, 4)))
    table = [header, *[(a, b, f"{c:,}", f"{d:,}", f"{e:,}") for a, b, c, d, e in [*rows, total]]]
    widths = [max(len(str(line[index])) for line in table) for index in range(5)]
    lines = ["dry run: nothing was generated"]
    for line in table:
        left = [f"{line[index]:<{widths[index]}}" for index in (0, 1)]
        right = [f"{line[index]:>{widths[index]}}" for index in (2, 3, 4)]
        lines.append("  ".join([*left, *right]).rstrip())
    if price_per_1k_tokens is not None:
        prompts = total[3] / 1000 * price_per_1k_tokens
        most = (total[3] + total[4]) / 1000 * price_per_1k_tokens
        lines.append(
            f"cost at {price_per_1k_tokens:g} per 1K tokens: at most {most:,.2f}"
            f" (prompts {prompts:,.2f})"
        )
    lines.append(
        f"tokens counted by {token_source}; bootstrap requests assume {KEPT_PER_PROPOSAL:g}"
        " instructions kept per proposal prompt (the default run on the embedded model)"
    )
    return "\n".join(lines)
