"""The client against a scripted loopback server: framing, keep-alive, large bodies."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from strata.bench.http import Client, HTTPError, RepeatedBody

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], int]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    received = 0
    while received < length:
        received += len(await reader.read(min(65536, length - received)))
    return head[0], headers, received


def _serve(handler: Handler, check: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        handlers: list[asyncio.Task[None]] = []

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.append(task)  # type: ignore[arg-type]
            try:
                await handler(reader, writer)
            finally:
                writer.close()
                await writer.wait_closed()

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Client("127.0.0.1", port, timeout_s=30)
        try:
            await check(client)
        finally:
            client.close()
            if handlers:
                await asyncio.wait(handlers)
            server.close()
            await server.wait_closed()

    asyncio.run(main())


def test_content_length_keep_alive_and_head() -> None:
    connections = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while True:
            try:
                line, _, _ = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: yes\r\n\r\n")
            if not line.startswith("HEAD"):
                writer.write(b"hello")
            await writer.drain()
        writer.close()

    async def check(client: Client) -> None:
        first = await client.request("GET", "/a", [("host", "x")], keep_body=True)
        head = await client.request("HEAD", "/a", [("host", "x")])
        counted = await client.request("GET", "/a", [("host", "x")])
        assert (first.status, first.body, first.headers["x-thing"]) == (200, b"hello", "yes")
        assert (head.status, head.body_bytes, head.headers["content-length"]) == (200, 0, "5")
        assert (counted.body, counted.body_bytes) == (b"", 5)

    _serve(handler, check)
    assert len(connections) == 1


def test_chunked_body_and_connection_close() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        wire = b"4;ext=1\r\n<Cod\r\n2\r\ne>\r\n9\r\nNoSuchKey\r\n7\r\n</Code>\r\n0\r\n\r\n"
        for cut in range(0, len(wire), 5):  # arrive in awkward pieces
            writer.write(wire[cut : cut + 5])
            await writer.drain()
        writer.close()

    async def check(client: Client) -> None:
        for _ in range(2):  # the second request must reconnect by itself
            response = await client.request("GET", "/k", [("host", "x")])
            assert response.status == 404
            assert response.body == b"<Code>NoSuchKey</Code>"
        assert client.reconnects == 1

    _serve(handler, check)


def test_repeated_body_is_sent_whole() -> None:
    received: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, headers, size = await _read_request(reader)
        received.append(size)
        assert headers["content-length"] == str(size)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def check(client: Client) -> None:
        body = RepeatedBody(b"0123456789abcdef" * 4096, 5 * 1024 * 1024 + 3)
        response = await client.request("PUT", "/big", [("host", "x")], body)
        assert response.status == 200

    _serve(handler, check)
    assert received == [5 * 1024 * 1024 + 3]


def test_server_closing_mid_response_is_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        await writer.drain()
        writer.close()

    async def check(client: Client) -> None:
        with pytest.raises(HTTPError) as caught:
            await client.request("GET", "/k", [("host", "x")])
        assert caught.value.code == "connection-closed"

    _serve(handler, check)


def test_refused_connection_is_an_error() -> None:
    async def check() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(HTTPError) as caught:
            await Client("127.0.0.1", port).request("GET", "/", [("host", "x")])
        assert caught.value.code == "connect"

    asyncio.run(check())
