"""Pipelines that misbehave on purpose, for the supervisor tests: a step process that kills
itself with a signal, one that raises (distilabel only logs that), one that never returns.
Real distilabel pipelines; only the step bodies are made to fail, since a real crash of
llama.cpp (the AMX fault) cannot be produced on this machine.
"""

import os
import signal
import time

from distilabel.pipeline import Pipeline as DistilabelPipeline
from distilabel.steps import LoadDataFromDicts, StepInput, step

from distilabel_selfinstruct import InstanceFilter, Pipeline


@step(inputs=["x"], outputs=["x"])
def Segfault(inputs: StepInput):
    """Kills its own process with SIGSEGV (as llama.cpp's AMX fault does)."""
    os.kill(os.getpid(), signal.SIGSEGV)
    yield inputs


@step(inputs=["x"], outputs=["x"])
def Killed(inputs: StepInput):
    """Kills its own process with SIGKILL (as the out-of-memory killer does)."""
    os.kill(os.getpid(), signal.SIGKILL)
    yield inputs


@step(inputs=["x"], outputs=["x"])
def Fail(inputs: StepInput):
    """Raises: distilabel logs it and fills the outputs with None."""
    raise ValueError("the scorer has no model")
    yield inputs


@step(inputs=["x"], outputs=["x"])
def Hang(inputs: StepInput):
    """Never returns (a call that waits forever)."""
    time.sleep(3600)
    yield inputs


@step(inputs=["x"], outputs=["x"])
def Keep(inputs: StepInput):
    yield inputs


def build(behaviour: str, cache_dir: str | None = None) -> Pipeline:
    """rows → `behaviour` step (`SIGSEGV`, `SIGKILL`, `fail`, `hang` or `keep`) → two leaves."""
    with Pipeline(name=f"misbehaving-{behaviour}", cache_dir=cache_dir) as pipeline:
        rows = LoadDataFromDicts(data=[{"x": i} for i in range(6)], batch_size=3)
        middle = {
            "SIGSEGV": lambda: Segfault(name="scorer"),
            "SIGKILL": lambda: Killed(name="scorer"),
            "fail": lambda: Fail(name="scorer"),
            "hang": lambda: Hang(name="scorer"),
            "keep": lambda: Keep(name="scorer"),
        }[behaviour]()
        rows >> middle >> [Keep(name="left"), Keep(name="right")]
    return pipeline


def build_starving(cache_dir: str | None = None) -> DistilabelPipeline:
    """distilabel's own `Pipeline` (as `distilabel pipeline run` builds it) with a filter
    that keeps nothing: every task's only instance has an empty output.
    """
    rows = [{"instruction": f"Task {i}.", "instances": [{"input": "x", "output": ""}]}
            for i in range(5)]  # fmt: skip
    with DistilabelPipeline(name="starving", cache_dir=cache_dir) as pipeline:
        tasks = LoadDataFromDicts(data=rows, batch_size=2)
        leaves = [
            Keep(name=name, input_mappings={"x": "instruction"}) for name in ("left", "right")
        ]
        tasks >> InstanceFilter(name="clean") >> leaves
    return pipeline
