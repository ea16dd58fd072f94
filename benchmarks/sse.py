"""SSE-S3 against unencrypted: PUT and GET throughput at 4 KiB and 1 MiB, in one run.

`python -m benchmarks.sse [--rounds 3] [--concurrency 8]`

Two in-process apps (``strata.app.build``, real RocksDB and extent files in temporary
directories, authentication on, requests signed by botocore and driven through ASGI, no
sockets): one as shipped, every object sealed with AES-256-GCM; the other the baseline,
its ``Encryptions.seal`` answering ``PLAIN``, so objects are stored as before encryption
(no envelope; GETs sent from the file instead of decrypted). Rounds alternate the two, so
a loaded machine slows both alike; the figure is wall time (PUTs durable: each waits for
its WAL fsync and extent sync, shared by the requests in flight), with the process's CPU
time per request beside it (every thread: sealing runs in the receive threads, opening in
the read threads). Medians over the rounds, and the ratio SSE-S3 / plain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from benchmarks.asgi_harness import Signed, replay, runner
from benchmarks.s3_inprocess import Harness
from strata.service.objects.encryption import PLAIN

SIZES = {"4KiB": 4096, "1MiB": 1024 * 1024}
REQUESTS = {"4KiB": 2000, "1MiB": 200}
POOL = 100


def _plain(harness: Harness) -> None:
    """The baseline: objects stored as before encryption."""
    harness.app.s3.context.objects.encryptions.seal = lambda bucket, request: PLAIN  # type: ignore[attr-defined]


def _check_size(size: int) -> Any:
    def check(status: int, body: bytes) -> None:
        if status not in (200, 204):
            raise SystemExit(f"request failed: {status} {body[:300]!r}")
        if body and len(body) != size:
            raise SystemExit(f"GET returned {len(body)} bytes, not {size}")

    return check


async def _timed(harness: Harness, pool: list[Signed], count: int, concurrency: int,
                 size: int) -> tuple[float, float]:  # fmt: skip
    """(requests per second, process CPU microseconds per request) of one replay."""
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    await replay(harness.call, pool, count, concurrency, _check_size(size))
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    return count / wall, cpu / count * 1e6


async def _round(mode: str, label: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    size, count = SIZES[label], REQUESTS[label]
    harness = Harness(signed_payload=False)
    try:
        if mode == "plain":
            _plain(harness)
        await harness.must(harness.sign("PUT"))
        body = os.urandom(size)
        puts = [harness.sign("PUT", f"o/{i:04d}", body=body) for i in range(POOL)]
        gets = [harness.sign("GET", f"o/{i:04d}") for i in range(POOL)]
        await replay(harness.call, puts, POOL, args.concurrency, _check_size(0))  # warm up
        await replay(harness.call, gets, POOL, args.concurrency, _check_size(size))
        return {
            "PUT": await _timed(harness, puts, count, args.concurrency, 0),
            "GET": await _timed(harness, gets, count, args.concurrency, size),
        }
    finally:
        await harness.aclose()


async def _run(args: argparse.Namespace) -> None:
    results: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for label in SIZES:
            for mode in ("sse", "plain"):
                for op, figure in (await _round(mode, label, args)).items():
                    results.setdefault((label, op, mode), []).append(figure)
    print(f"{'size':<5} {'op':<4} {'SSE-S3 req/s':>13} {'plain req/s':>12} {'ratio':>6} "
          f"{'SSE CPU us':>11} {'plain CPU us':>13}")  # fmt: skip
    for label in SIZES:
        for op in ("PUT", "GET"):
            sse = results[(label, op, "sse")]
            plain = results[(label, op, "plain")]
            sse_rate = statistics.median(r for r, _ in sse)
            plain_rate = statistics.median(r for r, _ in plain)
            sse_cpu = statistics.median(c for _, c in sse)
            plain_cpu = statistics.median(c for _, c in plain)
            print(
                f"{label:<5} {op:<4} {sse_rate:13.0f} {plain_rate:12.0f} "
                f"{sse_rate / plain_rate:6.2f} {sse_cpu:11.0f} {plain_cpu:13.0f}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sse", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    runner(args.loop)(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
