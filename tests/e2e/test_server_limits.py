"""Denial of service at the HTTP edge, for both servers: huge heads, floods, idle sockets.

Each test starts its own server with small timeouts; loops are bounded in bytes, sockets
and seconds, and stop by themselves.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client
from tests.server import RunningServer, start_server

SERVERS = ["granian", "uvicorn"]
MIB = 1024 * 1024


def resident_bytes(server: RunningServer) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def soft_fd_limit(server: RunningServer) -> int:
    with open(f"/proc/{server.process.pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open-file limit")


def closed_by_server(sock: socket.socket, within_s: float) -> bytes | None:
    """What the server sent before closing, or None if it is still open after ``within_s``."""
    sock.settimeout(within_s)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def health_over(sock: socket.socket) -> bytes:
    """One GET of the health endpoint on an open connection; the whole response."""
    sock.sendall(b"GET /_strata/health HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(10)
    response = b""
    while b"\r\n\r\n" not in response or not response.endswith(b"}"):
        chunk = sock.recv(65536)
        assert chunk, response
        response += chunk
    return response


def signed_request_succeeds(server: RunningServer) -> bool:
    s3: Any = client(server, "s3", connect_timeout=10, read_timeout=10)
    return "Buckets" in s3.list_buckets()


@pytest.fixture(params=SERVERS)
def edge_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path / "data",
        env={
            "STRATA_SERVER": request.param,
            "STRATA_HEADER_TIMEOUT_S": "1",
            "STRATA_KEEP_ALIVE_TIMEOUT_S": "1",
        },
        nofile=(256, 256),
    )
    yield running
    running.stop()


def test_unterminated_header_is_refused_before_buffering(edge_server: RunningServer) -> None:
    before = resident_bytes(edge_server)
    sent = 0
    with socket.create_connection(("127.0.0.1", edge_server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * MIB
        try:
            while sent < 50 * MIB:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = closed_by_server(sock, 10)
    assert sent < 50 * MIB  # the server stopped reading and closed
    assert answer is not None
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431")
    assert resident_bytes(edge_server) < before + 20 * MIB
    assert signed_request_succeeds(edge_server)


def test_idle_connection_flood_under_a_low_fd_limit(edge_server: RunningServer) -> None:
    assert soft_fd_limit(edge_server) == 256
    flood: list[socket.socket] = []
    try:
        for _ in range(300):  # more than the server has descriptors
            flood.append(socket.create_connection(("127.0.0.1", edge_server.port), timeout=5))
        for sock in flood[::3]:  # a third trickle a request head and never finish it
            sock.sendall(b"GET / HTTP/1.1\r\n")
        assert signed_request_succeeds(edge_server)
    finally:
        for sock in flood:
            sock.close()


def test_silent_and_slow_connections_are_closed(edge_server: RunningServer) -> None:
    with (
        socket.create_connection(("127.0.0.1", edge_server.port)) as silent,
        socket.create_connection(("127.0.0.1", edge_server.port)) as slow,
    ):
        slow.sendall(b"GET /_strata/health HTTP/1.1\r\nHost: x\r\n")
        assert closed_by_server(silent, 10) == b""
        answer = closed_by_server(slow, 10)
        assert answer is not None
        assert b"200 OK" not in answer


def test_idle_keep_alive_connection_is_closed(edge_server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", edge_server.port)) as sock:
        assert health_over(sock).startswith(b"HTTP/1.1 200")
        answer = closed_by_server(sock, 10)
        assert answer is not None
        assert b"HTTP/1.1" not in answer


def test_open_file_limit_raised_to_the_hard_limit(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", nofile=(256, 4096))
    try:
        assert soft_fd_limit(running) == 4096
    finally:
        running.stop()


def test_keep_alive_connection_serves_several_requests(edge_server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", edge_server.port), timeout=10) as sock:
        for _ in range(3):
            assert health_over(sock).startswith(b"HTTP/1.1 200")
            time.sleep(0.2)  # idle, but well inside the keep-alive timeout


def test_a_refused_header_section_closes_the_connection_its_body_is_on(
    server: RunningServer,
) -> None:
    """Too many header bytes for Strata (16 KiB) but not for the HTTP server: the error
    goes back before the body is read, so the connection must not carry another request
    (the body's bytes would be read as the start of the next one)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        head = (
            "PUT /some-bucket/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"x-amz-meta-m: {'x' * 20000}\r\nContent-Length: 1\r\n\r\n"
        )
        conn.sendall(head.encode() + b"x")
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert b" 400 " in status_line, reply[:200]
    assert b"connection: close" in rest.split(b"\r\n\r\n")[0].lower(), reply[:500]
