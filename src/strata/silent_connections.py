"""Close accepted connections that never send a byte (granian; Linux).

granian's HTTP/1 stack (hyper) times out a request head only from its first byte, so a
connection that sends nothing is kept forever, and holds one of granian's connection
permits (``backpressure``): a few thousand idle sockets would lock every client out.
A thread looks at this process's TCP sockets on the server's port every interval and shuts
down (``shutdown``, never ``close``: granian owns the descriptor) the ones that received no
byte within ``header_timeout_s`` of connecting; granian then drops them as closed by the peer.
The kernel keeps the times and counts (``TCP_INFO``), so nothing is tracked here.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading

log = logging.getLogger("strata")

_TCP_ESTABLISHED = 1
# struct tcp_info (linux/tcp.h): u8 tcpi_state at 0, u32 tcpi_last_data_recv (ms) at 52,
# u64 tcpi_bytes_received at 128 (Linux >= 4.1).
_INFO_BYTES = 136


def silent_for_ms(sock: socket.socket) -> int | None:
    """Milliseconds since an established connection began, if it never received a byte."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _INFO_BYTES)
    if len(info) < _INFO_BYTES or info[0] != _TCP_ESTABLISHED:
        return None
    if struct.unpack_from("<Q", info, 128)[0]:
        return None
    since_ms: int = struct.unpack_from("<I", info, 52)[0]
    return since_ms


class SilentConnectionCloser:
    """The thread; ``start`` once the listener exists, ``stop`` at shutdown."""

    def __init__(self, listen_fd: int, port: int, header_timeout_s: float) -> None:
        self.listen_fd = listen_fd
        self.port = port
        self.limit_ms = int(header_timeout_s * 1000)
        self.interval_s = max(0.1, min(1.0, header_timeout_s / 4))
        self.closed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="strata-silent", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep()
            except Exception:  # a sweep must never end the thread
                log.exception("closing silent connections failed")

    def sweep(self) -> int:
        """Shut down every silent connection past the limit; returns how many."""
        closed = 0
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd == self.listen_fd:
                continue
            try:
                if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    continue
                sock = socket.socket(fileno=os.dup(fd))  # our own reference to inspect
            except OSError:
                continue  # closed meanwhile
            with sock:
                try:
                    if sock.type != socket.SOCK_STREAM or sock.family == socket.AF_UNIX:
                        continue
                    if sock.getsockname()[1] != self.port:
                        continue
                    silent_ms = silent_for_ms(sock)
                    if silent_ms is not None and silent_ms >= self.limit_ms:
                        sock.shutdown(socket.SHUT_RDWR)
                        closed += 1
                except OSError:
                    continue
        self.closed += closed
        return closed
