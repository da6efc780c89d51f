"""A real Argilla server for the review tests: argilla-server 2.8.0 with SQLite, and
`noida-db` (one binary from PyPI that serves Elasticsearch 8 and Redis).

argilla-server pins versions of pydantic and click that break this project's environment,
so it lives in its own virtual environment, created once under
`~/.cache/distilabel-selfinstruct/` (about 30 s with pip's cache). Everything listens on
127.0.0.1 at free ports, keeps its data in a temporary directory, and is stopped when the
context manager exits.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

VENV = Path.home() / ".cache" / "distilabel-selfinstruct" / "argilla-server-2.8.0"
API_KEY = "argilla.local-test-key"
PASSWORD = "local-test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_venv() -> Path:
    """The virtual environment with argilla-server and noida-db, made if missing."""
    python = VENV / "bin" / "python"
    ready = VENV / ".ready"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "argilla-server==2.8.0", "click<8.2",
             "noida-db==0.2.3"],
            check=True,
        )  # fmt: skip
        ready.write_text("ok")
    return python


def _wait(url: str, what: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-3000:]}")
        try:
            response = requests.get(url, headers={"X-Argilla-Api-Key": API_KEY}, timeout=2)
            if response.status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer within {timeout} s: {log.read_text()[-3000:]}")


@contextlib.contextmanager
def argilla_stack(workdir: Path) -> Iterator[str]:
    """Starts Elasticsearch and Redis (noida-db) and argilla-server; yields the API URL.
    The default owner user `argilla` has the key `API_KEY` and a workspace `argilla`.
    """
    python = ensure_venv()
    es_port, redis_port, api_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "ARGILLA_HOME_PATH": str(workdir / "home"),
        "ARGILLA_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/argilla.db?check_same_thread=False",
        "ARGILLA_ELASTICSEARCH": f"http://127.0.0.1:{es_port}",
        "ARGILLA_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ARGILLA_SEARCH_ENGINE": "elasticsearch",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ARGILLA_ENABLE_TELEMETRY": "0",
    }
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        db_log = workdir / "noida.log"
        processes.append(subprocess.Popen(
            [str(python.parent / "noida-db"), "start", "--host", "127.0.0.1", "--only",
             "elasticsearch,redis", "--elasticsearch-port", str(es_port), "--redis-port",
             str(redis_port)],
            cwd=workdir, stdout=db_log.open("w"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        _wait(f"http://127.0.0.1:{es_port}", "noida-db", processes[-1], db_log)
        server = [str(python), "-m", "argilla_server"]
        subprocess.run([*server, "database", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(
            [*server, "database", "users", "create_default", "--api-key", API_KEY,
             "--password", PASSWORD],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        api_log = workdir / "argilla.log"
        processes.append(subprocess.Popen(
            [*server, "start", "--host", "127.0.0.1", "--port", str(api_port)],
            env=env, stdout=api_log.open("w"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        url = f"http://127.0.0.1:{api_port}"
        _wait(f"{url}/api/v1/me", "argilla-server", processes[-1], api_log)
        yield url
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
