"""What a Self-Instruct run produced and what it cost: the end-of-run summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distilabel.distiset import Distiset

__all__ = ["format_summary", "summarize_run"]

_GENERATING_STEPS = ("classification_identification", "instance_generation")


def _rows(distiset: Distiset, config: str) -> list[dict[str, Any]]:
    if config not in distiset:
        return []
    return distiset[config]["train"].to_list()


def _bootstrap_totals(distiset: Distiset) -> dict[str, Any]:
    if distiset.artifacts_path is None:
        return {}
    path = distiset.artifacts_path / "bootstrap" / "rejected" / "metadata.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _token_sums(rows: Iterable[Mapping[str, Any]], step: str) -> tuple[int, int]:
    tokens_in = tokens_out = 0
    for row in rows:
        statistics = (row.get("distilabel_metadata") or {}).get(f"statistics_{step}") or {}
        tokens_in += int(statistics.get("input_tokens") or 0)
        tokens_out += int(statistics.get("output_tokens") or 0)
    return tokens_in, tokens_out


def summarize_run(distiset: Distiset, wall_time: float | None = None) -> dict[str, Any]:
    """The figures of a run of `build_self_instruct_pipeline`'s pipeline, from its Distiset.

    Tokens are those of every generation: the bootstrap's totals (rejected proposals
    included, from its artifact's metadata) plus the classification and instance
    generation statistics of every kept instruction.

    Returns:
        A JSON-serialisable dictionary: `instructions`, `classification`,
        `classification_share`, `instances`, `instances_empty_input`, `rejections` (per
        `step:rule`), `rounds`, `stop_reason`, `tokens_in`, `tokens_out` (and per step),
        `kept_per_1k_generated_tokens`, `wall_time_s`.
    """
    instructions = _rows(distiset, "instructions")
    instances = _rows(distiset, "instances")
    rejected = _rows(distiset, "rejected")
    bootstrap = _bootstrap_totals(distiset)
    tokens = {
        "bootstrap": (int(bootstrap.get("input_tokens", 0)), int(bootstrap.get("output_tokens", 0)))
    }
    for step in _GENERATING_STEPS:
        tokens[step] = _token_sums(instructions, step)
    tokens_in = sum(pair[0] for pair in tokens.values())
    tokens_out = sum(pair[1] for pair in tokens.values())
    classification = sum(row.get("is_classification") is True for row in instructions)
    rejections = Counter(f"{row['rejected_at']}:{row['rejected_by']}" for row in rejected)
    return {
        "instructions": len(instructions),
        "classification": classification,
        "classification_share": classification / len(instructions) if instructions else 0.0,
        "instances": len(instances),
        "instances_empty_input": sum(not (row.get("input") or "").strip() for row in instances),
        "rejections": dict(sorted(rejections.items())),
        "rounds": bootstrap.get("rounds"),
        "stop_reason": bootstrap.get("stop_reason"),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "tokens_by_step": {step: {"in": pair[0], "out": pair[1]} for step, pair in tokens.items()},
        "kept_per_1k_generated_tokens": (
            1000 * len(instructions) / tokens_out if tokens_out else 0.0
        ),
        "wall_time_s": wall_time,
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """`summarize_run`'s figures as a two-column text table.

    Examples:
        >>> print(format_summary({"instructions": 2, "classification": 1,
        ...     "classification_share": 0.5, "instances": 3, "rejections": {"bootstrap:too_short": 4},
        ...     "rounds": 1, "stop_reason": "target_reached", "tokens_in": 900, "tokens_out": 300,
        ...     "kept_per_1k_generated_tokens": 6.67, "wall_time_s": 12.0}))
        instructions kept                 2
        classification share          50.0% (1)
        instances                         3
        rejected bootstrap:too_short      4
        bootstrap rounds                  1 (target_reached)
        tokens in / out                 900 / 300
        kept per 1K generated tokens   6.67
        wall time                        12 s
    """
    lines = [
        ("instructions kept", f"{summary['instructions']:,}"),
        (
            "classification share",
            f"{100 * summary['classification_share']:.1f}% ({summary['classification']:,})",
        ),
        ("instances", f"{summary['instances']:,}"),
    ]
    lines += [(f"rejected {rule}", f"{count:,}") for rule, count in summary["rejections"].items()]
    lines += [
        ("bootstrap rounds", f"{summary['rounds']} ({summary['stop_reason']})"),
        ("tokens in / out", f"{summary['tokens_in']:,} / {summary['tokens_out']:,}"),
        ("kept per 1K generated tokens", f"{summary['kept_per_1k_generated_tokens']:.2f}"),
    ]
    if summary.get("wall_time_s") is not None:
        lines.append(("wall time", f"{summary['wall_time_s']:.0f} s"))
    width = max(len(label) for label, _ in lines) + 2
    value_width = max(len(value.split(" ")[0]) for _, value in lines)
    return "\n".join(
        f"{label:<{width}}{value.split(' ', 1)[0]:>{value_width}}"
        + (f" {value.split(' ', 1)[1]}" if " " in value else "")
        for label, value in lines
    )
