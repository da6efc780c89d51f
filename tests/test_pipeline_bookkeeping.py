"""The package's `Pipeline` in a real distilabel run (no LLM): no per-batch cache
bookkeeping when the run does not use the cache, the same rows, short polls restored,
and load stages that hold back only what depends on a global step."""

import time
from pathlib import Path

import pytest
from distilabel.pipeline import base as pipeline_base
from distilabel.pipeline.batch_manager import _BatchManager
from distilabel.steps import LoadDataFromDicts

from distilabel_selfinstruct import Pipeline, build_self_instruct_pipeline
from distilabel_selfinstruct.constants import FINETUNING_CONFIGS, REJECTED_CONFIG
from distilabel_selfinstruct.steps.exports import SelectColumns

ROWS = [{"instruction": f"Task number {i}.", "extra": i} for i in range(60)]


def _run(tmp_path: Path, use_cache: bool, monkeypatch) -> tuple[list[dict], int]:
    """Runs a 6-batch pipeline; returns its rows and how often the batch manager was
    cached (distilabel's own method, counted by a wrapper that calls it)."""
    calls = []
    original = _BatchManager.cache

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_BatchManager, "cache", counted)
    with Pipeline(name="bookkeeping", cache_dir=str(tmp_path)) as pipeline:
        rows = LoadDataFromDicts(name="rows", data=ROWS, batch_size=10)
        keep = SelectColumns(name="keep", columns=["instruction"], input_batch_size=10)
        rows >> keep
    distiset = pipeline.run(use_cache=use_cache)
    return distiset["default"]["train"].to_list(), len(calls)


def _batch_files(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("bookkeeping/steps_data/**/batch_*.json"))


def test_a_run_without_the_cache_skips_the_per_batch_bookkeeping(tmp_path, monkeypatch):
    rows, caches = _run(tmp_path, use_cache=False, monkeypatch=monkeypatch)
    assert rows == [{"instruction": row["instruction"]} for row in ROWS]
    assert caches == 1  # once, when the run ends
    assert _batch_files(tmp_path) == []
    assert list(tmp_path.glob("bookkeeping/*/executions/*/pipeline.yaml"))
    assert pipeline_base.time is time  # the short polls end with the run


def test_a_run_with_the_cache_keeps_distilabels_bookkeeping(tmp_path, monkeypatch):
    rows, caches = _run(tmp_path, use_cache=True, monkeypatch=monkeypatch)
    assert len(rows) == len(ROWS)
    assert caches >= 12  # after every batch of both steps
    assert len(_batch_files(tmp_path)) >= 12


@pytest.mark.filterwarnings("ignore")
def test_only_steps_after_a_global_step_wait_for_it():
    """distilabel 1.5.3 would hold the fine-tuning configs back until `rejected` (a global
    step one level above them in its topological order, but not their predecessor)
    finished, in a stage of their own."""
    pipeline = build_self_instruct_pipeline(num_instructions=3)
    stages, last_steps = pipeline._get_steps_load_stages()
    assert stages[1:] == [[REJECTED_CONFIG]]
    assert set(FINETUNING_CONFIGS) <= set(stages[0])
    assert set(FINETUNING_CONFIGS) <= set(last_steps[0])
