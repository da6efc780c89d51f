"""The child process of a supervised run (`supervisor.supervise`): builds the pipeline,
runs it, saves the `Distiset`, and reports what distilabel logs as events for the parent.

    python -m distilabel_selfinstruct._supervised_run <run folder>/spec.json
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from distilabel_selfinstruct._compat import DISTILABEL_LOG_PATTERNS
from distilabel_selfinstruct.steps.bootstrap import ROUND_RECORD
from distilabel_selfinstruct.supervisor import RunSpec, _Files, _resolve


class _EventHandler(logging.Handler):
    """Turns distilabel's log records (from every step process) into events for the parent."""

    def __init__(self, path: Path) -> None:
        super().__init__(level=logging.INFO)
        self._patterns = DISTILABEL_LOG_PATTERNS
        self._handle = path.open("a", encoding="utf-8")
        self._failing: dict[int, str | None] = {}  # process → step whose traceback follows
        self._last_progress = 0.0
        self._last_step: str | None = None

    def write(self, **event: Any) -> None:
        self._handle.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._handle.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            return
        patterns, pid = self._patterns, record.process or 0
        if isinstance(figures := getattr(record, ROUND_RECORD, None), dict):
            self.write(event="round", step=None, **figures)
        if pid in self._failing and (match := patterns["traceback"].match(message)):
            lines = [line for line in match["traceback"].splitlines() if line.strip()]
            self.write(
                event="failed", step=self._failing.pop(pid), cause=lines[-1] if lines else None
            )
        elif match := patterns["batch_failed"].search(message) or patterns["global_failed"].search(
            message
        ):
            self._failing[pid] = match["step"]
        elif match := patterns["step_failed"].search(message) or patterns["load_failed"].search(
            message
        ):
            self.write(event="failed", step=match["step"], cause=match["cause"].splitlines()[0])
        elif match := patterns["unhandled"].search(message):
            self.write(event="failed", step=None, cause=match["cause"].splitlines()[0][:500])
        elif match := patterns["step_working"].search(message):
            self._progress(match["step"])
        elif match := patterns["step_finished"].search(message):
            self.write(event="finished", step=match["step"])
        elif match := patterns["batch_sent"].search(message):
            self._progress(match["step"])

    def _progress(self, step: str) -> None:
        now = time.monotonic()
        if now - self._last_progress >= 1.0 or step != self._last_step:
            self._last_progress, self._last_step = now, step
            self.write(event="progress", step=step)


def _save_empty_configs(distiset: Any, pipeline: Any, output: Path) -> None:
    """Saves an empty config for every leaf step that produced no row (distilabel leaves
    them out), so that a complete run always has the same configs. Written with one
    shard: `datasets` cannot read back an empty split saved with none.
    """
    from datasets import Dataset, DatasetDict, Features, Value

    leaves = list(pipeline.dag.leaf_steps)
    if len(leaves) < 2:
        return  # a single leaf makes the "default" config
    for name in leaves:
        if name not in distiset:
            columns = pipeline.dag.get_step(name)["step"].outputs
            features = Features({column: Value("string") for column in columns})
            empty = Dataset.from_dict({column: [] for column in columns}, features=features)
            DatasetDict({"train": empty}).save_to_disk(output / name, num_shards={"train": 1})


def _type_null_columns(distiset: Any) -> None:
    """Columns that hold only `None` in this run (`classification_error` when every answer
    parsed) are saved as strings, not as Arrow's `null` type, so that two runs' files load
    together."""
    from datasets import Value

    for name, splits in distiset.items():
        features = splits["train"].features.copy()
        nulls = [column for column, kind in features.items() if kind == Value("null")]
        if nulls:
            for column in nulls:
                features[column] = Value("string")
            distiset[name] = splits.cast(features)


def _die_with_parent(parent: int) -> None:
    """Ends this run's whole process group (every step process, and this one) once the
    supervising parent is gone, even killed with SIGKILL: no run goes on unwatched.
    """
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


def _child(spec_path: Path) -> int:
    """The child process: build, run and save; failures become a `failed` event."""
    threading.Thread(target=_die_with_parent, args=(os.getppid(),), daemon=True).start()
    files = _Files(spec_path.parent)
    spec = RunSpec(**json.loads(spec_path.read_text(encoding="utf-8")))
    crash = files.crash.open("a", encoding="utf-8")
    faulthandler.enable(file=crash, all_threads=True)  # inherited by forked step processes
    events = _EventHandler(files.events)
    try:
        pipeline = _resolve(spec.target)(**spec.kwargs)
        started = time.monotonic()
        distiset = pipeline.run(**spec.run_kwargs, logging_handlers=[events])
        wall_time = time.monotonic() - started
        _type_null_columns(distiset)
        output = Path(spec.output)
        distiset.save_to_disk(output, save_card=False)
        _save_empty_configs(distiset, pipeline, output)
        if spec.finalize:
            _resolve(spec.finalize)(distiset, output, wall_time, **spec.finalize_kwargs)
    except Exception as error:
        cause = " ".join(f"{type(error).__name__}: {error}".split())[:500]
        events.write(event="failed", step=None, cause=cause)
        return 1
    events.write(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1])))
