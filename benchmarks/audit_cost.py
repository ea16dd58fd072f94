"""The audit trail's cost per request: two in-process apps, trail off and on, in one
process, alternating rounds (off/on, on/off, ...), loop-thread CPU per request.

Alternating in one process cancels most of the drift a shared machine adds between runs
of separate processes (measured: ±10 µs between processes, ±3 within one).

    python -m benchmarks.audit_cost --op getitem|putitem [--rounds 12] [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks import inprocess
from benchmarks.asgi_harness import InProcessApp, replay, runner


async def compare(op: str, rounds: int, requests: int) -> dict[str, list[float]]:
    concurrency = 32 if op in inprocess.WRITES else 1
    apps = {}
    for mode in ("off", "on"):
        InProcessApp.AUDIT = mode == "on"
        harness = inprocess.Harness()
        await harness.prepare()
        apps[mode] = (harness, harness.requests(op))
    try:
        for harness, pool in apps.values():
            await replay(harness.call, pool, 1000, concurrency)  # warm-up
        cpu: dict[str, list[float]] = {"off": [], "on": []}
        for n in range(rounds):
            for mode in ("off", "on") if n % 2 == 0 else ("on", "off"):
                harness, pool = apps[mode]
                started = time.thread_time()
                await replay(harness.call, pool, requests, concurrency)
                cpu[mode].append((time.thread_time() - started) / requests * 1e6)
        return cpu
    finally:
        for harness, _ in apps.values():
            await harness.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_cost", description=__doc__)
    parser.add_argument("--op", choices=inprocess.OPS, default="getitem")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    cpu = runner("uvloop")(compare(args.op, args.rounds, args.requests))
    off, on = statistics.median(cpu["off"]), statistics.median(cpu["on"])
    print(
        f"{args.op}: audit off {off:.1f} µs, on {on:.1f} µs CPU/request: +{on - off:.1f} µs "
        f"({(on / off - 1) * 100:+.1f}%), medians of {args.rounds} alternating rounds"
    )


if __name__ == "__main__":
    main()
