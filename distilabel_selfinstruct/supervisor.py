"""A supervised pipeline run: it finishes, or it fails within seconds with one clear line.

distilabel 1.5.3 keeps waiting when a step's process dies (its worker pool quietly
replaces the process), when an exception cannot be sent back between processes, and when
a step fails in ways it only logs. `supervise()` therefore runs the pipeline in a child
process of its own session and watches it from the parent:

- the child reports what distilabel logs (which process runs which step, batches sent,
  failures) as JSON lines in an events file, and Python's `faulthandler` writes the cause
  of a crash (segmentation fault, abort...) of any of its processes to a crash file;
- the child ends its whole process group when the parent is gone (even killed with
  SIGKILL), so that no run goes on unwatched;
- the parent stops the whole process group (SIGTERM, then SIGKILL) as soon as a step
  fails or its process dies, when the run makes no progress for `stall_timeout` seconds
  (no finished generation in the journal, no batch), and on Ctrl-C or SIGTERM; it raises
  `RunFailed` with one line naming the step and the cause. No process of the run is left
  behind.

Finished generations stay in the journal, so running the same pipeline again resumes.
The child builds the pipeline from an importable `"module:function"` target (returning a
pipeline) with JSON keyword arguments, runs it and saves the `Distiset` to `output`; an
optional `finalize` target (`function(distiset, output)`) adds files to it.

Examples:
    ```python
    import tempfile
    from pathlib import Path

    from distilabel_selfinstruct.supervisor import RunSpec, supervise

    if __name__ == "__main__":
        work = Path(tempfile.mkdtemp())
        spec = RunSpec(
            target="distilabel_selfinstruct.pipeline:build_self_instruct_pipeline",
            kwargs={"num_instructions": 2, "num_prompts": 1, "seed": 3},
            output=str(work / "dataset"),
        )
        supervise(spec, work / "run")
        print(sorted(path.name for path in (work / "dataset").iterdir()))
    ```
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from distilabel_selfinstruct._compat import STEP_PROCESSES_ENV, TEARDOWN_MARKER

__all__ = ["RunFailed", "RunInterrupted", "RunSpec", "supervise"]

DEFAULT_STALL_TIMEOUT = 600.0
_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
_POLL = 0.2


@dataclass
class RunSpec:
    """What the child process runs (JSON-serialisable).

    Attributes:
        target: `"module:function"` returning the pipeline; called with `kwargs`.
        output: the directory where the complete `Distiset` is saved.
        kwargs: keyword arguments of `target`.
        run_kwargs: keyword arguments of `pipeline.run` (default: `use_cache=False`).
        finalize: optional `"module:function"` called as `function(distiset, output,
            wall_time, **finalize_kwargs)` after the save.
        finalize_kwargs: its keyword arguments.
        journal_dir: a directory whose growth counts as progress (the generation journal).
    """

    target: str
    output: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    run_kwargs: dict[str, Any] = field(default_factory=lambda: {"use_cache": False})
    finalize: str | None = None
    finalize_kwargs: dict[str, Any] = field(default_factory=dict)
    journal_dir: str | None = None


class RunFailed(RuntimeError):
    """The run failed; `str(error)` is one line: what failed and why."""


class RunInterrupted(RuntimeError):
    """The run was stopped by a signal (Ctrl-C, SIGTERM); `signal_number` says which."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signal_number).name}")
        self.signal_number = signal_number


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _directory_size(directory: Path | None) -> int:
    if directory is None or not directory.is_dir():
        return 0
    total = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
    return total


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


class _Files:
    """The run folder: spec, events (child → parent), crash causes, result."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.spec = folder / "spec.json"
        self.events = folder / "events.jsonl"
        self.crash = folder / "crash.log"
        self.steps = folder / "steps"  # <pid> files holding the step each process runs


class _Watch:
    """The parent's view of the child: events read so far, step processes, progress."""

    def __init__(
        self,
        files: _Files,
        journal_dir: Path | None,
        stall_timeout: float,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.files = files
        self.on_event = on_event
        self.journal_dir = journal_dir
        self.stall_timeout = stall_timeout
        self.workers: dict[int, str] = {}
        self.finished: set[str] = set()
        self.failure: str | None = None
        self._failed_step = False
        self.last_step: str | None = None
        self._offset = 0
        self._journal_size = _directory_size(journal_dir)
        self._journal_checked = self._progress = time.monotonic()

    def read_events(self) -> None:
        try:
            with self.files.events.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                self._event(json.loads(line))

    def _event(self, event: dict[str, Any]) -> None:
        kind, step = event.get("event"), event.get("step")
        if self.on_event is not None:
            self.on_event(event)
        if step:
            self.last_step = step
        if kind == "finished":
            self.finished.add(step)
        elif kind in ("progress", "round"):
            self._progress = time.monotonic()
        elif kind == "failed" and (self.failure is None or (step and not self._failed_step)):
            # a step's own failure explains more than what the pipeline raised after it
            where = f"step '{step}'" if step else "the pipeline"
            self.failure = f"{where} failed: {event.get('cause') or 'see the log above'}"
            self._failed_step = bool(step)

    def crash_cause(self) -> str | None:
        """The first "Fatal Python error: ..." line that faulthandler wrote, if any."""
        try:
            text = self.files.crash.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            if line.startswith("Fatal Python error:"):
                return line.removeprefix("Fatal Python error:").strip()
        return None

    def _read_workers(self) -> None:
        with contextlib.suppress(FileNotFoundError), os.scandir(self.files.steps) as entries:
            for entry in entries:
                if entry.name.isdigit() and int(entry.name) not in self.workers:
                    with contextlib.suppress(OSError):
                        self.workers[int(entry.name)] = Path(entry.path).read_text("utf-8")

    def _dead_workers(self) -> list[int]:
        """Processes that ran a step which had not finished, and are gone (none once the
        pipeline tears its processes down: their last log lines may be lost then).
        """
        if (self.files.steps / TEARDOWN_MARKER).exists():
            return []
        self._read_workers()
        return [
            pid
            for pid, step in self.workers.items()
            if step not in self.finished and not _alive(pid)
        ]

    def check(self) -> str | None:
        """Why the run must stop now, or `None`."""
        self.read_events()
        if self.failure:
            return self.failure
        crash = self.crash_cause()
        if crash is not None or self._dead_workers():
            time.sleep(1.0)  # the step's last log lines may still be on their way
            self.read_events()
            crash = self.crash_cause()
            cause = crash or "killed by a signal (SIGKILL, or the out-of-memory killer)"
            for pid in self._dead_workers():
                return f"step '{self.workers[pid]}' died (process {pid}): {cause}"
            if crash is not None:
                return f"a process of the run crashed: {crash}"
        now = time.monotonic()
        if now - self._journal_checked >= 1.0:
            self._journal_checked = now
            size = _directory_size(self.journal_dir)
            if size != self._journal_size:
                self._journal_size, self._progress = size, now
        if now - self._progress > self.stall_timeout:
            where = f" (last active step: '{self.last_step}')" if self.last_step else ""
            return (
                f"no progress for {self.stall_timeout:.0f} s: no generation finished and no"
                f" batch moved{where}; raise --stall-timeout if a single generation can"
                " take that long"
            )
        return None


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's process group, SIGKILL after a grace period, and reap."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def _catch_signals() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM are recorded instead of ending the process
    (only in the main thread; elsewhere they keep their handlers).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {
        number: signal.signal(number, lambda number, _frame: received.append(number))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def supervise(
    spec: RunSpec,
    run_dir: str | os.PathLike[str],
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    pass_fds: tuple[int, ...] = (),
    quiet: bool = False,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Runs `spec` in a supervised child process and returns once its `Distiset` is saved.

    Args:
        spec: what to run and where to save it.
        run_dir: a folder for the run's spec, events and crash files (created).
        stall_timeout: seconds without progress after which the run is stopped.
        pass_fds: file descriptors the child keeps open (a lock it must hold too).
        quiet: the child's console output (distilabel's log) goes to `console.log` in
            `run_dir` instead of this process's terminal.
        on_event: called in this process with each event of the child as it is read:
            `{"event": "round", "round", "kept", "target", ...}` after each bootstrap round,
            `{"event": "progress", "step"}` as steps work, `finished`, `failed`, `done`.

    Raises:
        RunFailed: a step failed or died, the run stalled, or the child exited with an
            error; the message is one line.
        RunInterrupted: SIGINT or SIGTERM arrived; the run was stopped.
    """
    files = _Files(Path(run_dir))
    files.folder.mkdir(parents=True, exist_ok=True)
    for path in (files.events, files.crash):
        path.write_bytes(b"")
    shutil.rmtree(files.steps, ignore_errors=True)
    files.steps.mkdir()
    files.spec.write_text(json.dumps(asdict(spec)), encoding="utf-8")
    journal = Path(spec.journal_dir) if spec.journal_dir else None
    watch = _Watch(files, journal, stall_timeout, on_event)
    console = (files.folder / "console.log").open("wb") if quiet else None
    with _catch_signals() as received, console or contextlib.nullcontext():
        process = subprocess.Popen(
            [sys.executable, "-m", "distilabel_selfinstruct._supervised_run", str(files.spec)],
            start_new_session=True,
            env={**os.environ, STEP_PROCESSES_ENV: str(files.steps)},
            pass_fds=pass_fds,
            stdout=console,
            stderr=console,
        )
        try:
            while process.poll() is None:
                if received:
                    raise RunInterrupted(received[0])
                if (reason := watch.check()) is not None:
                    raise RunFailed(reason)
                time.sleep(_POLL)
        finally:
            _stop_group(process)  # also ends whatever the child left behind
    watch.read_events()
    if process.returncode != 0:
        if watch.failure:
            raise RunFailed(watch.failure)
        if (cause := watch.crash_cause()) is not None:
            raise RunFailed(f"the run process crashed: {cause}")
        if process.returncode < 0:
            raise RunFailed(f"the run process was killed by {_signal_name(-process.returncode)}")
        raise RunFailed(f"the run process exited with code {process.returncode}")
