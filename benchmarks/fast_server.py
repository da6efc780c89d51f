"""An OpenAI-compatible completion server that answers at once, for the API-path benchmark.

It answers `/v1/completions` like a model would, deterministically from the prompt and with
no model behind it: numbered new instructions (random words from the package's seed tasks,
so that the ROUGE-L filter keeps most of them) for proposal prompts, Yes/No for
classification prompts, and two instances for instance prompts. It records every request
body with its arrival time (`--record`, `<time>\t<body>` lines), so that a minimal client can send the same requests afterwards, and the
wall-clock time of the first request and the last answer (`GET /_stats`).

    python benchmarks/fast_server.py --port 8123 --record /tmp/requests.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import time
from importlib import resources

_VERBS = ["Write", "Explain", "List", "Summarize", "Describe", "Suggest", "Compare", "Find",
          "Rewrite", "Classify", "Create", "Give", "Identify", "Plan", "Generate", "Tell"]  # fmt: skip


def _vocabulary() -> list[str]:
    """The lower-case words of the package's default seed tasks (about 1,000)."""
    text = resources.files("distilabel_selfinstruct").joinpath("data/default_seed_tasks.jsonl")
    words = re.findall(r"[a-z]{3,}", text.read_text(encoding="utf-8").lower())
    return sorted(set(words))


class Answers:
    """What the server answers to a prompt (a function of the prompt alone)."""

    def __init__(self) -> None:
        self.words = _vocabulary()

    def _phrase(self, rng: random.Random, low: int, high: int) -> str:
        return " ".join(rng.choice(self.words) for _ in range(rng.randint(low, high)))

    def text(self, prompt: str) -> str:
        rng = random.Random(hashlib.sha256(prompt.encode("utf-8")).digest())
        tail = prompt.rstrip().rsplit("\n", 1)[-1]
        if tail.startswith("Classification:"):
            return rng.choice([" Yes", " No", " No"])
        if tail.startswith("Task:"):
            if "\nClass label:" in prompt[-1500:]:
                return "".join(
                    f"Class label: {label}\nInput: {self._phrase(rng, 6, 14)}.\n\n"
                    for label in ("Positive", "Negative")
                )
            return (
                f"Input: {self._phrase(rng, 4, 10)}.\n"
                f"Output: {self._phrase(rng, 8, 20).capitalize()}."
            )
        items = [
            f"{rng.choice(_VERBS)} the {self._phrase(rng, 6, 11)}."
            for _ in range(rng.randint(3, 6))
        ]
        return " " + "\n".join(f"{9 + i}. {item}" if i else item for i, item in enumerate(items))


class FastServer:
    """The server's state: the answers, the recorded bodies and the timestamps."""

    def __init__(self, record: str | None) -> None:
        self.answers = Answers()
        self.record = open(record, "ab") if record else None  # noqa: SIM115
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None

    def respond(self, method: str, path: str, body: bytes) -> bytes:
        if method == "GET" and path.endswith("/_stats"):
            if self.record:
                self.record.flush()
            return json.dumps(
                {"requests": self.count, "first": self.first, "last": self.last}
            ).encode()
        if method == "GET":  # /v1/models
            return b'{"object": "list", "data": [{"id": "fast", "object": "model"}]}'
        self.first = self.first or time.time()
        self.count += 1
        if self.record:
            self.record.write(b"%.6f\t%s\n" % (time.time(), body))
        request = json.loads(body)
        text = self.answers.text(request["prompt"])
        tokens = len(text.split())
        answer = {
            "id": f"cmpl-{self.count}", "object": "text_completion", "created": 0,
            "model": request.get("model", "fast"),
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": len(request["prompt"]) // 4, "completion_tokens": tokens,
                      "total_tokens": len(request["prompt"]) // 4 + tokens},
        }  # fmt: skip
        data = json.dumps(answer).encode()
        self.last = time.time()
        return data

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *headers = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                length = 0
                for header in headers:
                    name, _, value = header.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                data = self.respond(method, path, body)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(data), data)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(port: int, record: str | None) -> None:
    server = FastServer(record)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=1024)
    print(f"listening on http://127.0.0.1:{port}/v1", flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--record", help="append every request body to this file (JSONL)")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.record))


if __name__ == "__main__":
    main()
