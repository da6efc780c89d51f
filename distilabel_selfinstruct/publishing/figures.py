"""The dataset card's figures, after the paper's analysis: each new instruction's ROUGE-L
with its most similar seed instruction (its Figure 3), length distributions (Figure 4),
and the most common leading verbs with their direct objects (Figure 2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from distilabel_selfinstruct.rouge_index import RougeLIndex

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FIGURES",
    "plot_lengths",
    "plot_similarity_to_seeds",
    "plot_verbs",
    "similarity_to_seeds",
]

# File name and caption of each figure.
FIGURES = {
    "similarity_to_seeds.png": "ROUGE-L F1 of each new instruction with its most similar seed "
    "instruction",
    "lengths.png": "Length in words of instructions, non-empty inputs and outputs",
    "verbs.png": "The most common leading verbs and their most common direct objects",
}


def similarity_to_seeds(instructions: Sequence[str], seeds: Sequence[str]) -> list[float]:
    """Each instruction's highest ROUGE-L F1 with any seed instruction (exact
    `rouge_score` values, see `RougeLIndex`).

    Examples:
        >>> similarity_to_seeds(["Tell me a funny joke."], ["Tell me a joke.", "Add 2 and 3."])
        [0.888...]
    """
    index = RougeLIndex(seeds, threshold=1.0)
    return [index.most_similar(text)[0] for text in instructions]


def _figure(width: float, height: float) -> Figure:
    """A figure drawn to files only: matplotlib's object API, so no backend is chosen (and
    the user's is left alone); matplotlib is imported at the first figure, not with us.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _integer_ticks() -> object:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def plot_similarity_to_seeds(scores: Sequence[float], threshold: float, path: Path) -> Path:
    """A histogram of the scores in bins of 0.05, with the novelty threshold marked."""
    figure = _figure(6.4, 3.6)
    axis = figure.subplots()
    axis.hist(scores, bins=[step / 20 for step in range(21)], color="#4c72b0", edgecolor="white")
    axis.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold}")
    axis.set_xlabel("ROUGE-L F1 with the most similar seed instruction")
    axis.set_ylabel("instructions")
    axis.yaxis.set_major_locator(_integer_ticks())
    axis.set_xlim(0, 1)
    axis.legend()
    return _save(figure, path)


def plot_lengths(
    instructions: Sequence[int], inputs: Sequence[int], outputs: Sequence[int], path: Path
) -> Path:
    """Histograms of the lengths in words: instructions, non-empty inputs, outputs."""
    figure = _figure(10, 3.2)
    axes = figure.subplots(1, 3)
    for axis, values, title in zip(
        axes, (instructions, inputs, outputs), ("instruction", "non-empty input", "output"),
        strict=True,
    ):  # fmt: skip
        axis.hist(values or [0], bins=20, color="#55a868", edgecolor="white")
        axis.set_title(f"{title} (n={len(values)})")
        axis.yaxis.set_major_locator(_integer_ticks())
        axis.set_xlabel("words")
    axes[0].set_ylabel("count")
    return _save(figure, path)


def plot_verbs(
    counts: Counter[tuple[str, str | None]],
    path: Path,
    verbs: int = 20,
    objects: int = 4,
    total: int | None = None,
) -> Path:
    """Horizontal bars for the `verbs` most common leading verbs (instructions per verb),
    each followed by its `objects` most common direct objects with their counts, in words:
    nothing to look up in a legend. The title says how many instructions the bars hold, and
    of how many (`total`): questions and statements have no leading verb and are left out.
    """
    by_verb: dict[str, Counter[str]] = {}
    for (verb, obj), count in counts.items():
        by_verb.setdefault(verb, Counter())[obj or "(no object)"] += count
    top = sorted(by_verb, key=lambda verb: (-sum(by_verb[verb].values()), verb))[:verbs]
    sizes = [sum(by_verb[verb].values()) for verb in top]
    figure = _figure(9, 0.32 * max(len(top), 4) + 1.2)
    axis = figure.subplots()
    widest = max(sizes, default=1)
    for row, (verb, size) in enumerate(zip(reversed(top), reversed(sizes), strict=True)):
        axis.barh(row, size, color="#4c72b0")
        named = ", ".join(f"{obj} {count}" for obj, count in by_verb[verb].most_common(objects))
        axis.text(size + 0.02 * widest, row, named, va="center", fontsize=7)
    axis.set_yticks(range(len(top)), list(reversed(top)))
    axis.set_xlim(0, widest * 1.9)
    axis.set_xlabel("instructions (its most common objects beside each bar)")
    shown = sum(sizes)
    of_total = f" of {total:,}" if total is not None else ""
    axis.set_title(
        f"Leading verbs of {shown:,}{of_total} instructions (the {len(top)} most common verbs;"
        " questions and statements have none)",
        fontsize=9,
    )
    if not top:
        axis.text(0.5, 0.5, "no imperative instruction", ha="center", transform=axis.transAxes)
    return _save(figure, path)
