"""A scripted OpenAI-compatible server for the failure and flow tests (stdlib only).

It stands in for a real model server where a real one cannot misbehave on demand. The
first path segment picks its behaviour, so one server serves every test:
`http://127.0.0.1:<port>/<mode>/v1`.

- `script`: answers like a model, deterministically from the prompt (numbered
  instructions for proposal prompts, Yes/No for classification, worked examples or junk
  for instance prompts), so that filters keep some and reject some;
- `empty`: empty text; `random`: random words;
- `stall`: never answers; `stall-after-N`: answers `script` N times, then never;
- `malformed`: a body that is not JSON; `unauthorized`: HTTP 401;
- `chatonly`: HTTP 404 on `/v1/completions`, `script` on chat;
- `flaky`: HTTP 500 on every third request, `script` otherwise;
- `slow`: `script`, a quarter of a second late;
- `noinstances`: `script`, but no instance prompt gets a usable answer;
- `held`: `script`, but once `ScriptedServer.hold(after=N)` was called, requests after the
  N-th wait until `release()` (at most 10 minutes): a run stops at a known point, so that a
  test can kill it there without racing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_VERBS = ["Write", "Explain", "List", "Summarize", "Describe", "Suggest", "Compare", "Translate"]
_THINGS = ["a short poem", "three tips", "the main idea", "a recipe", "two arguments", "a plan",
           "a story", "the differences", "five questions", "a slogan"]  # fmt: skip
_TOPICS = ["the ocean", "saving money", "a rainy day", "learning a language", "city gardens",
           "the moon", "healthy sleep", "public transport", "board games", "old maps",
           "volcanoes", "friendship", "chess openings", "bread baking", "solar power"]  # fmt: skip


def _rng(prompt: str) -> random.Random:
    return random.Random(hashlib.sha256(prompt.encode("utf-8")).hexdigest())


def scripted_text(prompt: str, instances: bool = True) -> str:
    """What the `script` mode answers to `prompt` (with no usable instance at all when
    `instances` is false).
    """
    rng = _rng(prompt)
    tail = prompt.rstrip().splitlines()[-1] if prompt.strip() else ""
    if tail.startswith("Classification:"):
        return rng.choice([" Yes", " No", " No"])
    if tail.startswith("Task:"):
        if rng.random() < 0.35 or not instances:
            return "\nI do not know."  # no instance: the instance filter rejects the task
        return "".join(
            f"\nExample {k}\nInput: {rng.choice(_TOPICS)}\nOutput: {rng.choice(_THINGS)} about it."
            for k in range(1, rng.randint(2, 3))
        )
    if tail.rstrip().endswith("."):  # a proposal prompt ends with "9."
        items = []
        for _ in range(rng.randint(0, 5)):
            kind = rng.random()
            if kind < 0.15:
                items.append("Draw it.")  # rejected by the rules
            else:
                items.append(
                    f"{rng.choice(_VERBS)} {rng.choice(_THINGS)} about {rng.choice(_TOPICS)}."
                )
        if not items:
            return ""
        return " " + "\n".join(f"{10 + i}. {item}" if i else item for i, item in enumerate(items))
    return " ok"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, json.dumps({"error": {"message": message, "type": "error"}}).encode())

    def do_GET(self) -> None:  # /models
        self._send(200, json.dumps({"object": "list", "data": [{"id": "m"}]}).encode())

    def do_POST(self) -> None:
        with self.server.in_flight():
            self._answer()

    def _answer(self) -> None:
        mode, _, rest = self.path.strip("/").partition("/")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        count = self.server.count(mode)
        if mode.startswith("stall-after-"):
            mode = "script" if count <= int(mode.removeprefix("stall-after-")) else "stall"
        if mode == "stall":
            time.sleep(3600)
            return
        if mode == "held":
            self.server.wait_if_held(count)
        if mode == "malformed":
            self._send(200, b'{"id": "x", "choices": [ {"text": "oops"', "application/json")
            return
        if mode == "unauthorized":
            self._error(401, "Incorrect API key provided.")
            return
        chat = rest.endswith("chat/completions")
        if mode == "chatonly" and not chat:
            self._error(404, "Not Found")
            return
        if mode == "slow":
            time.sleep(0.25)
        if mode == "flaky" and count % 3 == 0:
            self._error(500, "internal error")
            return
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        if mode == "empty":
            text = ""
        elif mode == "random":
            rng = random.Random(count)
            text = " ".join(rng.choice(_TOPICS + _THINGS) for _ in range(12))
        else:
            text = scripted_text(prompt, instances=mode != "noinstances")
        n = int(body.get("n") or 1)
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()) + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if chat:
            choices = [{"index": i, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text}} for i in range(n)]  # fmt: skip
            kind = "chat.completion"
        else:
            choices = [{"index": i, "text": text, "finish_reason": "stop", "logprobs": None}
                       for i in range(n)]  # fmt: skip
            kind = "text_completion"
        answer = {"id": f"x{count}", "object": kind, "created": 0, "model": body.get("model"),
                  "choices": choices, "usage": usage}  # fmt: skip
        self._send(200, json.dumps(answer).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._hold_after: int | None = None
        self._released = threading.Event()
        self._waiting = 0
        self._in_flight = 0
        self.peak_in_flight = 0

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def wait_if_held(self, count: int) -> None:
        with self._lock:
            held = self._hold_after is not None and count > self._hold_after
            if held:
                self._waiting += 1
        if held:
            self._released.wait(timeout=600)
            with self._lock:
                self._waiting -= 1

    def count(self, mode: str) -> int:
        with self._lock:
            self._counts[mode] = self._counts.get(mode, 0) + 1
            return self._counts[mode]


class ScriptedServer:
    """The server on a free loopback port, in a daemon thread: `url(mode)` gives a base URL."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hold(self, after: int | None) -> None:
        """`held` mode answers `after` more requests, then makes the next ones wait
        (`None`: answer every request)."""
        with self._server._lock:
            self._server._released.set()  # let any request still waiting go
            self._server._released = threading.Event()
            self._server._counts["held"] = 0
            self._server._hold_after = after

    def peak_in_flight(self, reset: bool = False) -> int:
        """The most requests it was answering at once (since the last reset)."""
        with self._server._lock:
            peak = self._server.peak_in_flight
            if reset:
                self._server.peak_in_flight = 0
            return peak

    def waiting(self) -> int:
        """Requests of `held` mode waiting now."""
        with self._server._lock:
            return self._server._waiting

    def requests(self, mode: str) -> int:
        """How many requests reached `mode` so far."""
        with self._server._lock:
            return self._server._counts.get(mode, 0)

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{mode}/v1"
