"""Every use of a private name of distilabel 1.5.3 or llama-cpp-python that the run's
safety needs, in one place (`tests/test_compat.py` names the symbol when an upgrade
moves one).

- `FinishStarvedSteps`: distilabel 1.5.3 never sends a last batch to a step whose
  predecessors all finished without leaving it a single row (a filter that kept nothing),
  so the pipeline waits forever. The mixin sends that step an empty last batch.
- `RecordStepProcesses`: which process runs which step, written by the process itself
  before the step starts (distilabel's own log of it may die with the process).
- `DISTILABEL_LOG_PATTERNS`: the messages through which distilabel reports a failed step
  while the run goes on (or hangs); the supervisor reads them.
- `llama_model_params_override`: llama-cpp-python's `Llama` has no argument for
  llama.cpp's `use_extra_bufts`; it is set on the default model parameters during a load.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from distilabel.pipeline import Pipeline as _DistilabelPipeline
from distilabel.pipeline import RayPipeline as _DistilabelRayPipeline
from distilabel.pipeline.batch import _Batch

__all__ = [
    "DISTILABEL_LOG_PATTERNS",
    "STEP_PROCESSES_ENV",
    "FinishStarvedSteps",
    "Pipeline",
    "RayPipeline",
    "RecordStepProcesses",
    "llama_cpp_model",
    "llama_model_params_override",
]


class FinishStarvedSteps:
    """Sends an empty last batch to a step that would otherwise never get one.

    distilabel 1.5.3 builds a step's batches from the rows its predecessors sent; when the
    predecessors' last batches arrive and no row is left for the step, no batch is built
    and the step never learns that its input ended (`_BatchManagerStep.
    _ready_to_create_batch_normal` returns `False` for "no rows, last batch received").
    The step then waits, and so does the pipeline. After each last batch this mixin looks
    at the successors: one whose predecessors have all finished, with no rows or built
    batches left for it and no last batch sent to it yet, gets an empty last batch. Its own
    empty output then ends its successors the same way.
    """

    def _manage_batch_flow(self, batch: _Batch) -> None:
        super()._manage_batch_flow(batch)  # type: ignore[misc]
        if batch.last_batch:
            for successor in self.dag.get_step_successors(batch.step_name):  # type: ignore[attr-defined]
                self._finish_if_starved(successor)

    def _finish_if_starved(self, step_name: str) -> None:
        manager = self._batch_manager  # type: ignore[attr-defined]
        step = manager._steps[step_name]
        if set(step.data) - set(step.last_batch_received) or step.built_batches:
            return  # a predecessor still sends, or a batch is ready
        if any(batch.data and batch.data[0] for batches in step.data.values() for batch in batches):
            return  # rows remain: distilabel builds the last batch from them
        sent = manager.get_last_batch_sent(step_name)
        if sent is not None and sent.last_batch:
            return
        empty = _Batch(
            seq_no=step._get_seq_no(),
            step_name=step_name,
            last_batch=True,
            data=[[] for _ in step.data],
            accumulated=step.accumulate,
        )
        self._send_batch_to_step(empty)  # type: ignore[attr-defined]


# A folder where each step process writes a file named by its pid, holding the step's name.
STEP_PROCESSES_ENV = "DISTILABEL_SELFINSTRUCT_STEP_PROCESSES"


def _record_then_run(run: Callable[[], Any], step_name: str, folder: str) -> Any:
    """In the step's process: record `pid → step` (a plain write, kept even if the process
    crashes right after), then run the step.
    """
    (Path(folder) / str(os.getpid())).write_text(step_name, encoding="utf-8")
    return run()


class RecordStepProcesses:
    """With `STEP_PROCESSES_ENV` set, every step process of the local pipeline records which
    step it runs before running it (`_run_step` submits a wrapper to distilabel's pool).
    """

    def _run_step(self, step: Any, input_queue: Any, replica: int) -> None:
        folder = os.environ.get(STEP_PROCESSES_ENV)
        pool = self._pool  # type: ignore[attr-defined]
        if folder is None or pool is None:
            super()._run_step(step, input_queue, replica)  # type: ignore[misc]
            return
        submit = pool.apply_async

        def apply_async(func: Any, args: Any = (), kwds: Any = None, **options: Any) -> Any:
            return submit(_record_then_run, (func, step.name, folder), **options)

        pool.apply_async = apply_async
        try:
            super()._run_step(step, input_queue, replica)  # type: ignore[misc]
        finally:
            del pool.apply_async


class Pipeline(RecordStepProcesses, FinishStarvedSteps, _DistilabelPipeline):
    """distilabel's local `Pipeline`, with no hang when a filter keeps nothing
    (see `FinishStarvedSteps`). Use it wherever distilabel's `Pipeline` would be used.
    """


class RayPipeline(FinishStarvedSteps, _DistilabelRayPipeline):
    """distilabel's `RayPipeline`, with no hang when a filter keeps nothing."""


# distilabel's own words for a step that failed (step_wrapper.py, local.py, base.py).
DISTILABEL_LOG_PATTERNS: dict[str, re.Pattern[str]] = {
    # a normal step's batch failed: distilabel fills its outputs with None and goes on
    "batch_failed": re.compile(r"Processing batch \d+ with step '(?P<step>[^']+)' failed"),
    # the traceback logged right after it (its last line is the cause)
    "traceback": re.compile(r"^Subprocess traceback:\s*(?P<traceback>.*)", re.DOTALL),
    "load_failed": re.compile(r"Failed to load step '(?P<step>[^']+)': (?P<cause>.*)", re.DOTALL),
    "unhandled": re.compile(r"Failed with an unhandled exception: (?P<cause>.*)", re.DOTALL),
    "global_failed": re.compile(
        r"An error occurred (?:in|when running) global step '(?P<step>[^']+)'"
    ),
    # a step started working: the process that logs it runs that step
    # this package's generator steps log their own failure (see SelfInstructBootstrap)
    "step_failed": re.compile(r"Step '(?P<step>[^']+)' failed: (?P<cause>.*)", re.DOTALL),
    "step_working": re.compile(
        r"(?:Processing batch \d+ in|Starting yielding batches from generator step) '(?P<step>[^']+)'"
    ),
    "step_finished": re.compile(r"Finished running step '(?P<step>[^']+)'"),
    "batch_sent": re.compile(r"Step '(?P<step>[^']+)' sending batch \d+ to output queue"),
}

_llama_params_lock = threading.Lock()


@contextlib.contextmanager
def llama_model_params_override(**fields: Any) -> Iterator[None]:
    """Within the block, `llama_cpp.Llama` loads models with these `llama_model_params`
    fields (e.g. `use_extra_bufts=False`), which its constructor does not take.
    """
    if not fields:
        yield
        return
    import llama_cpp.llama_cpp as bindings

    with _llama_params_lock:
        default = bindings.llama_model_default_params

        def with_fields() -> Any:
            params = default()
            for name, value in fields.items():
                setattr(params, name, value)
            return params

        bindings.llama_model_default_params = with_fields
        try:
            yield
        finally:
            bindings.llama_model_default_params = default


def llama_cpp_model(llm: Any) -> Any:
    """The `llama_cpp.Llama` a loaded distilabel `LlamaCppLLM` holds (its `_model`)."""
    return llm._model
