"""The filter steps inside a real distilabel pipeline (no LLM): wiring and rejected artifacts."""

import json
from pathlib import Path

from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts

from distilabel_selfinstruct import InstructionFilter, LoadSeedTasks, RougeSimilarityFilter


def test_filters_pass_rows_on_and_keep_rejections_as_artifacts(tmp_path):
    candidates = [
        {"instruction": "Draw a map of your neighbourhood please.", "origin": "machine"},
        {"instruction": "Name three rivers.", "origin": "machine"},
        {"instruction": "Suggest what to pack for a weekend hiking trip in the mountains.", "origin": "machine"},
        {"instruction": "Describe how bees make honey in simple words.", "origin": "machine"},
        {"instruction": "Describe how bees make honey in very simple words.", "origin": "machine"},
    ]  # fmt: skip
    with Pipeline(name="filters", cache_dir=str(tmp_path)) as pipeline:
        seeds = LoadSeedTasks(name="seeds")
        load = LoadDataFromDicts(name="candidates", data=candidates)
        heuristics = InstructionFilter(name="heuristics")
        novelty = RougeSimilarityFilter(name="novelty")
        load >> heuristics
        [seeds, heuristics] >> novelty
    distiset = pipeline.run(use_cache=False)

    kept = distiset["default"]["train"].to_list()
    assert [row["instruction"] for row in kept] == ["Describe how bees make honey in simple words."]
    assert kept[0]["most_similar_score"] <= 0.7

    artifacts = Path(distiset.artifacts_path)
    heuristic_rows = [
        json.loads(x)
        for x in (artifacts / "heuristics/rejected/rejected.jsonl").read_text().splitlines()
    ]
    novelty_rows = [
        json.loads(x)
        for x in (artifacts / "novelty/rejected/rejected.jsonl").read_text().splitlines()
    ]
    assert [(r["instruction"][:10], r["rejected_by"]) for r in heuristic_rows] == [
        ("Draw a map", "blocked_keyword"), ("Name three", "too_short")]  # fmt: skip
    assert [r["rejected_by"] for r in novelty_rows] == ["rouge_similarity", "rouge_similarity"]
    by_text = {r["instruction"]: r for r in novelty_rows}
    hiking = by_text[candidates[2]["instruction"]]
    assert hiking["most_similar_instruction"].startswith("Suggest what to pack")
    bees = by_text[candidates[4]["instruction"]]
    assert bees["most_similar_instruction"] == candidates[3]["instruction"]  # same-batch pool
    metadata = json.loads((artifacts / "novelty/rejected/metadata.json").read_text())
    assert metadata["counts"] == {"rouge_similarity": 2}
