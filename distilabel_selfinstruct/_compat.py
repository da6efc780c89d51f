"""Every use of a private name of distilabel 1.5.3, argilla 2.x or llama-cpp-python, in one
place: no other module of the package touches one (`tests/test_compat.py` names the
symbol when an upgrade moves one).

- `StepBase`, `PerGenerationTask`, `step_logger`: distilabel's common base of every step
  (`_Step`), its task base (`_Task`) with each generation parsed on its own and told
  whether it was cut by the token limit (`_Task._format_outputs`), and a step's logger
  (`_logger`).
- `openai_async_client`, `openai_usage`, `openai_chat_completion`: what distilabel's
  `OpenAILLM` keeps private: its client, its token counts, its chat request.
- `argilla_errors`: the exceptions the Argilla SDK raises (`argilla._exceptions`).

- `Pipeline`, `RayPipeline`, `adopt_pipeline`: distilabel 1.5.3 never sends a last batch to
  a step whose predecessors all finished without leaving it a single row (a filter that
  kept nothing), so the pipeline waits forever; these send it an empty last batch. A run
  with `use_cache=False` skips the per-batch cache bookkeeping (`_cache`, `steps_data`);
  global steps come as late in the load order as their successors allow; distilabel's
  pipeline module polls every 50 ms while a run lasts (`_short_polls`). The local
  `Pipeline` also records which process runs which step, written by the process itself
  before the step starts (distilabel's own log of it may die with the process).
- `DISTILABEL_LOG_PATTERNS`: the messages through which distilabel reports a failed step
  while the run goes on (or hangs); the supervisor reads them.
- `llama_model_params_override`: llama-cpp-python's `Llama` has no argument for
  llama.cpp's `use_extra_bufts`; it is set on the default model parameters during a load.
- `llama_cpp_decode_all_logits`: the logits of every token of a batch (to score a given
  continuation), which llama-cpp-python's public API gives only with a context-sized buffer.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
from distilabel.constants import DISTILABEL_METADATA_KEY, STEP_ATTR_NAME
from distilabel.pipeline import Pipeline as _DistilabelPipeline
from distilabel.pipeline import RayPipeline as _DistilabelRayPipeline
from distilabel.pipeline import base as _pipeline_base
from distilabel.pipeline.base import BasePipeline as _BasePipeline
from distilabel.pipeline.batch import _Batch
from distilabel.steps.base import _Step
from distilabel.steps.tasks.base import _Task, normalize_statistics
from pydantic import PrivateAttr

__all__ = [
    "DISTILABEL_LOG_PATTERNS",
    "STEP_PROCESSES_ENV",
    "TEARDOWN_MARKER",
    "PerGenerationTask",
    "Pipeline",
    "RayPipeline",
    "StepBase",
    "adopt_pipeline",
    "argilla_errors",
    "llama_cpp_decode_all_logits",
    "llama_cpp_model",
    "llama_model_params_override",
    "openai_async_client",
    "openai_chat_completion",
    "openai_usage",
    "step_logger",
]

# distilabel's base of `Step`, `GlobalStep` and `GeneratorStep`: a mixin for all three.
StepBase = _Step


def step_logger(step: Any) -> logging.Logger:
    """The logger distilabel gives a step (or an LLM) in its process."""
    return step._logger


class PerGenerationTask(_Task):
    """A task whose generations are parsed one at a time: `parse_generation(output, input,
    truncated)` gets each generation with `truncated` true when it hit the
    `max_new_tokens` limit (its output token count reached it).

    distilabel's `_Task._format_outputs` hands every generation of a row to `format_output`
    with no token count; here it is called once per generation, so that distilabel still
    adds its metadata (raw output, statistics). distilabel also replaces an input row's
    `distilabel_metadata` with the task's own; here the earlier steps' entries are kept
    beside the new ones.
    """

    def parse_generation(
        self, output: str | None, input: dict[str, Any] | None, truncated: bool
    ) -> dict[str, Any]:
        raise NotImplementedError

    # Whether the generation `format_output` is parsing hit the token limit: set around
    # each call of distilabel's `_format_outputs`, which calls `format_output`.
    _generation_truncated: bool = PrivateAttr(default=False)

    def model_post_init(self, __context: Any) -> None:
        # Defined here so that pydantic's wrapper (which sets the private attribute) calls
        # the next class in the MRO; without it, pydantic would wrap `_Task`'s own method,
        # whose `super()` skips the mixins between this class and `_Task`.
        super().model_post_init(__context)

    def format_output(
        self, output: str | None, input: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.parse_generation(output, input, self._generation_truncated)

    def format_generations(
        self, outputs: Any, input: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows of one LLM output (`generations`, `statistics`) for `input`, as
        distilabel's `process` makes them (its `_Task._format_outputs`)."""
        return self._format_outputs(outputs, input)

    def _format_outputs(
        self, outputs: Any, input: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        outputs = normalize_statistics(outputs)
        limit = (self.llm.generation_kwargs or {}).get("max_new_tokens")
        statistics = outputs.get("statistics") or {}
        counts = statistics.get("output_tokens") or []
        formatted = []
        for index, generation in enumerate(outputs["generations"]):
            single: dict[str, Any] = {
                key: [value[index]] if isinstance(value, list) and len(value) > index else value
                for key, value in outputs.items()
                if key not in ("generations", "statistics")
            }
            single["generations"] = [generation]
            single["statistics"] = {
                key: [values[index]] for key, values in statistics.items() if len(values) > index
            }
            self._generation_truncated = (
                limit is not None and index < len(counts) and counts[index] >= limit
            )
            try:
                formatted.extend(super()._format_outputs(single, input))
            finally:
                self._generation_truncated = False
        earlier = (input or {}).get(DISTILABEL_METADATA_KEY) or {}
        for output in formatted:
            output[DISTILABEL_METADATA_KEY] = {**earlier, **output.get(DISTILABEL_METADATA_KEY, {})}
        return formatted


def openai_async_client(llm: Any) -> Any:
    """The `openai.AsyncOpenAI` client a loaded distilabel `OpenAILLM` holds."""
    return llm._aclient


def openai_usage(llm: Any, completion: Any) -> dict[str, Any]:
    """`input_tokens` and `output_tokens` of an OpenAI response, as distilabel counts them."""
    return llm._get_llm_statistics(completion)


async def openai_chat_completion(llm: Any, **arguments: Any) -> Any:
    """distilabel's `OpenAILLM` chat request (`/v1/chat/completions`), with its arguments."""
    return await llm._generate_chat_completion(**arguments)


def argilla_errors() -> tuple[type[Exception], type[Exception]]:
    """The Argilla SDK's (API error, unauthorized) exception classes."""
    from argilla._exceptions import ArgillaAPIError, UnauthorizedError

    return ArgillaAPIError, UnauthorizedError


def _finish_starved_steps(pipeline: Any, names: Any) -> None:
    """Sends an empty last batch to each running step of `names` that would otherwise never
    get one.

    distilabel 1.5.3 builds a step's batches from the rows its predecessors sent; when the
    predecessors' last batches arrive and no row ever reached the step, no batch is built
    and the step never learns that its input ended (`_BatchManagerStep.
    _ready_to_create_batch_normal` and `_ready_to_create_batch_accumulate` both want rows).
    The step then waits, and so does the pipeline. A running step whose predecessors have
    all finished, with no rows or built batches left for it and no last batch sent to it
    yet, gets an empty last batch; its own empty output then ends its successors the same
    way. Steps of a later load stage are handled when their stage starts.
    """
    manager = pipeline._batch_manager
    for name in names:
        step = manager._steps.get(name)
        if step is None or not step.data or not pipeline._is_step_running(name):
            continue  # unknown, a generator (no predecessor), or not loaded yet
        if set(step.data) - set(step.last_batch_received) or step.built_batches:
            continue  # a predecessor still sends, or a batch is ready
        if any(part.data and part.data[0] for parts in step.data.values() for part in parts):
            continue  # rows remain: distilabel builds the last batch from them
        sent = manager.get_last_batch_sent(name)
        if sent is not None and sent.last_batch:
            continue
        empty = _Batch(
            seq_no=step._get_seq_no(),
            step_name=name,
            last_batch=True,
            data=[[] for _ in step.data],
            accumulated=step.accumulate,
        )
        pipeline._send_batch_to_step(empty)


# A folder where each step process writes a file named by its pid, holding the step's name.
STEP_PROCESSES_ENV = "DISTILABEL_SELFINSTRUCT_STEP_PROCESSES"
# Written there when the pipeline tears its step processes down.
TEARDOWN_MARKER = "teardown"


def _record_then_run(run: Callable[[], Any], step_name: str, folder: str) -> Any:
    """In the step's process: record `pid → step` (a plain write, kept even if the process
    crashes right after), then run the step.
    """
    (Path(folder) / str(os.getpid())).write_text(step_name, encoding="utf-8")
    return run()


class _ShortSleeps:
    """The `time` module with `sleep` capped at 50 ms."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.05))


_polls_lock = threading.Lock()
_polls_depth = 0


@contextlib.contextmanager
def _short_polls() -> Iterator[None]:
    """While a pipeline runs, distilabel's pipeline module polls every 50 ms: it checks
    whether a load stage's steps are loaded every 2.5 s (each stage then costs at least
    2.5 s) and whether the steps finished every 0.5 s, with `time.sleep` (its only two
    sleeps). Its `time` is swapped for the length of the run, nested runs included.
    """
    global _polls_depth
    with _polls_lock:
        _polls_depth += 1
        _pipeline_base.time = _ShortSleeps()  # type: ignore[assignment]
    try:
        yield
    finally:
        with _polls_lock:
            _polls_depth -= 1
            if _polls_depth == 0:
                _pipeline_base.time = time


class _FinishStarvedSteps(_BasePipeline):
    """Sends an empty last batch to a step that would otherwise never get one (see
    `_finish_starved_steps`): after each last batch, and when a load stage starts.

    A run with `use_cache=False` also skips distilabel's per-batch cache bookkeeping, which
    only a later `use_cache=True` run reads: after every batch, `BasePipeline` rewrites
    `pipeline.yaml`, the batch manager and the stages file (`_cache`) and writes the batch
    to `steps_data` (`_register_batch`), recomputing the pipeline's signatures each time
    (0.2-0.35 s per batch). The cache is still written once, when the run ends, as
    distilabel does; with `use_cache=True` nothing changes.

    It derives from distilabel's `BasePipeline` (not from `object`) and adds no slot, so
    that the classes below keep the memory layout of distilabel's: `adopt_pipeline` can
    then turn an instance of distilabel's class into one of them (`__class__` assignment
    refuses another layout).
    """

    def run(self, *args: Any, **kwargs: Any) -> Any:
        arguments = inspect.signature(super().run).bind(*args, **kwargs).arguments
        self._cache_per_batch = bool(arguments.get("use_cache", True))
        with _short_polls():
            return super().run(*args, **kwargs)

    def _per_batch_cache(self) -> bool:
        return getattr(self, "_cache_per_batch", True)

    def _register_batch(self, batch: _Batch) -> None:
        if self._per_batch_cache():
            super()._register_batch(batch)
        else:
            self._batch_manager.register_batch(batch)  # type: ignore[union-attr]

    def _manage_batch_flow(self, batch: _Batch) -> None:
        self._in_batch_flow = True
        try:
            super()._manage_batch_flow(batch)
        finally:
            self._in_batch_flow = False
        if batch.last_batch:
            _finish_starved_steps(self, self.dag.get_step_successors(batch.step_name))

    def _cache(self) -> None:
        if getattr(self, "_in_batch_flow", False) and not self._per_batch_cache():
            return
        super()._cache()

    def _get_steps_load_stages(self) -> tuple[list[list[str]], list[list[str]]]:
        """distilabel's load stages, with each global step as late in the topological
        order as its successors allow.

        distilabel starts a new stage at each global step of its topological order, and
        every step after it in that order waits for the global step to finish, even a step
        that does not depend on it (here the fine-tuning configs, one level deeper than
        `rejected`). Loading a stage spawns its processes (seconds each).
        """
        if getattr(self, "_load_groups", None):
            return super()._get_steps_load_stages()
        graph = self.dag.G

        def is_global(name: str) -> bool:
            return self.dag.get_step(name)[STEP_ATTR_NAME].is_global

        position = {name: index for index, name in enumerate(nx.topological_sort(graph))}
        order = nx.lexicographical_topological_sort(
            graph, key=lambda name: (is_global(name), position[name])
        )
        stages: list[list[str]] = [[]]
        for name in order:
            if is_global(name):
                stages += [[name], []]
            else:
                stages[-1].append(name)
        stages = [stage for stage in stages if stage]
        last_steps = [
            sorted(n for n in graph.subgraph(stage) if graph.subgraph(stage).out_degree(n) == 0)
            for stage in stages
        ]
        return stages, last_steps

    def _request_initial_batches(self) -> None:
        super()._request_initial_batches()
        _finish_starved_steps(self, list(self.dag))

    def _update_stage(self) -> bool:
        started = super()._update_stage()
        _finish_starved_steps(self, list(self.dag))  # the steps of the stage that started
        return started


class Pipeline(_FinishStarvedSteps, _DistilabelPipeline):
    """distilabel's local `Pipeline` without its hang when a filter keeps nothing for a step
    (that step gets an empty last batch). With `STEP_PROCESSES_ENV` set, each step process
    records which step it runs before running it, for `supervisor.supervise`.
    """

    def _run_step(self, step: Any, input_queue: Any, replica: int) -> None:
        folder = os.environ.get(STEP_PROCESSES_ENV)
        pool = self._pool
        if folder is None or pool is None:
            super()._run_step(step, input_queue, replica)
            return
        submit = pool.apply_async

        def apply_async(func: Any, args: Any = (), kwds: Any = None, **options: Any) -> Any:
            return submit(_record_then_run, (func, step.name, folder), **options)

        pool.apply_async = apply_async  # type: ignore[method-assign]
        try:
            super()._run_step(step, input_queue, replica)
        finally:
            del pool.apply_async

    def _teardown(self) -> None:
        folder = os.environ.get(STEP_PROCESSES_ENV)
        if folder is not None:  # from here on, step processes end because the run is over
            (Path(folder) / TEARDOWN_MARKER).write_text("", encoding="utf-8")
        super()._teardown()

    def ray(self, *args: Any, **kwargs: Any) -> _DistilabelRayPipeline:
        pipeline = super().ray(*args, **kwargs)
        adopt_pipeline(pipeline)
        return pipeline


class RayPipeline(_FinishStarvedSteps, _DistilabelRayPipeline):
    """distilabel's `RayPipeline` without its hang when a filter keeps nothing for a step."""


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


def llama_cpp_decode_all_logits(model: Any, tokens: list[int]) -> Any:
    """Evaluates `tokens` after the `model.n_tokens` tokens in a `llama_cpp.Llama`'s context
    and returns the logits of every one of them (a `len(tokens)` x vocabulary array).

    llama-cpp-python's public `eval` keeps only the last position's logits unless the model
    was created with `logits_all=True` (a context-sized logits buffer); this asks llama.cpp
    for all positions of this one batch through its `_batch` and `_ctx` wrappers.
    """
    import numpy as np

    if len(tokens) > model.n_batch:
        raise ValueError(f"{len(tokens)} tokens exceed the batch size {model.n_batch}")
    n_past = model.n_tokens
    model._ctx.kv_cache_seq_rm(-1, n_past, -1)
    model._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
    model._ctx.decode(model._batch)
    model.input_ids[n_past : n_past + len(tokens)] = tokens
    model.n_tokens = n_past + len(tokens)
    logits = np.ctypeslib.as_array(model._ctx.get_logits(), shape=(len(tokens) * model.n_vocab(),))
    return logits.reshape(len(tokens), model.n_vocab()).copy()


def adopt_pipeline(pipeline: Any) -> None:
    """Gives a plain distilabel `Pipeline` or `RayPipeline` this module's fixes, in place.

    This package's filter steps call it on the pipeline they join, so that a pipeline built
    with distilabel's own classes, or loaded by `distilabel pipeline run --config`, does not
    hang when a filter keeps nothing. The subclasses add no state, so swapping the class of
    the instance is safe; other pipeline classes are left alone.
    """
    replacement = {_DistilabelPipeline: Pipeline, _DistilabelRayPipeline: RayPipeline}.get(
        type(pipeline)
    )
    if replacement is not None:
        pipeline.__class__ = replacement
