"""The lean HTTP client: the same answers as the `openai` SDK, the SDK's retries, timeouts
and errors, keep-alive connections reused, chunked answers read. Against the scripted
server (HTTP/1.0, one connection per request) and a small HTTP/1.1 keep-alive server
written here (it counts connections and can answer in chunks)."""

import asyncio
import json
import threading
import time

import pytest

from distilabel_selfinstruct import OpenAICompletionLLM
from distilabel_selfinstruct.llms.http_transport import HTTPStatusError, LeanJSONClient
from tests.support.openai_server import ScriptedServer

PROMPTS = [
    "1. Name a fruit.\n2. Describe the sea.\n3.",
    "Task: Sort the list.\nClassification:",
    "Example 1\nTask: Add the numbers.\n",
]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def _outputs(server, http_client):
    llm = OpenAICompletionLLM(model="m", base_url=server.url("script"), http_client=http_client)
    llm.load()
    try:
        return llm.generate_outputs(inputs=PROMPTS, max_new_tokens=32, stop=["\n\n"], seed=3)
    finally:
        llm.unload()


def test_the_lean_client_answers_as_the_sdk_does(server):
    lean, sdk = _outputs(server, "lean"), _outputs(server, "openai")
    assert lean == sdk
    assert lean[1]["generations"] in ([" Yes"], [" No"])
    assert lean[0]["statistics"]["input_tokens"] == [9]


def test_auto_picks_the_lean_client_for_plain_http_completions_only(monkeypatch):
    def uses_lean(**kwargs):
        return OpenAICompletionLLM(model="m", **kwargs)._uses_lean_client()

    assert uses_lean(base_url="http://127.0.0.1:8000/v1")
    assert not uses_lean(base_url="https://api.example.com/v1")
    assert not uses_lean(base_url="http://127.0.0.1:8000/v1", mode="chat")
    assert not uses_lean(base_url="http://127.0.0.1:8000/v1", default_headers={"X": "y"})
    assert uses_lean(base_url="https://api.example.com/v1", http_client="lean")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.com:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert not uses_lean(base_url="http://10.0.0.5:8000/v1")  # the proxy is the SDK's
    monkeypatch.setenv("NO_PROXY", "10.0.0.5")
    assert uses_lean(base_url="http://10.0.0.5:8000/v1")


def _post(url, payload=None, **options):
    client = LeanJSONClient(url, api_key="k", **{"timeout": 5, "max_retries": 2, **options})
    return asyncio.run(client.post("/completions", payload or {"model": "m", "prompt": "Hi"}))


def test_server_errors_are_retried_and_client_errors_are_not(server):
    before = server.requests("flaky")
    answers = [_post(server.url("flaky"), {"model": "m", "prompt": f"Say {i}."}) for i in range(4)]
    assert all(answer["choices"] for answer in answers)
    assert server.requests("flaky") - before > 4  # every third request failed with a 500
    with pytest.raises(HTTPStatusError, match=r"HTTP 401: Incorrect API key provided\.") as error:
        _post(server.url("unauthorized"))
    assert error.value.status == 401
    assert server.requests("unauthorized") == 1
    with pytest.raises(ValueError):
        _post(server.url("malformed"))


def test_a_stalled_server_fails_within_the_timeout(server):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _post(server.url("stall"), timeout=1, max_retries=0)
    assert time.monotonic() - started < 5


class KeepAliveServer:
    """HTTP/1.1 with keep-alive, in a thread: echoes the prompt, counts connections; with
    `chunked`, answers in chunks; with `close_after`, closes each connection after that
    many answers without saying so (as servers drop idle connections)."""

    def __init__(self, chunked: bool = False, close_after: int | None = None) -> None:
        self.chunked, self.close_after, self.connections = chunked, close_after, 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        answered = 0
        try:
            while self.close_after is None or answered < self.close_after:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                prompt = json.loads(await reader.readexactly(length))["prompt"]
                body = json.dumps({"choices": [{"index": 0, "text": prompt.upper()}]}).encode()
                if self.chunked:
                    half = len(body) // 2
                    chunks = b"".join(
                        b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:])
                    )
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + chunks
                        + b"0\r\n\r\n"
                    )
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                await writer.drain()
                answered += 1
        except asyncio.IncompleteReadError:
            pass
        writer.close()


async def _many(client, prompts, concurrency):
    limit = asyncio.Semaphore(concurrency)

    async def one(prompt):
        async with limit:
            answer = await client.post("/completions", {"prompt": prompt})
            return answer["choices"][0]["text"]

    return await asyncio.gather(*(one(p) for p in prompts))


@pytest.mark.parametrize("chunked", [False, True])
def test_keep_alive_connections_are_reused(chunked):
    served = KeepAliveServer(chunked=chunked)
    client = LeanJSONClient(served.url, api_key=None, timeout=5, max_retries=0)
    prompts = [f"say {i}" for i in range(40)]
    assert asyncio.run(_many(client, prompts, concurrency=4)) == [p.upper() for p in prompts]
    assert served.connections <= 4


def test_a_connection_the_server_dropped_is_replaced_without_an_error():
    served = KeepAliveServer(close_after=3)
    client = LeanJSONClient(served.url, api_key=None, timeout=5, max_retries=0)

    async def one_by_one():
        return [await _many(client, [f"p{i}"], 1) for i in range(10)]

    assert asyncio.run(one_by_one()) == [[f"P{i}"] for i in range(10)]
    assert served.connections >= 4


def test_loading_keeps_per_request_lines_out_of_the_log():
    """distilabel silences `httpx`, but openai 3.x logs each request through `httpx2`."""
    import logging

    llm = OpenAICompletionLLM(model="m", base_url="http://127.0.0.1:9/v1")
    llm.load()
    for name in ("httpx", "httpx2"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
