"""The ceiling for durable writes on this machine: fsync latency and sequential write speed.

A store that acknowledges a write only once it is on disk cannot, one request at a time,
beat the disk's flush latency; only group commit (many writes per flush) gets past it.
The probe writes in the directory the servers use, so it measures the same filesystem.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DiskFigures:
    """What the probe measured."""

    fdatasync_p50_ms: float
    fdatasync_p99_ms: float
    fdatasync_per_s: float
    fsync_p50_ms: float
    sequential_write_mib_per_s: float
    sequential_bytes: int

    def to_json(self) -> dict[str, Any]:
        """For the results file."""
        return self.__dict__.copy()


def _sync_latencies_ms(path: Path, count: int, sync: Any) -> list[float]:
    block = os.urandom(4096)
    latencies = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(count):
            os.write(fd, block)
            started = time.perf_counter()
            sync(fd)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return latencies


def probe(directory: Path, *, syncs: int = 300, sequential_bytes: int = 1024**3) -> DiskFigures:
    """4 KiB append + fdatasync (as a WAL does), then one large write + fsync."""
    directory.mkdir(parents=True, exist_ok=True)
    data_syncs = _sync_latencies_ms(directory / "probe-fdatasync", syncs, os.fdatasync)
    full_syncs = _sync_latencies_ms(directory / "probe-fsync", max(20, syncs // 5), os.fsync)
    chunk = os.urandom(1024**2)
    path = directory / "probe-sequential"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        started = time.perf_counter()
        written = 0
        while written < sequential_bytes:
            written += os.write(fd, chunk)
        os.fsync(fd)
        elapsed = time.perf_counter() - started
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    ordered = sorted(data_syncs)
    return DiskFigures(
        fdatasync_p50_ms=round(statistics.median(data_syncs), 3),
        fdatasync_p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        fdatasync_per_s=round(1000 / statistics.mean(data_syncs), 1),
        fsync_p50_ms=round(statistics.median(full_syncs), 3),
        sequential_write_mib_per_s=round(written / elapsed / 1024**2, 1),
        sequential_bytes=written,
    )
