"""End-to-end runs on the embedded model (Gemma 3 270M base via llama.cpp): marked `e2e`."""

import json
from pathlib import Path

import pytest
from distilabel.pipeline import Pipeline

from distilabel_selfinstruct.pipeline import build_self_instruct_pipeline

pytestmark = pytest.mark.e2e

THRESHOLD = 0.4


def comparable(distiset):
    rows = distiset["default"]["train"].to_list()
    return [
        {key: row[key] for key in ("instruction", "prompt_tasks", "most_similar_score",
                                   "is_classification", "instances")}
        for row in rows
    ]  # fmt: skip


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    # A strict novelty threshold, so that the run certainly rejects some instructions.
    pipeline = build_self_instruct_pipeline(
        num_prompts=2, seed=5, threshold=THRESHOLD, cache_dir=str(cache)
    )
    distiset = pipeline.run(use_cache=False)
    yaml_path = tmp_path_factory.mktemp("yaml") / "pipeline.yaml"
    pipeline.save(yaml_path, format="yaml")
    return distiset, yaml_path


def test_every_stage_runs_once_on_the_embedded_model(first_run):
    distiset, _ = first_run
    rows = distiset["default"]["train"].to_list()
    assert rows, "the embedded model should yield at least one instruction with instances"
    for row in rows:
        assert row["origin"] == "machine" and len(row["prompt_tasks"]) == 8
        assert row["instruction"].strip() and row["raw_generation"]
        assert " ".join(row["instruction"].split()) in " ".join(row["raw_generation"].split())
        assert 0.0 <= row["most_similar_score"] <= THRESHOLD
        assert row["is_classification"] in (True, False, None)
        assert 1 <= len(row["instances"]) <= 5
        assert all(instance["output"].strip() for instance in row["instances"])
        stats = row["distilabel_metadata"]["statistics_instruction_proposal"]
        assert stats["output_tokens"] > 0


def test_rejection_artifacts_match_their_counts(first_run):
    distiset, _ = first_run
    files = list(Path(distiset.artifacts_path).glob("*/rejected/rejected.jsonl"))
    assert any(path.parts[-3] == "rouge_similarity_filter" for path in files)
    for path in files:
        metadata = json.loads((path.parent / "metadata.json").read_text())
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert sum(metadata["counts"].values()) == len(records)
        assert all(record["rejected_by"] for record in records)
        if path.parts[-3] == "rouge_similarity_filter":
            assert all(record["most_similar_score"] > THRESHOLD for record in records)


def test_yaml_round_trip_gives_the_same_dataset(first_run):
    distiset, yaml_path = first_run
    text = yaml_path.read_text()
    assert "distilabel_selfinstruct.steps.proposal" in text and "seeds_digest" in text
    reloaded = Pipeline.from_yaml(yaml_path)
    again = reloaded.run(use_cache=False)
    assert comparable(again) == comparable(distiset)
