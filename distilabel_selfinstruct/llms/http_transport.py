"""A lean HTTP/1.1 JSON client for OpenAI-compatible servers on plain `http://`.

On a fast local server the `openai` SDK's own work per request (about 4.5 ms of CPU on a
2-core machine; `httpx` alone about 2.3 ms) is what the server waits for, and one step's
process sends every request of its batch. This client keeps one keep-alive connection per
request in flight, writes each request in one call and reads the answer by its
`Content-Length` (or chunked encoding): about 0.2 ms per request. It retries what the SDK
retries (connection errors, HTTP 408, 409, 429 and 5xx) with the same exponential backoff,
and gives up after `timeout` seconds per attempt.

An engine: asyncio and the standard library only, nothing of distilabel or openai.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HTTPStatusError", "LeanJSONClient"]

_RETRIED_STATUSES = frozenset({408, 409, 429})


class HTTPStatusError(RuntimeError):
    """The server answered with an error status; `status` holds it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class LeanJSONClient:
    """POSTs JSON to one `http://host:port/prefix` server on keep-alive connections.

    One client serves one event loop (distilabel runs each LLM's loop in its step's
    process); its idle connections are reused by the next request.

    Examples:
        ```python
        import asyncio

        from distilabel_selfinstruct.llms.http_transport import LeanJSONClient

        client = LeanJSONClient("http://127.0.0.1:9/v1", api_key="none", timeout=2, max_retries=0)
        try:
            asyncio.run(client.post("/completions", {"model": "m", "prompt": "Hi"}))
        except OSError as error:  # nothing listens on port 9
            print(type(error).__name__)
        ```

        ```text
        ConnectionRefusedError
        ```
    """

    def __init__(
        self, base_url: str, api_key: str | None, timeout: float, max_retries: int
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http:// URL")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout, self.max_retries = timeout, max_retries
        authorization = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
        self._headers = (
            f"Host: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nConnection: keep-alive\r\n{authorization}"
        ).encode("latin-1")
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    def close(self) -> None:
        """Closes the idle connections (call it while their event loop is still open)."""
        while self._idle:
            self._idle.pop()[1].close()

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        """The decoded JSON answer to `payload` POSTed at `prefix + path`.

        Raises:
            HTTPStatusError: an error status, once retries are spent (or not retried).
            OSError: the connection failed, or `TimeoutError`: the server stalled, once
                retries are spent.
        """
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            (self.prefix + path).encode("latin-1"),
            self._headers,
            len(body),
            body,
        )
        for attempt in range(self.max_retries + 1):
            try:
                async with asyncio.timeout(self.timeout):
                    status, answer = await self._exchange(request)
            except asyncio.IncompleteReadError:
                if attempt == self.max_retries:
                    raise ConnectionResetError(
                        "the server closed the connection mid-answer"
                    ) from None
            except OSError:  # TimeoutError included
                if attempt == self.max_retries:
                    raise
            else:
                if status < 400:
                    return json.loads(answer)
                retried = status in _RETRIED_STATUSES or status >= 500
                if not retried or attempt == self.max_retries:
                    raise HTTPStatusError(status, _error_message(answer))
            await asyncio.sleep(min(0.5 * 2**attempt, 8.0) * (1 - 0.25 * random.random()))
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        """Sends `request` on an idle connection (a fresh one if a reused one was closed
        by the server meanwhile) and reads the answer."""
        while self._idle:
            reader, writer = self._idle.pop()
            try:
                return await self._send(reader, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()  # closed while idle: try the next one
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return await self._send(reader, writer, request)

    async def _send(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, bytes]:
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status, headers = _parse_head(head)
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = await _read_chunked(reader)
            elif "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            else:  # HTTP/1.0 style: the answer ends with the connection
                body = await reader.read()
                headers["connection"] = "close"
        except BaseException:
            writer.close()
            raise
        if headers.get("connection", "").lower() == "close" or head.startswith(b"HTTP/1.0"):
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, body


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _error_message(body: bytes) -> str:
    """The server's error message (OpenAI's `{"error": {"message": ...}}`), or its text."""
    try:
        error = json.loads(body).get("error", {})
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    text = str(message) if message else body.decode("utf-8", "replace")
    return " ".join(text.split())[:300] or "(no message)"
