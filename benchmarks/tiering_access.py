"""What Intelligent-Tiering's access tracking costs a GET, measured in-process.

`python -m benchmarks.tiering_access [--reps 5] [--requests 3000] [--rounds 3]`

The same harness as `benchmarks.s3_inprocess` (loop-thread CPU per signed GET, through
the ASGI app, real RocksDB): GETs of STANDARD objects and of INTELLIGENT_TIERING ones,
at 4 KiB (below the 128 KB Intelligent-Tiering monitors: one size test) and at 256 KiB
(monitored: the access time is noted in memory, a dict store). The configurations run
alternately, ``--rounds`` times, so a loaded machine slows them alike; the ratio
IT/STANDARD of each size is what to read. The batched write of access times (one record
per accessed object per ``intelligent_tiering_access_flush_s``) runs off the request
path and is not in these figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Any
from urllib.parse import quote

from botocore.awsrequest import AWSRequest

from benchmarks.asgi_harness import HOST, cpu_per_request, runner, to_asgi
from benchmarks.s3_inprocess import BUCKET, POOL_SIZE, Harness

CLASSES = ("STANDARD", "INTELLIGENT_TIERING")
SIZES = (4096, 256 * 1024)


class ClassHarness(Harness):
    def put_signed(self, key: str, body: bytes, storage_class: str) -> Any:
        path = f"/{BUCKET}/{quote(key)}"
        headers = {"Content-Length": str(len(body)), "x-amz-storage-class": storage_class}
        request = AWSRequest("PUT", f"http://{HOST}{path}", data=body, headers=headers)
        self.auth.add_auth(request)
        return to_asgi(request, path, "", body)


async def measure(storage_class: str, size: int, args: argparse.Namespace) -> float:
    harness = ClassHarness(signed_payload=False)
    try:
        await harness.must(harness.sign("PUT"))
        body = os.urandom(size)
        for i in range(POOL_SIZE):
            await harness.must(harness.put_signed(f"obj/{i:08d}", body, storage_class))
        pool = [harness.sign("GET", f"obj/{i:08d}") for i in range(POOL_SIZE)]
        result = await cpu_per_request(
            harness, pool, count=args.requests, reps=args.reps, concurrency=1, warmup=300
        )
        return float(result["cpu_us_median"])
    finally:
        await harness.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiering_access")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the classes")
    args = parser.parse_args(argv)
    run = runner("uvloop")
    figures: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for size in SIZES:
            for storage_class in CLASSES:
                figure = run(measure(storage_class, size, args))
                figures.setdefault((storage_class, size), []).append(figure)
    for size in SIZES:
        standard = statistics.median(figures[("STANDARD", size)])
        tiering = statistics.median(figures[("INTELLIGENT_TIERING", size)])
        print(
            f"GET {size // 1024:>4} KiB  STANDARD {standard:7.1f} us  INTELLIGENT_TIERING "
            f"{tiering:7.1f} us CPU/request  ratio {tiering / standard:.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
