"""The main job (`pipelines/self_instruct.py`) as a user runs it: an uninterrupted run, runs
killed with SIGKILL and resumed, and the same run on a local Ray instance. Each run is a
child process (its own process group, so that a kill reaches distilabel's workers too).

The model is the scripted server of `tests/support/openai_server.py` in its `held` mode: the
test decides after how many requests the run waits, and kills it there (a poll of the
journal would race the run). The embedded model's full run is `tests/test_pipeline.py`.
Marked `e2e` (whole pipelines, about a minute each).
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
from tests.support.openai_server import ScriptedServer

pytestmark = pytest.mark.e2e

JOB = str(REPO / "pipelines" / "self_instruct.py")
ARGS = ["--num-instructions", "5", "--num-prompts", "2", "--seed", "11", "--model", "m"]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def start(server, output, *extra):
    arguments = [*ARGS, "--base-url", server.url("held"), "--output-dir", str(output), *extra]
    return subprocess.Popen(
        [sys.executable, JOB, *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def finish(process, timeout=900):
    log, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, log[-3000:]
    return log


def journal_lines(output):
    journal = output.with_name(f".{output.name}.work") / "journal"
    return [line for path in journal.glob("*.jsonl") for line in path.read_text().splitlines()]


def kill_after(server, output, requests):
    """Starts the run, lets the server answer `requests` requests, and SIGKILLs the run's
    whole process group once it waits for the next one: a known point, no race."""
    server.hold(after=requests)
    process = start(server, output)
    deadline = time.monotonic() + 600
    while not server.waiting():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # The supervised run (its own session) ends itself once the job is gone; the server
    # answers again only then, so that nothing generates after the kill.
    work = str(output.with_name(f".{output.name}.work"))
    deadline = time.monotonic() + 5
    while subprocess.run(["pgrep", "-f", work], capture_output=True).stdout:
        assert time.monotonic() < deadline, "processes of the killed run are still running"
        time.sleep(0.2)
    server.hold(after=None)


def dataset(output):
    return {config: load_from_disk(str(output / config / "train")).to_list() for config in CONFIGS}


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory):
    output = tmp_path_factory.mktemp("reference") / "dataset"
    server.hold(after=None)
    before = server.requests("held")
    log = finish(start(server, output))
    return output, log, server.requests("held") - before


def test_an_uninterrupted_run_publishes_every_config_and_a_summary(reference):
    output, log, _ = reference
    data = dataset(output)
    assert len(data["instructions"]) == 5
    assert data["instances"] and data["finetuning_messages"] and data["rejected"]
    summary = json.loads((output / "distiset_configs" / "run_summary.json").read_text())
    assert summary["instructions"] == 5 and summary["stop_reason"] == "target_reached"
    for label in ("instructions kept", "classification share", "instances", "rejected bootstrap:",
                  "tokens in / out", "kept per 1K generated tokens", "wall time"):  # fmt: skip
        assert label in log
    # Live progress (not a terminal: one line per round, one per stage), and distilabel's
    # own log in the work folder, not on the console.
    assert "bootstrap [" in log and "kept | round 1 |" in log
    assert "instance_generation: started" in log and "Processing batch" not in log
    console = output.with_name(f".{output.name}.work") / "run" / "console.log"
    assert "bootstrap: round 1 | pool" in console.read_text()
    assert not output.with_name(f".{output.name}.work").joinpath("cache").exists()


def test_a_run_killed_twice_resumes_to_the_same_dataset_without_repeating_work(
    server, reference, tmp_path
):
    ref_output, _, requests = reference
    generations = len(journal_lines(ref_output))
    output = tmp_path / "dataset"

    kill_after(server, output, 3)  # during the bootstrap
    assert not output.exists()
    first = len(journal_lines(output))
    kill_after(server, output, requests - first - 2)  # during instance generation
    assert not output.exists(), "nothing is published before the run is complete"
    before = len(journal_lines(output))

    finish(start(server, output))
    console = output.with_name(f".{output.name}.work") / "run" / "console.log"
    assert "replayed" in console.read_text()
    lines = journal_lines(output)
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == generations, "a finished generation was repeated"
    assert 0 < first < before < generations
    assert dataset(output) == dataset(ref_output)


def test_the_same_run_on_a_local_ray_instance_gives_the_same_dataset(server, reference, tmp_path):
    ref_output, _, _ = reference
    output = tmp_path / "dataset"
    finish(start(server, output, "--ray"), timeout=1200)
    assert dataset(output) == dataset(ref_output)
