"""The main job (`pipelines/self_instruct.py`) on the embedded model, as a user runs it: an
uninterrupted run, runs killed with SIGKILL and resumed, and the same run on a local Ray
instance. Each run is a child process (its own process group, so that a kill reaches
distilabel's workers too). Marked `e2e`.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from datasets import load_from_disk

from distilabel_selfinstruct import CONFIGS
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

JOB = str(REPO / "pipelines" / "self_instruct.py")
ARGS = ["--num-instructions", "5", "--num-prompts", "2", "--seed", "11"]


def start(output, *extra):
    return subprocess.Popen(
        [sys.executable, JOB, *ARGS, "--output-dir", str(output), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def finish(process, timeout=900):
    log, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, log[-3000:]
    return log


def journal_lines(output):
    journal = output.with_name(f".{output.name}.work") / "journal"
    return [line for path in journal.glob("*.jsonl") for line in path.read_text().splitlines()]


def kill_when(process, output, lines):
    """SIGKILLs the run's whole process group once the journal holds `lines` generations."""
    deadline = time.monotonic() + 600
    while len(journal_lines(output)) < lines:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # The supervised run (its own session) ends itself once the job is gone.
    work = str(output.with_name(f".{output.name}.work"))
    deadline = time.monotonic() + 5
    while subprocess.run(["pgrep", "-f", work], capture_output=True).stdout:
        assert time.monotonic() < deadline, "processes of the killed run are still running"
        time.sleep(0.2)


def dataset(output):
    return {config: load_from_disk(str(output / config / "train")).to_list() for config in CONFIGS}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    output = tmp_path_factory.mktemp("reference") / "dataset"
    log = finish(start(output))
    return output, log


def test_an_uninterrupted_run_publishes_every_config_and_a_summary(reference):
    output, log = reference
    data = dataset(output)
    assert len(data["instructions"]) == 5
    assert data["instances"] and data["finetuning"] and data["rejected"]
    summary = json.loads((output / "distiset_configs" / "run_summary.json").read_text())
    assert summary["instructions"] == 5 and summary["stop_reason"] == "target_reached"
    for label in ("instructions kept", "classification share", "instances", "rejected bootstrap:",
                  "tokens in / out", "kept per 1K generated tokens", "wall time"):  # fmt: skip
        assert label in log
    # Live progress of the bootstrap: round, pool, kept, rejections, tokens, rate, ETA.
    assert "bootstrap: round 1 | pool" in log.replace("\n", " ") or "round 1 | pool" in log
    assert not output.with_name(f".{output.name}.work").joinpath("cache").exists()


def test_a_run_killed_twice_resumes_to_the_same_dataset_without_repeating_work(reference, tmp_path):
    ref_output, _ = reference
    generations = len(journal_lines(ref_output))
    output = tmp_path / "dataset"

    kill_when(start(output), output, 1)  # during the bootstrap
    assert not output.exists()
    kill_when(start(output), output, generations - 1)  # during instance generation
    assert not output.exists(), "nothing is published before the run is complete"
    before = len(journal_lines(output))

    log = finish(start(output))
    assert "replayed" in log
    lines = journal_lines(output)
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == generations, "a finished generation was repeated"
    assert before >= generations - 1
    assert dataset(output) == dataset(ref_output)


def test_the_same_run_on_a_local_ray_instance_gives_the_same_dataset(reference, tmp_path):
    ref_output, _ = reference
    output = tmp_path / "dataset"
    finish(start(output, "--ray"), timeout=1200)
    assert dataset(output) == dataset(ref_output)
