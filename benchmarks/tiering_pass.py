"""What one Intelligent-Tiering pass costs: reading versions with nothing due, and moving
monitored versions to the Infrequent tier's volume.

`python -m benchmarks.tiering_pass [--versions 20000] [--moved 200] [--moved-size 262144]`

In-process (``benchmarks.asgi_harness``): ``--versions`` INTELLIGENT_TIERING objects of
4 KiB (under the 128 KB monitored, so they stay) and ``--moved`` of ``--moved-size`` bytes
are written through the ASGI app; then the store clock is moved 31 days and
``TieringEngine.run_pass`` runs twice: the first pass moves the big ones (their bytes
copied into the cold volume, checked and synced, one batch each), the second finds
nothing due. Wall and loop-thread CPU time of each pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.asgi_harness import runner
from benchmarks.tiering_access import ClassHarness

DAY_S = 86400.0


async def measure(args: argparse.Namespace) -> None:
    harness = ClassHarness(signed_payload=False)
    try:
        await harness.must(harness.sign("PUT"))
        small, big = os.urandom(4096), os.urandom(args.moved_size)
        for i in range(args.versions):
            await harness.must(harness.put_signed(f"s/{i:08d}", small, "INTELLIGENT_TIERING"))
        for i in range(args.moved):
            await harness.must(harness.put_signed(f"b/{i:08d}", big, "INTELLIGENT_TIERING"))
        tiering = harness.app.s3.context.tiering  # type: ignore[attr-defined]
        harness.strata.store.clock.offset_s += 31 * DAY_S  # type: ignore[attr-defined]
        total = args.versions + args.moved
        for label in ("moving", "nothing due"):
            wall, cpu = time.monotonic(), time.thread_time()
            moved = await tiering.engine.run_pass()
            wall, cpu = time.monotonic() - wall, time.thread_time() - cpu
            print(
                f"pass ({label}): {total} versions, {moved} moved "
                f"({moved * args.moved_size / 2**20:.1f} MiB): {wall:.2f} s wall, "
                f"{cpu:.2f} s loop CPU, {cpu / total * 1e6:.1f} us CPU per version",
                flush=True,
            )
    finally:
        await harness.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiering_pass")
    parser.add_argument("--versions", type=int, default=20_000)
    parser.add_argument("--moved", type=int, default=200)
    parser.add_argument("--moved-size", type=int, default=256 * 1024)
    runner("uvloop")(measure(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
