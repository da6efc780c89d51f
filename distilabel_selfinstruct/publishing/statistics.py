"""The statistics of a Self-Instruct dataset: what a run produced and what it cost (the
end-of-run summary), the paper's Table 1, and the leading verbs of its instructions with
their objects (the paper's Figure 2).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distilabel_selfinstruct.constants import (
    BOOTSTRAP,
    CARD_FOLDER,
    CLASSIFICATION,
    INSTANCE_GENERATION,
    INSTANCES_CONFIG,
    INSTRUCTIONS_CONFIG,
    REJECTED_ARTIFACT,
    REJECTED_CONFIG,
    RUN_SUMMARY_FILE,
)

if TYPE_CHECKING:
    from distilabel.distiset import Distiset

__all__ = [
    "dataset_statistics",
    "format_summary",
    "leading_verb_object",
    "save_run_summary",
    "summarize_run",
    "verb_object_counts",
]

_GENERATING_STEPS = (CLASSIFICATION, INSTANCE_GENERATION)


def _rows(distiset: Distiset, config: str) -> list[dict[str, Any]]:
    if config not in distiset:
        return []
    return distiset[config]["train"].to_list()


def _bootstrap_totals(distiset: Distiset) -> dict[str, Any]:
    if distiset.artifacts_path is None:
        return {}
    path = distiset.artifacts_path / BOOTSTRAP / REJECTED_ARTIFACT / "metadata.json"
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
        A JSON-serialisable dictionary: the figures of `dataset_statistics`,
        `classification_share`, `rejections` (per
        `step:rule`), `rounds`, `stop_reason`, `tokens_in`, `tokens_out` (and per step),
        `kept_per_1k_generated_tokens`, `wall_time_s`.
    """
    instructions = _rows(distiset, INSTRUCTIONS_CONFIG)
    rejected = _rows(distiset, REJECTED_CONFIG)
    bootstrap = _bootstrap_totals(distiset)
    tokens = {
        BOOTSTRAP: (int(bootstrap.get("input_tokens", 0)), int(bootstrap.get("output_tokens", 0)))
    }
    for step in _GENERATING_STEPS:
        tokens[step] = _token_sums(instructions, step)
    tokens_in = sum(pair[0] for pair in tokens.values())
    tokens_out = sum(pair[1] for pair in tokens.values())
    stats = dataset_statistics(distiset)
    rejections = Counter(f"{row['rejected_at']}:{row['rejected_by']}" for row in rejected)
    return {
        **stats,
        "classification_share": (
            stats["classification"] / stats["instructions"] if stats["instructions"] else 0.0
        ),
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


def save_run_summary(
    distiset: Distiset,
    output: str | Path,
    wall_time: float,
    run: dict[str, Any] | None = None,
    local_paths: dict[str, str] | None = None,
) -> None:
    """Writes `summarize_run`'s figures, with `run` (command, model, parameters) and the
    producing package, to `<output>/distiset_configs/run_summary.json`, and makes the saved
    configuration and log portable (see `output_dir.make_portable`; `local_paths` maps
    this machine's folders to the placeholders that replace them). A supervised run's
    `finalize` step.
    """
    from distilabel_selfinstruct import __version__
    from distilabel_selfinstruct.output_dir import make_portable

    summary = summarize_run(distiset, wall_time=wall_time)
    summary["run"] = run or {}
    summary["producer"] = f"distilabel-selfinstruct {__version__}"
    folder = Path(output) / CARD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    make_portable(folder, local_paths or {})


def _words(text: str | None) -> int:
    return len((text or "").split())


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def dataset_statistics(distiset: Distiset) -> dict[str, Any]:
    """The paper's Table 1 for this dataset: instructions (classification or not, and
    those left without an instance), instances (with empty input), and average lengths in words (whitespace split) of
    instructions, non-empty inputs and outputs.
    """
    instructions = _rows(distiset, INSTRUCTIONS_CONFIG)
    instances = _rows(distiset, INSTANCES_CONFIG)
    classification = sum(row.get("is_classification") is True for row in instructions)
    inputs = [_words(row["input"]) for row in instances if (row.get("input") or "").strip()]
    without = sum(row.get("num_instances") == 0 for row in instructions)
    return {
        "instructions": len(instructions),
        "instructions_without_instances": without,
        "classification": classification,
        "non_classification": len(instructions) - classification,
        "instances": len(instances),
        "instances_empty_input": len(instances) - len(inputs),
        "avg_words_instruction": _mean([_words(row["instruction"]) for row in instructions]),
        "avg_words_input": _mean(inputs),
        "avg_words_output": _mean([_words(row["output"]) for row in instances]),
    }


# Words that open a question or a statement rather than a command, and words that sit
# between a verb and its object: `leading_verb_object` skips or stops at them.
_NOT_VERBS = frozenset(
    "what how why who whom whose when where which is are was were do does did can could "
    "should would will shall may might if in for on at as to from with given i you we it "
    "this that these those there here the a an my your our their his her its".split()
)
_BEFORE_OBJECT = frozenset(
    "a an the some any this that these those each every all both either another such my your "
    "our their his her its me us him them it one two three four five six seven eight nine ten "
    "few several many more most following given next above below new short brief simple "
    "good bad funny interesting creative detailed random single list of".split()
)
# A clause, not a noun, follows the verb ("explain why ...", "find out ..."): no object.
_NO_OBJECT = frozenset("why what how whether if when where which who that and or to out up".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def leading_verb_object(instruction: str) -> tuple[str, str | None] | None:
    """The leading verb of an imperative instruction and its direct object, by a rule
    (no parser model can be installed here without a download at run time).

    The verb is the first word, lower-cased (after a leading "please"), unless it opens a
    question or a statement (what, how, is, if, given, ...): then `None`. The object is the
    first later word that is not a determiner, pronoun, number word or one of a few common
    adjectives ("short", "new", ...); "list of" is skipped so "make a list of names" gives
    ("make", "names"). When a clause follows instead ("explain why ...", "find out ..."),
    the object is `None`. A parser would do better on long or nested sentences.

    Examples:
        >>> leading_verb_object("Write a short story about a robot.")
        ('write', 'story')
        >>> leading_verb_object("Please give me three examples of fruit.")
        ('give', 'examples')
        >>> leading_verb_object("Explain why the sky is blue.")
        ('explain', None)
        >>> leading_verb_object("What is the capital of Peru?") is None
        True
    """
    words = [word.lower() for word in _WORD.findall(instruction)]
    if words[:1] == ["please"]:
        words = words[1:]
    if not words or words[0] in _NOT_VERBS:
        return None
    verb, rest = words[0], words[1:]
    obj = next((word for word in rest if word not in _BEFORE_OBJECT), None)
    return verb, None if obj in _NO_OBJECT else obj


def verb_object_counts(instructions: Iterable[str]) -> Counter[tuple[str, str | None]]:
    """How often each (leading verb, direct object) pair opens the instructions."""
    return Counter(pair for pair in map(leading_verb_object, instructions) if pair is not None)


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
