"""Every ```python example in the public API's docstrings and in the README runs, on the
embedded model, and prints what the ```text block after it says (`...` stands for any text:
model outputs, distilabel's log lines).

Each runs in a child process: the examples load llama.cpp, whose threads must not live in
the test process (distilabel forks its workers from it). Marked `e2e`, except the check that
every example says what it prints.
"""

import doctest
import inspect
import os
import re
import subprocess
import sys
import textwrap

import pytest

import distilabel_selfinstruct
from tests.conftest import REPO

_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.DOTALL)
_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples():
    documented = [
        getattr(distilabel_selfinstruct, name) for name in distilabel_selfinstruct.__all__
    ]
    for obj in documented:
        doc = inspect.getdoc(obj) or ""
        for number, (code, expected) in enumerate(_BLOCK.findall(doc)):
            name = getattr(obj, "__name__", type(obj).__name__)
            yield pytest.param(
                textwrap.dedent(code), textwrap.dedent(expected), id=f"{name}-{number}"
            )


def readme_examples():
    """The README's examples that run as they are (the others need the reader's files)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for number, (code, expected) in enumerate(_BLOCK.findall(text)):
        if "my_seed_tasks.jsonl" not in code:
            yield pytest.param(code, expected, id=f"README-{number}")


@pytest.mark.e2e
@pytest.mark.parametrize(("code", "expected"), [*examples(), *readme_examples()])
def test_each_example_prints_what_it_says(code, expected, tmp_path):
    # distilabel's log would interleave with what the example prints (its listener thread
    # writes after `run` returns); only the example's own output is compared.
    env = {**os.environ, "DISTILABEL_LOG_LEVEL": "ERROR"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert _CHECKER.check_output(expected, run.stdout, _FLAGS), (
        f"expected:\n{expected}\ngot:\n{run.stdout[-3000:]}"
    )


def test_every_example_says_what_it_prints():
    """An example prints something, and a ```text block after it says what."""
    silent = [
        param.id
        for param in [*examples(), *readme_examples()]
        if "print(" not in param.values[0] or not param.values[1].strip()
    ]
    assert not silent, f"examples without a printed result to compare: {silent}"


def test_every_step_has_an_example():
    ids = {param.id.split("-")[0] for param in examples()}
    assert any(param.id.startswith("README") for param in readme_examples())
    steps = set(distilabel_selfinstruct.steps.__all__)
    assert steps <= ids
