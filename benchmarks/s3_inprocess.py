"""CPU per S3 request, measured in-process: the server's cost without HTTP or noise.

`python -m benchmarks.s3_inprocess --op get|put|head|list|all [--profile]`

The app is built with `strata.app.build` (authentication on, real RocksDB in a temporary
data directory) and driven through its ASGI interface with requests signed by botocore
(`S3SigV4Auth` on an `AWSRequest`, Content-Length included), as a client would send them;
no socket, no HTTP parser. The figure is `time.thread_time()` of the event-loop thread
divided by the number of requests: the CPU the loop thread spends per request (SigV4,
routing, service, RocksDB, response headers and body). Work on other threads (the
group-commit WAL fsync of a durable PUT) is not counted, and neither is waiting, so the
figure is far steadier than wall time on a shared, noisy machine. It is the median (and
min/max) of `--reps` repetitions.

The workloads mirror `strata bench s3` and the peer benchmark: GET and HEAD read 4 KiB
objects (`--size`) picked from `--objects` keys; PUT overwrites a pool of keys with
4 KiB bodies (durable: each waits for its WAL fsync; `UNSIGNED-PAYLOAD` as `strata bench`
sends, or `--payload signed` for a SHA-256 of the body); LIST is ListObjectsV2, first page
of 1,000 keys over 10,000 zero-byte objects (`--list-size` to store bytes in them).
Requests are signed before the clock starts and replayed round-robin.

`--profile` runs one more repetition under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any
from urllib.parse import quote, urlencode

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.asgi_harness import (
    ACCESS_KEY,
    HOST,
    SECRET_KEY,
    InProcessApp,
    Signed,
    cpu_per_request,
    expect_ok,
    runner,
    to_asgi,
)

BUCKET = "bench"
POOL_SIZE = 200
OPS = ("get", "head", "put", "list")


class _UnsignedPayload(S3SigV4Auth):
    """SigV4 with ``x-amz-content-sha256: UNSIGNED-PAYLOAD``, as `strata bench` sends."""

    def _should_sha256_sign_payload(self, request: AWSRequest) -> bool:
        return False


class Harness(InProcessApp):
    """A Strata app in a temporary directory and a way to call it as an S3 client."""

    def __init__(self, signed_payload: bool) -> None:
        super().__init__("strata-s3-inprocess-")
        self.credentials = Credentials(ACCESS_KEY, SECRET_KEY)
        self.auth = (S3SigV4Auth if signed_payload else _UnsignedPayload)(
            self.credentials, "s3", "us-east-1"
        )

    def sign(
        self,
        method: str,
        key: str = "",
        query: dict[str, str] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Signed:
        """An ASGI scope and body for one signed S3 request (path style)."""
        path = f"/{BUCKET}/{quote(key)}" if key else f"/{BUCKET}"
        query_string = urlencode(sorted((query or {}).items()), quote_via=quote)
        url = f"http://{HOST}{path}" + (f"?{query_string}" if query_string else "")
        sent = {"Content-Length": str(len(body))} if body or method == "PUT" else {}
        request = AWSRequest(method, url, data=body, headers={**sent, **(headers or {})})
        self.auth.add_auth(request)
        return to_asgi(request, path, query_string, body)

    async def must(self, signed: Signed) -> bytes:
        status, body = await self.call(signed)
        if status not in (200, 204):
            raise SystemExit(f"{signed[0]['method']} {signed[0]['path']}: {status} {body[:300]!r}")
        return body

    async def prepare(self, op: str, objects: int, size: int, list_size: int) -> None:
        await self.must(self.sign("PUT"))
        if op == "put":
            return
        count = 10_000 if op == "list" else objects
        payload = os.urandom(list_size if op == "list" else size)
        prefix = "list-10000/" if op == "list" else "obj/"
        signed = [self.sign("PUT", f"{prefix}{i:08d}", body=payload) for i in range(count)]
        for chunk in range(0, count, 64):
            await asyncio.gather(*(self.must(s) for s in signed[chunk : chunk + 64]))

    def requests(self, op: str, objects: int, size: int) -> list[Signed]:
        if op in ("get", "head"):
            method = op.upper()
            step = max(1, objects // POOL_SIZE)
            return [self.sign(method, f"obj/{i * step % objects:08d}") for i in range(POOL_SIZE)]
        if op == "put":
            body = os.urandom(size)
            return [self.sign("PUT", f"put/{i:06d}", body=body) for i in range(POOL_SIZE)]
        if op == "list":
            query = {"list-type": "2", "max-keys": "1000", "prefix": "list-10000/"}
            return [self.sign("GET", query=query)]
        raise ValueError(f"unknown op {op!r}")


def _full_listing(status: int, body: bytes) -> None:
    expect_ok(status, body)
    if body.count(b"<Key>") != 1000:
        raise SystemExit(f"short listing: {body.count(b'<Key>')} keys")


async def measure(op: str, args: argparse.Namespace) -> dict[str, Any]:
    harness = Harness(args.payload == "signed")
    count = args.requests if op != "list" else max(1, args.requests // 100)
    try:
        await harness.prepare(op, args.objects, args.size, args.list_size)
        result = await cpu_per_request(
            harness,
            harness.requests(op, args.objects, args.size),
            count=count,
            reps=args.reps,
            concurrency=args.concurrency,
            warmup=min(count, 500),
            warmup_check=_full_listing if op == "list" else expect_ok,
            profile=args.profile,
            sort=args.sort,
            top=args.top,
        )
        if op == "list":
            result["pages_per_cpu_s"] = round(1e6 / result["cpu_us_median"], 1)
        return {"op": op, **result}
    finally:
        await harness.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.s3_inprocess", description=__doc__)
    parser.add_argument("--op", choices=(*OPS, "all"), default="all")
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per repetition (LIST: /100)"
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions (median reported)")
    parser.add_argument("--size", type=int, default=4096, help="object bytes for GET/HEAD/PUT")
    parser.add_argument("--objects", type=int, default=1000, help="objects GET/HEAD read")
    parser.add_argument("--list-size", type=int, default=0, help="bytes in each listed object")
    parser.add_argument("--payload", choices=("unsigned", "signed"), default="unsigned")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight (PUTs then share WAL fsyncs, as at 32 connections)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumtime)")
    parser.add_argument("--top", type=int, default=40, help="functions listed with --profile")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", action="store_true", help="one JSON line per op")
    parser.add_argument("--audit", choices=("on", "off"), default="on", help="the audit trail")
    args = parser.parse_args(argv)
    InProcessApp.AUDIT = args.audit == "on"
    run = runner(args.loop)
    for op in OPS if args.op == "all" else (args.op,):
        result = run(measure(op, args))
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        extra = f"; {result['pages_per_cpu_s']} pages per CPU-second" if op == "list" else ""
        print(
            f"{op:<5} {result['cpu_us_median']:8.1f} us CPU/request (median of "
            f"{result['reps']}; min {result['cpu_us_min']}, max {result['cpu_us_max']}; "
            f"{result['requests']} requests each, {args.concurrency} in flight{extra})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
