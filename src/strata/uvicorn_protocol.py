"""uvicorn's httptools protocol with the bounds it lacks: head size, head time, connections.

httptools hands a header value over only once it is complete, so uvicorn buffers an
unterminated one without limit (a 200 MiB header grew the server by ~900 MB), and nothing
closes a connection that never sends a byte or trickles its headers. Here every connection
must send its request head (request line and headers) within ``header_timeout_s`` of its
first byte (or of connecting) and in at most ``head_bytes_max`` bytes (else 431 and close).
At ``connections_max`` a new connection closes the longest-idle one (no request in flight:
never sent a byte, keep-alive, or still sending its head), else it is closed itself, so a
flood of idle sockets cannot keep real clients out or exhaust file descriptors.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from strata import limits

_CLOSE = b"content-length: 0\r\nconnection: close\r\n\r\n"
_REFUSALS = {
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n" + _CLOSE,
    408: b"HTTP/1.1 408 Request Timeout\r\n" + _CLOSE,
}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    head_bytes_max: ClassVar[int] = limits.http_head_bytes_max
    header_timeout_s: ClassVar[float] = 10.0
    connections_max: ClassVar[int] = 1024
    # Connections without a request in flight, longest idle first: the ones to shed.
    idle: ClassVar[OrderedDict[GuardedHttpToolsProtocol, None]]

    @classmethod
    def configured(
        cls, *, header_timeout_s: float, connections_max: int
    ) -> type[GuardedHttpToolsProtocol]:
        """A subclass with these bounds (uvicorn instantiates the class it is given)."""
        return type(
            cls.__name__,
            (cls,),
            {
                "header_timeout_s": header_timeout_s,
                "connections_max": connections_max,
                "idle": OrderedDict(),
            },
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading_head = True
        self._head_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()
        self.idle[self] = None
        if len(self.connections) > self.connections_max:
            victim = next(iter(self.idle))
            victim.transport.close()
            victim._forget()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > self.head_bytes_max:
            self._refuse(431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._cancel_header_timer()
        self.idle.pop(self, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head = True  # what follows is the next request's head
        self._head_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.idle[self] = None  # keep-alive: uvicorn's timer closes it if it stays idle

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self._reading_head or self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(408)
        else:
            self.transport.close()

    def _refuse(self, status: int) -> None:
        """Answer without reading further and close: the head is never parsed to the end."""
        if not self.transport.is_closing():
            self.transport.write(_REFUSALS[status])
            self.transport.close()
        self._forget()

    def _forget(self) -> None:
        self._cancel_header_timer()
        self.idle.pop(self, None)
