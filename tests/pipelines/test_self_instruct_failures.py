"""The main job (`pipelines/self_instruct.py`, `distilabel_selfinstruct.cli.run`) under bad
input and misbehaving servers. Every case ends within its deadline with one clear line and
the right exit code, publishes nothing it should not, and keeps the user's files. Cases that
end before any generation call the job's `main` in this process (`job_here`); the others
run it as a user runs it, in a child process (`job`).

The servers are `tests/support/openai_server.py` (a scripted OpenAI-compatible server) because a
real one cannot be made to fail on demand; cases that run the whole pipeline are `e2e`.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from datasets import load_from_disk
from distilabel.pipeline import Pipeline as DistilabelPipeline

from distilabel_selfinstruct import CONFIGS, RunLock
from distilabel_selfinstruct.cli.run import main
from distilabel_selfinstruct.constants import CARD_FOLDER, RUN_SUMMARY_FILE
from tests.conftest import REPO
from tests.support.openai_server import ScriptedServer

JOB = str(REPO / "pipelines" / "self_instruct.py")
SMALL = ["--num-instructions", "3", "--num-prompts", "2", "--seed", "3"]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture(scope="module")
def steady(server, tmp_path_factory):
    """A complete run against the well-behaved scripted server."""
    output = tmp_path_factory.mktemp("steady") / "out"
    run = served(server, "script", output)
    assert run.returncode == 0, run.stderr[-2000:]
    return output


def job_here(capsys, *arguments):
    """The job's `main` in this process: its exit code, stdout and stderr."""
    started = time.monotonic()
    status = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return SimpleNamespace(
        returncode=status,
        stdout=captured.out,
        stderr=captured.err,
        elapsed=time.monotonic() - started,
    )


def job(*arguments, timeout=120, env=None):
    started = time.monotonic()
    run = subprocess.run([sys.executable, JOB, *map(str, arguments)], capture_output=True,
                         text=True, timeout=timeout, env=env)  # fmt: skip
    run.elapsed = time.monotonic() - started
    return run


def error_lines(run):
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


def served(server, mode, output, *extra):
    return job(*SMALL, "--base-url", server.url(mode), "--model", "m",
               "--output-dir", output, *extra)  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--threshold", "1.5"], "--threshold is a ROUGE-L F1 score between 0 and 1 (got 1.5)"),
        (["--num-prompts", "0"], "--num-prompts must be at least 1 (got 0)"),
        (["--max-rounds", "0"], "--max-rounds must be at least 1 (got 0)"),
        (["--stall-timeout", "0"], "--stall-timeout must be a positive number of seconds"),
        (["--model-path", "missing.gguf"], "--model-path: no such file: missing.gguf"),
        (["--seed-columns", "instruction"], "--seed-columns: 'instruction' is not field=column"),
    ],
)
def test_out_of_range_options_are_refused_at_once(tmp_path, capsys, arguments, message):
    run = job_here(capsys, *arguments, "--output-dir", tmp_path / "out")
    assert (
        run.returncode == 2 and error_lines(run) == [f"error: {message}"]
    ) or message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_directory_of_the_users_files_is_never_touched(tmp_path):
    mine = tmp_path / "mine"
    (mine / "src").mkdir(parents=True)
    (mine / "thesis.txt").write_text("three years of work")
    (mine / "src" / "code.py").write_text("print('hi')")
    for extra in ([], ["--overwrite"]):
        run = job("--output-dir", mine, *extra)
        assert run.returncode == 2
        assert error_lines(run) == [
            f"error: --output-dir {mine} holds files this tool did not write (src/, thesis.txt);"
            " give a new or empty directory"
        ]
    assert (mine / "thesis.txt").read_text() == "three years of work"
    assert (mine / "src" / "code.py").read_text() == "print('hi')"


def test_an_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    run = job_here(capsys, "--output-dir", target)
    assert run.returncode == 2 and "is a file, not a directory" in run.stderr
    assert target.read_text() == "keep me"


def test_an_unwritable_location_is_refused_before_any_generation(tmp_path, capsys):
    run = job_here(capsys, "--output-dir", "/proc/self-instruct/out")
    assert run.returncode == 2
    assert error_lines(run)[0].startswith("error: cannot write in /proc/self-instruct")


def test_a_second_run_into_the_same_directory_stops_at_once(tmp_path):
    output = tmp_path / "out"
    with RunLock(tmp_path / ".out.work"):  # what a running job holds
        run = job("--output-dir", output)
    assert run.returncode == 2 and run.elapsed < 30
    assert error_lines(run)[0].startswith(f"error: another run (process {os.getpid()}, started ")
    assert "give another --output-dir" in run.stderr


def test_a_seed_file_that_is_not_utf8_names_the_file_and_byte(tmp_path, capsys):
    seeds = tmp_path / "seeds.jsonl"
    line = '{"instruction": "Translate caf\xe9.", "instances": [{"input": "", "output": "x"}], "is_classification": false}\n'
    first = line.replace("\xe9", "e")  # a valid line, then the same in Latin-1
    seeds.write_bytes(first.encode() + line.encode("latin-1"))
    run = job_here(capsys, "--seeds", seeds, "--output-dir", tmp_path / "out")
    assert run.returncode == 2
    assert f"seed tasks from {seeds}" in run.stderr
    offset = len(first.encode()) + line.encode("latin-1").index(b"\xe9")
    assert error_lines(run) == [
        f"error: seed tasks from {seeds}: line 2: not UTF-8 text (byte {offset} of the file);"
        " save the file as UTF-8"
    ]


def test_an_unreachable_hub_seed_id_is_one_line(tmp_path):
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}
    run = job("--seeds", "someone/seed-tasks", "--output-dir", tmp_path / "out", env=env)
    assert run.returncode == 2 and run.elapsed < 60
    assert len(run.stderr.strip().splitlines()) == 1
    assert error_lines(run)[0].startswith(
        "error: seed tasks from someone/seed-tasks: cannot read 'someone/seed-tasks' from the"
        " Hugging Face Hub ("
    )


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("down", "cannot reach the server at http://127.0.0.1:9/v1"),
        ("unauthorized", "refused the request (HTTP 401: Incorrect API key provided.)"),
        ("chatonly", "answered 404 for /v1/completions with model 'm'"),
        ("malformed", "did not give an OpenAI response on /v1/completions"),
        pytest.param("stall", "did not answer within 10 s", marks=pytest.mark.e2e),
    ],
)
def test_a_server_that_cannot_serve_fails_the_preflight_in_seconds(
    server, tmp_path, capsys, mode, message
):
    """The stalled server waits out the preflight's 10 s (`e2e`, for time; the timeout
    itself is tested on `check_server` in `tests/test_preflight.py`)."""
    url = "http://127.0.0.1:9/v1" if mode == "down" else server.url(mode)
    arguments = [*SMALL, "--base-url", url, "--model", "m", "--output-dir", tmp_path / "out"]
    run = job_here(capsys, *arguments)
    assert run.returncode == 2 and run.elapsed < 30
    assert len(error_lines(run)) == 1 and error_lines(run)[0].startswith("error: preflight: ")
    assert message in run.stderr
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / ".out.work" / "journal").exists(), "nothing generated before the check"


@pytest.mark.e2e
def test_a_server_that_returns_nothing_usable_ends_the_run_with_one_line(server, tmp_path):
    run = served(server, "empty", tmp_path / "out")
    assert run.returncode == 1 and run.elapsed < 90
    assert error_lines(run) == [
        "error: the model gave nothing usable: after 20 rounds 0 of 3 instructions were kept"
        " and the last rounds kept none (rejected: nothing parsed); check the model and --mode"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_a_server_that_stalls_mid_run_is_stopped_and_the_journal_kept(server, tmp_path):
    run = served(server, "stall-after-4", tmp_path / "out", "--stall-timeout", "8")
    assert run.returncode == 1 and run.elapsed < 8 + 60
    assert error_lines(run)[0].startswith("error: no progress for 8 s: ")
    assert "run the same command again to resume" in run.stderr
    journal = list((tmp_path / ".out.work" / "journal").glob("*.jsonl"))
    assert sum(len(path.read_text().splitlines()) for path in journal) >= 1
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_a_flaky_server_is_retried_to_the_same_dataset(server, steady, tmp_path):
    run = served(server, "flaky", tmp_path / "flaky")
    assert run.returncode == 0, run.stderr[-2000:]
    for config in CONFIGS:
        rows = load_from_disk(str(tmp_path / "flaky" / config / "train")).to_list()
        assert rows == load_from_disk(str(steady / config / "train")).to_list(), config
    # one request in three failed and was retried: the published log names no request
    log = (tmp_path / "flaky" / "distiset_configs" / "pipeline.log").read_text(encoding="utf-8")
    assert "HTTP Request" not in log and "/v1/completions" not in log


@pytest.mark.e2e
def test_an_earlier_dataset_is_replaced_only_with_overwrite(server, steady, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(steady, output)
    first = (output / CARD_FOLDER / RUN_SUMMARY_FILE).read_text()
    again = served(server, "script", output, "--seed", "4")
    assert again.returncode == 2 and "pass --overwrite to replace it" in again.stderr
    assert (output / CARD_FOLDER / RUN_SUMMARY_FILE).read_text() == first
    replaced = served(server, "script", output, "--seed", "4", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    summary = json.loads((output / CARD_FOLDER / RUN_SUMMARY_FILE).read_text())
    assert summary["run"]["parameters"]["seed"] == 4
    assert summary["producer"].startswith("distilabel-selfinstruct ")
    # What is published runs elsewhere as it is: no path of this machine in it.
    for name in ("pipeline.yaml", "pipeline.log", RUN_SUMMARY_FILE):
        text = (output / CARD_FOLDER / name).read_text()
        assert str(tmp_path) not in text and str(Path.home()) not in text, name
    pipeline = DistilabelPipeline.from_yaml(str(output / CARD_FOLDER / "pipeline.yaml"))
    assert type(pipeline).__name__ == "Pipeline"
    llm = pipeline.dag.get_step("bootstrap")["step"].llm
    assert llm.journal_dir is None and llm.base_url == server.url("script")


@pytest.mark.e2e
def test_two_runs_at_once_into_one_directory(server, tmp_path):
    output = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, JOB, *SMALL, "--base-url", server.url("slow"), "--model", "m",
         "--output-dir", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = tmp_path / ".out.work" / "lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text()):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    second = served(server, "slow", output)
    assert second.returncode == 2 and second.elapsed < 30
    assert f"another run (process {first.pid}" in second.stderr
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr[-2000:]
    assert (output / "instructions" / "train").exists()


@pytest.mark.e2e
def test_ctrl_c_publishes_nothing_and_the_same_command_resumes(server, tmp_path):
    output = tmp_path / "out"
    command = [sys.executable, JOB, "--num-instructions", "12", "--num-prompts", "2",
               "--seed", "3", "--base-url", server.url("slow"), "--model", "m",
               "--output-dir", str(output)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    journal = tmp_path / ".out.work" / "journal"
    deadline = time.monotonic() + 120
    while not any(path.stat().st_size for path in journal.glob("*.jsonl")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    log, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted by SIGINT: nothing was published" in log
    assert not output.exists()
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    console = tmp_path / ".out.work" / "run" / "console.log"  # distilabel's log
    assert "replayed" in console.read_text()
    assert (output / "instructions" / "train").exists()


@pytest.mark.e2e
def test_a_seed_too_long_for_the_models_context_is_named_before_any_generation(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    tasks = [
        {"id": "huge", "instruction": "Describe " + "the quick brown fox " * 500_000,
         "instances": [{"input": "", "output": "x"}], "is_classification": False},
        {"id": "small", "instruction": "Say hi.", "instances": [{"input": "", "output": "Hi."}],
         "is_classification": False},
    ]  # fmt: skip
    seeds.write_text("".join(json.dumps(task) + "\n" for task in tasks))
    run = job("--seeds", seeds, "--output-dir", tmp_path / "out")
    assert run.returncode == 2 and run.elapsed < 30
    assert error_lines(run) == [
        "error: preflight: the run's longest prompt is more than 4,096 tokens; with up to 1,024"
        " generated it does not fit the 4,096-token context of the embedded model; shorten the"
        " longest seed tasks (the longest is 'huge', 10,000,009 characters)"
    ]
    assert not (tmp_path / ".out.work" / "journal").exists()
