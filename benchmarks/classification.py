"""How well classification identification works with the embedded model: both methods of
`ClassificationIdentification` on the paper's 175 seed tasks and their gold labels.

    python benchmarks/classification.py

Prints, per method, the balanced accuracy (the mean of the recalls of Yes and No), both
recalls, the accuracy, how often it says Yes (the truth: 26 of 175, 14.9%) and the time.

What is measured is kept apart from what the prompts are made of: the worked examples (the
two task lists and the Yes/No prompt) and the calibration set are our own instructions;
the script prints the highest ROUGE-L F1 between any of them and any seed task, and stops
if one is a near-copy (above 0.7, the paper's novelty threshold).
"""

import json
import re
import sys
import time
from pathlib import Path

from distilabel_selfinstruct import ClassificationIdentification, LlamaCppCompletionLLM
from distilabel_selfinstruct.prompts import render_prompt
from distilabel_selfinstruct.rouge_index import rouge_l_fmeasure

SEEDS = Path(__file__).resolve().parents[2] / "shared/data/self_instruct/seed_tasks.jsonl"
CALIBRATION = (
    Path(__file__).resolve().parents[1]
    / "distilabel_selfinstruct/prompts/classification_calibration.json"
)


def our_instructions() -> list[str]:
    """Every instruction the classification prompts and the calibration are made of."""
    lists = render_prompt("classification_task_lists", classification=True) + render_prompt(
        "classification_task_lists", classification=False
    )
    answer = render_prompt("classification_identification", instruction="")
    calibration = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    return (
        re.findall(r"^\d+\. (.+)$", lists, flags=re.MULTILINE)
        + re.findall(r"^Task: (.+)$", answer, flags=re.MULTILINE)
        + calibration["classification"]
        + calibration["not_classification"]
    )


def closest_pair(ours: list[str], seeds: list[str]) -> tuple[float, str, str]:
    return max((rouge_l_fmeasure(a, b), a, b) for a in ours for b in seeds)


def measure(method: str, seeds: list[dict]) -> dict:
    task = ClassificationIdentification(llm=LlamaCppCompletionLLM(), method=method)
    task.load()
    started = time.perf_counter()
    if method == "likelihood":
        task.threshold  # noqa: B018 (calibrated here, outside the timed classification)
    calibrated = time.perf_counter()
    rows = next(task.process([{"instruction": seed["instruction"]} for seed in seeds]))
    finished = time.perf_counter()
    gold = [seed["is_classification"] for seed in seeds]
    said = [row["is_classification"] is True for row in rows]
    yes = sum(g and s for g, s in zip(gold, said, strict=True)) / sum(gold)
    no = sum(not g and not s for g, s in zip(gold, said, strict=True)) / (len(gold) - sum(gold))
    return {
        "balanced accuracy": (yes + no) / 2,
        "recall Yes": yes,
        "recall No": no,
        "accuracy": sum(g == s for g, s in zip(gold, said, strict=True)) / len(gold),
        "says Yes": sum(said) / len(said),
        "unreadable answers": sum(row["is_classification"] is None for row in rows),
        "calibration s": calibrated - started,
        "175 tasks s": finished - calibrated,
    }


def _cell(name: str, value: float) -> str:
    if name.endswith(" s"):
        return f"{value:>12.1f}"
    if name == "unreadable answers":
        return f"{value:>12d}"
    return f"{value:>12.1%}"


def main() -> int:
    seeds = [json.loads(line) for line in SEEDS.read_text(encoding="utf-8").splitlines()]
    score, ours, theirs = closest_pair(our_instructions(), [s["instruction"] for s in seeds])
    print(f"closest pair, ours vs seeds: ROUGE-L {score:.3f}\n  ours:  {ours}\n  seed:  {theirs}")
    if score > 0.7:
        print("a worked or calibration example copies a seed task", file=sys.stderr)
        return 1
    results = {method: measure(method, seeds) for method in ("likelihood", "answer")}
    print(f"\n{'':24}" + "".join(f"{method:>12}" for method in results))
    for name in results["likelihood"]:
        print(f"{name:24}" + "".join(_cell(name, r[name]) for r in results.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
