"""The whole method as one pipeline on the embedded model (Gemma 3 270M base via llama.cpp),
run with distilabel's `Pipeline` in a child Python process (distilabel forks its workers
from the process that runs it, and a fork of pytest's process, with the threads earlier
tests left, can hang); the child saves the Distiset, the test reads it back. Marked `e2e`.
"""

import json

import pytest
from distilabel.distiset import Distiset
from distilabel.pipeline import Pipeline

from distilabel_selfinstruct import CONFIGS, build_self_instruct_pipeline
from distilabel_selfinstruct.constants import FINETUNING_CONFIGS
from distilabel_selfinstruct.publishing.statistics import summarize_run
from tests.conftest import in_subprocess

pytestmark = pytest.mark.e2e

THRESHOLD = 0.4  # strict, so that the run certainly rejects instructions for similarity
TARGET = 6
RULES = {"too_short", "too_long", "blocked_keyword", "blocked_prefix", "leading_punctuation",
         "non_ascii_start", "rouge_similarity", "target_reached", "empty_output",
         "input_equals_output", "ends_with_colon", "conflicting_outputs", "duplicate_instance",
         "over_max_instances", "no_valid_instances", "missing_context", "physical_action",
         "about_the_model", "output_repeats_input", "copied_from_prompt", "runaway_repetition",
         "conflicting_empty_input"}  # fmt: skip


def as_lists(distiset):
    return {config: distiset[config]["train"].to_list() for config in CONFIGS}


def _run_and_save(output: str, yaml_path: str, cache: str) -> None:
    pipeline = build_self_instruct_pipeline(
        num_instructions=TARGET, num_prompts=1, seed=5, threshold=THRESHOLD, cache_dir=cache
    )
    pipeline.run(use_cache=False).save_to_disk(output, save_card=False)
    pipeline.save(yaml_path, format="yaml")


def _run_yaml_and_save(yaml_path: str, output: str) -> None:
    Pipeline.from_yaml(yaml_path).run(use_cache=False).save_to_disk(output, save_card=False)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("first") / "dataset"
    yaml_path = tmp_path_factory.mktemp("yaml") / "pipeline.yaml"
    cache = tmp_path_factory.mktemp("cache")
    in_subprocess(_run_and_save, str(output), str(yaml_path), str(cache))
    return Distiset.load_from_disk(output), yaml_path


def test_the_bootstrap_keeps_the_target_with_provenance(first_run):
    distiset, _ = first_run
    assert set(distiset) == set(CONFIGS)
    instructions = distiset["instructions"]["train"].to_list()
    assert len(instructions) == TARGET
    assert len({row["id"] for row in instructions}) == TARGET
    for row in instructions:
        assert row["round"] >= 0 and len(row["prompt_tasks"]) == 8
        assert " ".join(row["instruction"].split()) in " ".join(row["raw_generation"].split())
        assert 0.0 <= row["most_similar_score"] <= THRESHOLD
        assert isinstance(row["is_classification"], bool)
        metadata = row["distilabel_metadata"]
        for step in ("bootstrap", "instance_generation"):
            assert metadata[f"statistics_{step}"]["output_tokens"] > 0
        # the likelihood method scores instead of generating: its raw output is the ratio
        float(metadata["raw_output_classification_identification"])


def test_later_rounds_are_prompted_with_earlier_rounds_output(first_run):
    distiset, _ = first_run
    instructions = distiset["instructions"]["train"].to_list()
    kept_ids = {row["id"]: row["round"] for row in instructions}
    later = [row for row in instructions if row["round"] > 0]
    assert later, "one prompt per round cannot give the whole target in round 0"
    for row in later:
        machine = [task for task in row["prompt_task_ids"] if task.startswith("bootstrap_r")]
        assert 1 <= len(machine) <= 2
        # Only instructions kept in earlier rounds are sampled (rejected ones never are).
        rejected = distiset["rejected"]["train"].to_list()
        rejected_ids = {r["id"] for r in rejected if r["rejected_at"] == "bootstrap"}
        assert all(task not in rejected_ids for task in machine)
        assert all(kept_ids.get(task, -1) < row["round"] for task in machine if task in kept_ids)


def test_instances_and_finetuning_records_belong_to_kept_instructions(first_run):
    distiset, _ = first_run
    ids = {row["id"] for row in distiset["instructions"]["train"]}
    instances = distiset["instances"]["train"].to_list()
    assert instances and all(row["instruction_id"] in ids and row["output"] for row in instances)
    by_format = {config: distiset[config]["train"] for config in FINETUNING_CONFIGS}
    for config, columns in FINETUNING_CONFIGS.items():
        assert by_format[config].column_names == list(columns), config
    sizes = {len(records) for records in by_format.values()}
    assert len(sizes) == 1 and 0 < sizes.pop() <= len(instances)
    outputs = {(row["instruction"], row["output"]) for row in instances}
    for chat, pair, alpaca in zip(
        *(records.to_list() for records in by_format.values()), strict=True
    ):
        assert (alpaca["instruction"], alpaca["output"]) in outputs
        assert [turn["role"] for turn in chat["messages"]] == ["user", "assistant"]
        assert chat["messages"][1]["content"] == alpaca["output"]
        assert pair["completion"].endswith(alpaca["output"] + "<|endoftext|>")


def test_every_rejection_is_in_the_rejected_config_with_its_rule(first_run):
    distiset, _ = first_run
    rejected = distiset["rejected"]["train"].to_list()
    assert {row["rejected_by"] for row in rejected} <= RULES
    assert any(row["rejected_by"] == "rouge_similarity" for row in rejected)
    for row in rejected:
        if row["rejected_by"] == "rouge_similarity":
            assert row["most_similar_score"] > THRESHOLD and row["most_similar_instruction"]
    for step in ("bootstrap", "instance_filter"):
        path = distiset.artifacts_path / step / "rejected" / "metadata.json"
        counts = json.loads(path.read_text())["counts"] if path.exists() else {}
        mine = [row["rejected_by"] for row in rejected if row["rejected_at"] == step]
        assert sum(counts.values()) == len(mine)


def test_the_summary_adds_up(first_run):
    distiset, _ = first_run
    summary = summarize_run(distiset)
    assert summary["instructions"] == TARGET and summary["stop_reason"] == "target_reached"
    assert summary["rounds"] >= 2
    assert summary["instances"] == distiset["instances"]["train"].num_rows
    assert sum(summary["rejections"].values()) == distiset["rejected"]["train"].num_rows
    by_step = summary["tokens_by_step"]
    assert summary["tokens_out"] == sum(step["out"] for step in by_step.values())
    # Rows parsed from one generation share its statistics: count each generation once.
    generations = {
        row["id"].rsplit("_", 1)[0]: row["distilabel_metadata"]["statistics_bootstrap"]
        for row in distiset["instructions"]["train"]
    }
    assert by_step["bootstrap"]["out"] >= sum(s["output_tokens"] for s in generations.values())
    assert summary["kept_per_1k_generated_tokens"] == pytest.approx(
        1000 * TARGET / summary["tokens_out"]
    )


def test_yaml_round_trip_gives_the_same_dataset(first_run):
    distiset, yaml_path = first_run
    text = yaml_path.read_text()
    assert "distilabel_selfinstruct.steps.bootstrap" in text and "seeds_digest" in text
    output = yaml_path.with_name("again")
    in_subprocess(_run_yaml_and_save, str(yaml_path), str(output))
    assert as_lists(Distiset.load_from_disk(output)) == as_lists(distiset)
