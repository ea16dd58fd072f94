"""Object bytes against their ceilings: one bounded run (server on core 0, generator on 1).

    python -m benchmarks.volumes [--seconds 6] [--env STRATA_X=Y ...]

Measures, in the same run and directory: the disk's sequential write+fsync speed
(``benchmarks.disk``), one core's MD5 speed, then ``strata bench`` 1 MiB PUT at 8
connections, 1 MiB GET from a hot and a cold (compressed) storage class, and 4 KiB
PUT/GET. Prints one JSON document with throughputs, medians and ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import disk
from strata.testing import Server

MIB = 1024**2


def md5_mib_per_s(total_bytes: int = 256 * MIB) -> float:
    """One core's MD5 over 1 MiB buffers (what every non-multipart PUT must compute)."""
    chunk = os.urandom(MIB)
    digest = hashlib.md5()
    started = time.perf_counter()
    for _ in range(total_bytes // MIB):
        digest.update(chunk)
    return total_bytes / MIB / (time.perf_counter() - started)


def bench(server: Server, op: str, size: str, seconds: int, bucket: str) -> dict[str, Any]:
    command = ["taskset", "-c", "1", sys.executable, "-m", "strata.cli", "bench", "s3"]
    command += ["--endpoint", server.endpoint_url, "--access-key", server.aws_access_key_id]
    command += ["--secret-key", server.aws_secret_access_key, "--json", "-c", "8"]
    command += ["--op", op, "--size", size, "--duration", f"{seconds}s", "--warmup", "1s"]
    command += ["--objects", "64", "--bucket", bucket]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def summary(report: dict[str, Any], size_bytes: int) -> dict[str, float]:
    ops = float(report["ops_per_s"])
    latency = report["latency_ms"]
    return {
        "ops_per_s": round(ops, 1),
        "mib_per_s": round(ops * size_bytes / MIB, 1),
        "p50_ms": latency.get("p50", 0),
        "p99_ms": latency.get("p99", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--env", action="append", default=[])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="strata-volumes-bench-"))
    figures = disk.probe(root / "probe", syncs=100, sequential_bytes=512 * MIB)
    out: dict[str, Any] = {
        "disk_sequential_write_fsync_mib_per_s": figures.sequential_write_mib_per_s,
        "md5_one_core_mib_per_s": round(md5_mib_per_s(), 1),
    }
    env = dict(item.split("=", 1) for item in args.env)
    server = Server(data_dir=str(root / "data"), env=env)
    server.start()
    try:
        assert server._process is not None
        pid = str(server._process.pid)
        subprocess.run(["taskset", "-a", "-p", "-c", "0", pid], check=True, capture_output=True)
        runs = {
            "put_1mib": ("put", "1MiB", MIB, "hot"),
            "get_1mib_hot": ("get", "1MiB", MIB, "hot"),
            "put_4kib": ("put", "4KiB", 4096, "small"),
            "get_4kib": ("get", "4KiB", 4096, "small"),
        }
        for name, (op, size, size_bytes, bucket) in runs.items():
            report = bench(server, op, size, args.seconds, f"bench-{bucket}")
            out[name] = summary(report, size_bytes)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    ceiling = min(out["disk_sequential_write_fsync_mib_per_s"], out["md5_one_core_mib_per_s"])
    out["put_1mib_vs_ceiling"] = round(out["put_1mib"]["mib_per_s"] / ceiling, 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
