"""Object bytes against their ceilings: one bounded run (server on core 0, generator on 1).

    python -m benchmarks.volumes [--seconds 6] [--env STRATA_X=Y ...]

Measures, in the same run and directory: the disk's sequential write+fsync speed
(``benchmarks.disk``), one core's MD5 speed, then ``strata bench`` 1 MiB PUT at 8
connections, 1 MiB GET of JSON logs from a hot and a cold (compressed) storage class,
4 KiB PUT/GET, and the cold volume's compression ratio on a mix of logs and random bytes.
Prints one JSON document with throughputs, medians and ratios.
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
import urllib.request
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


def logs(size: int, seed: int) -> bytes:
    """Log lines as JSON: what compresses in a realistic mix."""
    out = bytearray()
    n = seed
    while len(out) < size:
        line = {"ts": 1700000000 + n, "level": "info", "path": f"/api/v1/items/{n % 997}"}
        line.update(status=200 + (n % 7 == 0) * 204, ms=n * 37 % 1000, user=f"u{n % 131}")
        out += json.dumps(line).encode() + b"\n"
        n += 1
    return bytes(out[:size])


def prefill_logs(server: Server, bucket: str, storage_class: str, count: int = 64) -> None:
    """The objects ``strata bench --op get --no-prefill`` reads, compressible."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    for index in range(count):
        body = logs(MIB, index * 1000)
        s3.put_object(
            Bucket=bucket, Key=f"obj-1MiB/{index:08d}", Body=body, StorageClass=storage_class
        )


def compression_mix(server: Server) -> dict[str, float]:
    """Stored bytes of a mix in the cold volume: JSON logs compress; random bytes (standing
    in for JPEG and other compressed media) are detected and kept plain."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="mix")
    before = cold_live(server)
    sizes = {"logs": 0, "random": 0}
    for index in range(8):
        for kind, body in (("logs", logs(2 * MIB, index)), ("random", os.urandom(2 * MIB))):
            s3.put_object(
                Bucket="mix", Key=f"{kind}/{index}", Body=body, StorageClass="STANDARD_IA"
            )
            sizes[kind] += len(body)
    stored = cold_live(server) - before
    return {
        "logical_bytes": sum(sizes.values()),
        "stored_bytes": stored,
        "ratio": round(sum(sizes.values()) / stored, 2),
    }


def cold_live(server: Server) -> float:
    with urllib.request.urlopen(f"{server.endpoint_url}/_strata/metrics") as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith('strata_volume_live_bytes{volume="cold"} '):
                return float(line.split()[1])
    raise RuntimeError("no cold volume metric")


def bench(
    server: Server, op: str, size: str, seconds: int, bucket: str, prefill: bool = True
) -> dict[str, Any]:
    command = ["taskset", "-c", "1", sys.executable, "-m", "strata.cli", "bench", "s3"]
    command += ["--endpoint", server.endpoint_url, "--access-key", server.aws_access_key_id]
    command += ["--secret-key", server.aws_secret_access_key, "--json", "-c", "8"]
    command += ["--op", op, "--size", size, "--duration", f"{seconds}s", "--warmup", "1s"]
    command += ["--objects", "64", "--bucket", bucket]
    if not prefill:
        command.append("--no-prefill")
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
        for name, storage_class in (("hot", "STANDARD"), ("cold", "STANDARD_IA")):
            prefill_logs(server, f"bench-logs-{name}", storage_class)
            report = bench(server, "get", "1MiB", args.seconds, f"bench-logs-{name}", False)
            out[f"get_1mib_logs_{name}"] = summary(report, MIB)
        try:
            out["compression_mix"] = compression_mix(server)
        except RuntimeError:  # a version before volumes: no cold volume to measure
            pass
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    ceiling = min(out["disk_sequential_write_fsync_mib_per_s"], out["md5_one_core_mib_per_s"])
    out["put_1mib_vs_ceiling"] = round(out["put_1mib"]["mib_per_s"] / ceiling, 2)
    cold, hot = out["get_1mib_logs_cold"]["mib_per_s"], out["get_1mib_logs_hot"]["mib_per_s"]
    out["get_1mib_cold_vs_hot"] = round(cold / hot, 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
