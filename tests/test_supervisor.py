"""The supervisor on real distilabel pipelines whose steps misbehave on purpose
(`tests/support/supervised_pipelines.py`): every run ends within its deadline, with one line
naming the step and the cause, and leaves no process behind.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from distilabel_selfinstruct import RunFailed, RunSpec, supervise
from tests.conftest import REPO

TARGET = "tests.support.supervised_pipelines:build"


@pytest.fixture(autouse=True)
def _importable_tests(monkeypatch):
    """The child process imports `tests.support.supervised_pipelines` from the repository root."""
    monkeypatch.chdir(REPO)


def run(tmp_path, behaviour, stall_timeout=60.0, **kwargs):
    kwargs = {"behaviour": behaviour, "cache_dir": str(tmp_path / "cache"), **kwargs}
    spec = RunSpec(target=TARGET, kwargs=kwargs,
                   output=str(tmp_path / "dataset"))  # fmt: skip
    started = time.monotonic()
    try:
        supervise(spec, tmp_path / "run", stall_timeout=stall_timeout)
    finally:
        elapsed = time.monotonic() - started
    return elapsed


def leftover_processes(tmp_path):
    """Processes still running whose command line names this test's run folder."""
    found = subprocess.run(["pgrep", "-f", str(tmp_path / "run")], capture_output=True, text=True)
    return found.stdout.split()


def test_a_well_behaved_pipeline_is_saved(tmp_path):
    run(tmp_path, "keep")
    assert sorted(p.name for p in (tmp_path / "dataset").iterdir()) == [
        "distiset_configs",
        "left",
        "right",
    ]


@pytest.mark.parametrize(
    ("signal_name", "cause"),
    [("SIGSEGV", "Segmentation fault"), ("SIGKILL", "killed by a signal")],
)
def test_a_step_process_that_dies_stops_the_run(tmp_path, signal_name, cause):
    with pytest.raises(RunFailed) as failure:
        run(tmp_path, signal_name)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("step 'scorer' died (process ")
    assert cause in message
    assert not (tmp_path / "dataset").exists()
    assert not leftover_processes(tmp_path)


def test_an_exception_distilabel_only_logs_stops_the_run(tmp_path):
    with pytest.raises(
        RunFailed, match=r"^step 'scorer' failed: ValueError: the scorer has no model$"
    ):
        run(tmp_path, "fail")
    assert not (tmp_path / "dataset").exists()


def test_a_run_without_progress_is_stopped_after_the_stall_timeout(tmp_path):
    started = time.monotonic()
    with pytest.raises(RunFailed, match=r"^no progress for 10 s: .*'scorer'"):
        run(tmp_path, "hang", stall_timeout=10)
    assert time.monotonic() - started < 10 + 30
    assert not leftover_processes(tmp_path)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_stops_every_process_and_exits_non_zero(tmp_path, signal_number):
    script = (
        "import sys\n"
        "from distilabel_selfinstruct import RunInterrupted, RunSpec, supervise\n"
        f"spec = RunSpec(target={TARGET!r}, kwargs={{'behaviour': 'hang',"
        f" 'cache_dir': {str(tmp_path / 'cache')!r}}},"
        f" output={str(tmp_path / 'dataset')!r})\n"
        "try:\n"
        f"    supervise(spec, {str(tmp_path / 'run')!r})\n"
        "except RunInterrupted as error:\n"
        "    print(error)\n"
        "    sys.exit(128 + error.signal_number)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    events = tmp_path / "run" / "events.jsonl"
    deadline = time.monotonic() + 120
    while "scorer" not in (events.read_text() if events.exists() else ""):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    os.kill(process.pid, signal_number)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal_number
    assert f"interrupted by {signal.Signals(signal_number).name}" in out
    assert not (tmp_path / "dataset").exists()
    assert not leftover_processes(tmp_path)


def test_distilabels_own_pipeline_does_not_hang_when_a_filter_keeps_nothing(tmp_path):
    """The filter adopts the pipeline (`_compat.adopt_pipeline`); without that, distilabel
    1.5.3 waits forever for the leaves' last batch (here: the stall timeout would fire).
    """
    spec = RunSpec(target="tests.support.supervised_pipelines:build_starving",
                   kwargs={"cache_dir": str(tmp_path / "cache")}, output=str(tmp_path / "out"))  # fmt: skip
    supervise(spec, tmp_path / "run", stall_timeout=30)
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "artifacts", "distiset_configs", "left", "right",
    ]  # fmt: skip
    from datasets import load_from_disk

    assert len(load_from_disk(str(tmp_path / "out" / "left" / "train"))) == 0
