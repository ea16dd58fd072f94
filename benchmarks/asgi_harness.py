"""The shared half of the in-process benchmarks: a real app called through ASGI, timed by CPU.

`inprocess` (DynamoDB) and `s3_inprocess` (S3) build their signed requests; this module
builds the app (authentication on, real RocksDB in a temporary directory), turns a
botocore-signed request into an ASGI scope, replays a pool of them with N in flight, and
reports `time.thread_time()` of the event-loop thread per request — CPU, not wall time,
so figures stay steady on a shared, noisy machine.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from botocore.awsrequest import AWSRequest

from strata.app import build
from strata.config import load

ACCESS_KEY = "AKSATESTROOT00000000"
SECRET_KEY = "test/secret/key/for/strata/bench/000000000"
HOST = "127.0.0.1:4566"

Scope = dict[str, Any]
Signed = tuple[Scope, bytes]
Check = Callable[[int, bytes], None]


def to_asgi(request: AWSRequest, path: str, query_string: str, body: bytes) -> Signed:
    """An ASGI scope (and body) carrying exactly what the signed request would send."""
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers.append((b"host", HOST.encode()))
    if not any(name == b"content-length" for name, _ in headers) and body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": request.method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 1),
    }
    return scope, body


class InProcessApp:
    """A Strata app in a temporary data directory, called without sockets or HTTP.

    ``AUDIT`` (set from the benchmarks' ``--audit on|off``) turns the audit trail on or off;
    when on, its flush task runs on the loop, so its CPU is counted like a server's."""

    AUDIT = True

    def __init__(self, prefix: str) -> None:
        self.data_dir = tempfile.TemporaryDirectory(prefix=prefix)
        config = load(
            overrides={
                "data_dir": self.data_dir.name,
                "root_access_key": ACCESS_KEY,
                "root_secret_key": SECRET_KEY,
                "audit": self.AUDIT,
            },
            environ={},
        )
        self.strata = build(config)
        self.app = self.strata.app
        self._started = False

    async def call(self, signed: Signed) -> tuple[int, bytes]:
        if not self._started:
            self._started = True
            if self.app.audit is not None:
                self.app.audit.start()
        scope, body = signed
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await self.app(scope, receive, send)
        return out[0]["status"], b"".join(m.get("body", b"") for m in out[1:])

    async def aclose(self) -> None:
        """Stop the audit trail's task (it writes what it holds), then close."""
        if self.app.audit is not None:
            await self.app.audit.stop()
        self.close()

    def close(self) -> None:
        self.strata.close()
        self.data_dir.cleanup()


def expect_ok(status: int, body: bytes) -> None:
    if status not in (200, 204):
        raise SystemExit(f"request failed: {status} {body[:300]!r}")


async def replay(
    call: Callable[[Signed], Awaitable[tuple[int, bytes]]],
    pool: list[Signed],
    count: int,
    concurrency: int,
    check: Check = expect_ok,
) -> None:
    """``count`` requests from ``pool``, by ``concurrency`` tasks each calling in a loop."""
    size = len(pool)

    async def worker(first: int) -> None:
        for n, i in enumerate(range(first, count, concurrency)):
            status, body = await call(pool[i % size])
            check(status, body)
            if n % 64 == 63:
                # A server's loop turns between requests; without this, a reader that never
                # suspends starves the background tasks (the audit trail's flush) forever.
                await asyncio.sleep(0)

    if concurrency == 1:
        await worker(0)
    else:
        await asyncio.gather(*(worker(first) for first in range(concurrency)))


async def cpu_per_request(
    app: InProcessApp,
    pool: list[Signed],
    *,
    count: int,
    reps: int,
    concurrency: int,
    warmup: int,
    warmup_check: Check = expect_ok,
    profile: bool = False,
    sort: str = "tottime",
    top: int = 40,
) -> dict[str, Any]:
    """Warm up, then ``reps`` timed replays: loop-thread CPU per request, median/min/max."""
    await replay(app.call, pool, warmup, concurrency, warmup_check)
    per_request_us: list[float] = []
    for _ in range(reps):
        started = time.thread_time()
        await replay(app.call, pool, count, concurrency)
        per_request_us.append((time.thread_time() - started) / count * 1e6)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await replay(app.call, pool, count, concurrency)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(sort).print_stats(top)
    return {
        "requests": count,
        "reps": reps,
        "concurrency": concurrency,
        "cpu_us_median": round(statistics.median(per_request_us), 1),
        "cpu_us_min": round(min(per_request_us), 1),
        "cpu_us_max": round(max(per_request_us), 1),
    }


def runner(loop: str) -> Callable[[Any], Any]:
    """The event loop the server runs on (uvloop) or the standard one."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run  # type: ignore[no-any-return]
    return asyncio.run
