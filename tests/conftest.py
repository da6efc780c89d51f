import json
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).with_name("fixtures")

warnings.filterwarnings("ignore", module="pydantic")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def paper_seed_tasks(shared: Path) -> list[dict]:
    return read_jsonl(shared / "data/self_instruct/seed_tasks.jsonl")


@pytest.fixture(scope="session")
def recorded() -> dict:
    """Real generations of the embedded model (tests/fixtures/record_embedded_outputs.py)."""
    return json.loads((FIXTURES / "embedded_model_outputs.json").read_text(encoding="utf-8"))


def in_child(function, *args):
    """`function(*args)` run in a fresh (spawned) process, its result returned: llama.cpp's
    threads must not live in the test process, which later forks distilabel's workers
    (a fork after llama.cpp started its threads can hang the child)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def in_subprocess(function, *args, timeout=1800):
    """`function(*args)` (a module-level function of the tests, its arguments plain values)
    run by a new Python process, which may start processes of its own (distilabel's
    workers); fails the test, with the end of its stderr, on a non-zero exit."""
    import subprocess
    import sys

    code = f"from {function.__module__} import {function.__name__} as run\nrun(*{args!r})\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
