"""Every ```python example in the public API's docstrings runs, on the embedded model.

Each runs in a child process: the examples load llama.cpp, whose threads must not live in
the test process (distilabel forks its workers from it). Marked `e2e`.
"""

import inspect
import re
import subprocess
import sys
import textwrap

import pytest

import distilabel_selfinstruct
from distilabel_selfinstruct import pipeline
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples():
    documented = [
        getattr(distilabel_selfinstruct, name) for name in distilabel_selfinstruct.__all__
    ]
    documented.append(pipeline.build_self_instruct_pipeline)
    for obj in documented:
        for number, block in enumerate(_BLOCK.findall(inspect.getdoc(obj) or "")):
            name = getattr(obj, "__name__", type(obj).__name__)
            yield pytest.param(textwrap.dedent(block), id=f"{name}-{number}")


def readme_examples():
    """The README's examples that run as they are (the others need the reader's files)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for number, block in enumerate(_BLOCK.findall(text)):
        if "my_seed_tasks.jsonl" not in block:
            yield pytest.param(block, id=f"README-{number}")


@pytest.mark.parametrize("code", [*examples(), *readme_examples()])
def test_docstring_example_runs(code, tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]


def test_every_step_has_an_example():
    ids = {param.id.split("-")[0] for param in examples()}
    assert any(param.id.startswith("README") for param in readme_examples())
    steps = set(distilabel_selfinstruct.steps.__all__)
    assert steps <= ids
