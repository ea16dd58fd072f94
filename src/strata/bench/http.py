"""A keep-alive HTTP/1.1 client on a bare asyncio Protocol, for load generation.

Why not aiohttp or httpx: on a 2-core box the generator shares the cores with the server,
so every microsecond it spends per request is taken from the system under test. This client
does one write per small request, parses only the headers it needs, counts large bodies
without keeping them, and sends large payloads as slices of one repeated block, so a
256 MiB PUT never allocates 256 MiB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

_HEAD, _BODY, _CHUNKED, _UNTIL_CLOSE, _IDLE = range(5)
_HEAD_BYTES_MAX = 64 * 1024
_WRITE_SLICE_BYTES = 1024 * 1024
_INLINE_BODY_BYTES_MAX = 256 * 1024


class HTTPError(Exception):
    """The exchange failed below HTTP: connect, reset, timeout or a malformed response."""

    def __init__(self, code: str, message: str = "", *, sent_nothing: bool = False) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.sent_nothing = sent_nothing


@dataclass(frozen=True, slots=True)
class RepeatedBody:
    """A payload of `size_bytes` made of `block` repeated; sent without materialising it."""

    block: bytes
    size_bytes: int


Body = bytes | RepeatedBody


class Response:
    """Status, lowercase headers, and the body (kept only when asked or on error)."""

    __slots__ = ("body", "body_bytes", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.headers = headers
        self.body = b""
        self.body_bytes = 0


class Connection(asyncio.Protocol):
    """One TCP connection; one request at a time (no pipelining)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._state = _IDLE
        self._waiter: asyncio.Future[Response] | None = None
        self._response: Response | None = None
        self._body_parts: list[bytes] = []
        self._keep_body = False
        self._head_request = False
        self._remaining = 0
        self._chunk_left = -1
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        self._received_any = False
        self.reusable = False
        self.requests = 0

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect, with Nagle off so small requests leave at once."""
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(cls, host, port)
        except OSError as exc:
            raise HTTPError("connect", f"{type(exc).__name__}: {exc}", sent_nothing=True)
        return protocol

    # --- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self.reusable = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._transport = None
        if self._state == _UNTIL_CLOSE and self._response is not None:
            self._finish()
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(
                HTTPError(
                    "connection-closed",
                    str(exc) if exc else "server closed the connection",
                    sent_nothing=not self._received_any,
                )
            )
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        state = self._state
        if state == _BODY:
            self._body_data(data)
        elif state == _HEAD:
            self._buffer += data
            self._parse_head()
        elif state == _CHUNKED:
            self._buffer += data
            self._parse_chunks()
        elif state == _UNTIL_CLOSE:
            self._take(data)
        # _IDLE: bytes nobody asked for; the next request would be confused, so drop it.
        elif self._transport is not None:
            self.reusable = False
            self._transport.close()

    # --- parsing ----------------------------------------------------------------------
    def _fail(self, code: str, message: str) -> None:
        self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HTTPError(code, message))
        if self._transport is not None:
            self._transport.close()

    def _parse_head(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _HEAD_BYTES_MAX:
                self._fail("bad-response", "response head too large")
            return
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        rest = bytes(self._buffer[end + 4 :])
        self._buffer.clear()
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
            self._fail("bad-response", f"status line {lines[0][:80]!r}")
            return
        status = int(status_line[1])
        if 100 <= status < 200:  # 100 Continue and friends: wait for the real one
            self._buffer += rest
            if rest:
                self._parse_head()
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        response = Response(status, headers)
        self._response = response
        connection = headers.get("connection", "").lower()
        if connection == "close" or (status_line[0] == "HTTP/1.0" and connection != "keep-alive"):
            self.reusable = False
        if status >= 300:
            self._keep_body = True
        if self._head_request or status in (204, 304):
            self._finish()
            return
        length = headers.get("content-length")
        if headers.get("transfer-encoding", "").lower().endswith("chunked"):
            self._state = _CHUNKED
            self._chunk_left = -1
            self._buffer += rest
            self._parse_chunks()
        elif length is not None:
            self._remaining = int(length)
            self._state = _BODY
            if self._remaining == 0:
                self._finish()
            elif rest:
                self._body_data(rest)
        else:
            self.reusable = False
            self._state = _UNTIL_CLOSE
            if rest:
                self._take(rest)

    def _take(self, data: bytes | bytearray) -> None:
        response = self._response
        assert response is not None
        response.body_bytes += len(data)
        if self._keep_body:
            self._body_parts.append(bytes(data))

    def _body_data(self, data: bytes) -> None:
        if len(data) >= self._remaining:
            self._take(data[: self._remaining] if len(data) > self._remaining else data)
            self._remaining = 0
            self._finish()
        else:
            self._take(data)
            self._remaining -= len(data)

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._chunk_left > 0:
                if not buffer:
                    return
                take = min(len(buffer), self._chunk_left)
                self._take(buffer[:take])
                del buffer[:take]
                self._chunk_left -= take
                if self._chunk_left == 0:
                    self._chunk_left = -2
            elif self._chunk_left == -2:  # CRLF after chunk data
                if len(buffer) < 2:
                    return
                del buffer[:2]
                self._chunk_left = -1
            elif self._chunk_left == -1:  # size line
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                try:
                    size = int(bytes(buffer[:end]).split(b";")[0], 16)
                except ValueError:
                    self._fail("bad-response", "bad chunk size")
                    return
                del buffer[: end + 2]
                self._chunk_left = size if size else -3
            else:  # trailers until an empty line
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                line_empty = end == 0
                del buffer[: end + 2]
                if line_empty:
                    self._finish()
                    return

    def _finish(self) -> None:
        response = self._response
        assert response is not None
        if self._body_parts:
            response.body = b"".join(self._body_parts)
        self._body_parts = []
        self._response = None
        self._state = _IDLE
        self._buffer.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(response)

    # --- requests ---------------------------------------------------------------------
    async def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body | None = None,
        *,
        keep_body: bool = False,
        timeout_s: float = 60.0,
    ) -> Response:
        """Send one request and wait for its whole response.

        `headers` must not contain content-length; it is added from `body`.
        """
        transport = self._transport
        if transport is None or not self.reusable:
            raise HTTPError("connection-closed", "connection not reusable", sent_nothing=True)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self._keep_body = keep_body
        self._head_request = method == "HEAD"
        self._received_any = False
        self._state = _HEAD
        self.requests += 1
        size = 0 if body is None else len(body) if isinstance(body, bytes) else body.size_bytes
        head_parts = [f"{method} {target} HTTP/1.1\r\n"]
        head_parts.extend(f"{name}: {value}\r\n" for name, value in headers)
        if body is not None or method in ("PUT", "POST"):
            head_parts.append(f"content-length: {size}\r\n")
        head_parts.append("\r\n")
        head = "".join(head_parts).encode("latin-1")
        timer = loop.call_later(timeout_s, self._timeout, waiter)
        try:
            if body is None or (isinstance(body, bytes) and size <= _INLINE_BODY_BYTES_MAX):
                transport.write(head + body if body else head)
            else:
                transport.write(head)
                await self._send_large(body, waiter)
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def _send_large(self, body: Body, waiter: asyncio.Future[Response]) -> None:
        slices: Iterator[memoryview]
        if isinstance(body, bytes):
            block, size = memoryview(body), len(body)
            slices = (block[i : i + _WRITE_SLICE_BYTES] for i in range(0, size, _WRITE_SLICE_BYTES))
        else:
            block, size = memoryview(body.block), body.size_bytes
            slices = _SliceIter(block, size)
        for piece in slices:
            if waiter.done() or self._transport is None:
                # The server answered (or went away) before taking the whole body.
                self.reusable = False
                return
            self._transport.write(piece)
            if self._paused:
                self._drain = asyncio.get_running_loop().create_future()
                await self._drain
                self._drain = None

    def _timeout(self, waiter: asyncio.Future[Response]) -> None:
        self.reusable = False
        if not waiter.done():
            waiter.set_exception(HTTPError("timeout", "no complete response in time"))
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self.reusable = False
        if self._transport is not None:
            self._transport.close()


class _SliceIter:
    """Slices of `block`, cycled, totalling `size` bytes."""

    def __init__(self, block: memoryview, size: int) -> None:
        self._block = block
        self._left = size

    def __iter__(self) -> _SliceIter:
        return self

    def __next__(self) -> memoryview:
        if self._left <= 0:
            raise StopIteration
        step = min(self._left, len(self._block), _WRITE_SLICE_BYTES)
        self._left -= step
        return self._block[:step]


class Client:
    """A connection that reopens itself, for one host; what workloads send through."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 60.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.reconnects = 0
        self._connection: Connection | None = None

    async def connect(self) -> None:
        """Open the connection now, so the first measured request does not pay for it."""
        if self._connection is None or not self._connection.reusable:
            if self._connection is not None:
                self.reconnects += 1
            self._connection = await Connection.open(self.host, self.port)

    async def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body | None = None,
        *,
        keep_body: bool = False,
    ) -> Response:
        """Send on the kept-alive connection; retry once if a stale one closed unused."""
        for attempt in (0, 1):
            await self.connect()
            connection = self._connection
            assert connection is not None
            reused = connection.requests > 0
            try:
                return await connection.request(
                    method, target, headers, body, keep_body=keep_body, timeout_s=self.timeout_s
                )
            except HTTPError as exc:
                connection.close()
                if attempt == 0 and reused and exc.sent_nothing:
                    continue
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
