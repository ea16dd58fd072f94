"""One lifecycle pass over many objects, and what it does to requests served meanwhile.

`python -m benchmarks.lifecycle_pass --objects 100000 --rules 10`

A real app (`strata.app.build`, RocksDB in a temporary directory, audit off) is filled
with `--objects` small objects (100 bytes, inline) in one unversioned bucket, under ten
prefixes, a third of them tagged. The configuration has `--rules` rules of every kind
(expiration by prefix, by tag, by size, an And filter, transitions (which these small
objects skip: the 128 KB default), noncurrent expiration, a multipart abort): the first
expires one prefix's objects (a tenth), the others match nothing that is due. The store
clock is moved 3 days ahead, then:

- the pass that expires (examines every object, deletes a tenth through DeleteObject's
  path) and a second pass that only examines are timed (wall time);
- GET latency of one small object, signed requests through the ASGI app one after the
  other, is measured side by side: alone, then while a pass runs (the same number of
  requests), and the medians and 99th percentiles compared. The pass runs its chunks
  (`--chunk` versions) on the same event loop, pausing as long as each chunk took, so the
  GETs wait at most for one chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from benchmarks.asgi_harness import InProcessApp, runner
from benchmarks.s3_inprocess import BUCKET, Harness
from strata.api.s3.context import S3Context
from strata.api.s3.handler import S3Api
from strata.service.objects.integrity import PayloadChecks
from strata.service.objects.lifecycle.engine import LifecycleEngine
from strata.service.objects.lifecycle.rules import (
    LifecycleConfiguration,
    NoncurrentTransition,
    Rule,
    RuleFilter,
    Transition,
)
from strata.service.objects.objects import NewObject

DAY_S = 86400


def _rules(count: int) -> list[Rule]:
    kinds = [
        Rule("expire-p0", True, RuleFilter(prefix="p0/"), expiration_days=1),
        Rule("tag", True, RuleFilter(tags=[("class", "never")]), expiration_days=1),
        Rule("size", True, RuleFilter(size_greater_than=1 << 20), expiration_days=1),
        Rule(
            "and",
            True,
            RuleFilter(prefix="p1/", tags=[("class", "tmp")], size_less_than=10, form="and"),
            expiration_days=1,
        ),
        Rule("ia", True, RuleFilter(prefix="p2/"), transitions=[Transition("STANDARD_IA", 30)]),
        Rule("glacier", True, RuleFilter(prefix="p3/"), transitions=[Transition("GLACIER", 1)]),
        Rule("later", True, RuleFilter(prefix="p4/"), expiration_days=365),
        Rule(
            "noncurrent",
            True,
            RuleFilter(prefix="p5/"),
            noncurrent_expiration=True,
            noncurrent_days=1,
            noncurrent_transitions=[NoncurrentTransition("GLACIER", 0)],
        ),
        Rule("abort", True, RuleFilter(prefix="p6/"), abort_days=1),
        Rule("off", False, RuleFilter(prefix="p7/"), expiration_days=1),
    ]
    return [
        kinds[n] if n < len(kinds) else Rule(f"extra-{n}", True, RuleFilter(prefix=f"x{n}/"),
                                              expiration_days=1)
        for n in range(count)
    ]  # fmt: skip


def _context(harness: Harness) -> S3Context:
    api = harness.app.s3
    assert isinstance(api, S3Api)
    return api.context


async def _fill(harness: Harness, objects: int) -> None:
    service = _context(harness).objects
    body = b"x" * 100

    async def one(n: int) -> None:
        async def chunks() -> object:
            yield body

        tags = [("class", "tmp")] if n % 3 == 0 else []
        await service.put(
            BUCKET,
            f"p{n % 10}/{n:08d}",
            chunks(),  # type: ignore[arg-type]
            declared_size=len(body),
            new=NewObject(tags=tags),
            checks=PayloadChecks(),
        )

    for start in range(0, objects, 500):
        await asyncio.gather(*(one(n) for n in range(start, min(objects, start + 500))))


async def _latencies(harness: Harness, count: int) -> list[float]:
    request = harness.sign("GET", "keep/probe")
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await asyncio.sleep(0)  # the request arrives: it waits for whatever holds the loop
        await harness.must(request)
        out.append((time.perf_counter() - started) * 1e3)
        await asyncio.sleep(0)  # a server's loop turns between requests (the pass runs here)
    return out


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.3f} ms, p99 {p99:.3f} ms, max {ordered[-1]:.3f} ms"


async def run(args: argparse.Namespace) -> None:
    InProcessApp.AUDIT = False
    harness = Harness(signed_payload=False)
    try:
        await harness.must(harness.sign("PUT"))
        await harness.must(harness.sign("PUT", "keep/probe", body=b"p" * 100))
        started = time.perf_counter()
        await _fill(harness, args.objects)
        print(f"filled {args.objects} objects in {time.perf_counter() - started:.1f} s")
        context = _context(harness)
        configs = context.lifecycle
        assert configs is not None
        engine = LifecycleEngine(context.objects, configs, chunk_versions=args.chunk)
        await configs.put(BUCKET, LifecycleConfiguration(_rules(args.rules)))
        clock = context.objects.store.clock
        clock.offset_s += 3 * DAY_S  # type: ignore[attr-defined]

        idle = await _latencies(harness, args.requests)
        pass_task = asyncio.create_task(engine.run_pass())
        during: list[float] = []
        while not pass_task.done():
            during += await _latencies(harness, 50)
        first = pass_task.result()
        second_started = time.perf_counter()
        second = await engine.run_pass()
        second_s = time.perf_counter() - second_started
        after = await _latencies(harness, args.requests)
        print(
            f"pass 1: {first.examined} versions examined, {first.expired} expired in "
            f"{first.duration_s:.2f} s ({first.examined / first.duration_s:,.0f} versions/s)"
        )
        print(
            f"pass 2: {second.examined} versions examined, {second.expired} expired in "
            f"{second_s:.2f} s ({second.examined / second_s:,.0f} versions/s)"
        )
        print(f"GET alone, before:   {_summary(idle)} ({len(idle)} requests)")
        print(f"GET during pass 1:   {_summary(during)} ({len(during)} requests)")
        print(f"GET alone, after:    {_summary(after)} ({len(after)} requests)")
        ratio = statistics.median(during) / statistics.median(idle + after)
        print(f"median GET latency during the pass / alone: {ratio:.2f}x")
    finally:
        harness.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.lifecycle_pass", description=__doc__
    )
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=500, help="lifecycle_chunk_versions")
    parser.add_argument("--requests", type=int, default=2000, help="GETs alone, before/after")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    runner(args.loop)(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
