"""Latency histogram and run totals that several processes can add together.

The histogram is log-linear over microseconds (64 sub-buckets per power of two, so every
recorded value is known to within 1.6%): recording is a few integer operations, it has a
fixed size whatever the run length, and two histograms merge by adding counts, which is
what lets `--processes` report true percentiles instead of averaging them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_SUB_BITS = 6
_SUB = 1 << _SUB_BITS  # 64 sub-buckets per power of two
_LINEAR = 2 * _SUB  # values below 128 us are exact
_BUCKETS = _LINEAR + 40 * _SUB  # enough for 2**46 us (two years)


def bucket_index(value_us: int) -> int:
    """Index of the bucket that holds `value_us`."""
    if value_us < _LINEAR:
        return max(value_us, 0)
    shift = value_us.bit_length() - _SUB_BITS - 1
    return _LINEAR + (shift - 1) * _SUB + (value_us >> shift) - _SUB


def bucket_value(index: int) -> int:
    """Upper bound (inclusive) of the bucket: percentiles never understate latency."""
    if index < _LINEAR:
        return index
    shift = (index - _LINEAR) // _SUB + 1
    low = ((index - _LINEAR) % _SUB + _SUB) << shift
    return low + (1 << shift) - 1


class Histogram:
    """Counts of latencies in microseconds; see the module docstring."""

    __slots__ = ("counts", "max_us", "min_us", "sum_us", "total")

    def __init__(self) -> None:
        self.counts = [0] * _BUCKETS
        self.total = 0
        self.sum_us = 0
        self.min_us = 0
        self.max_us = 0

    def record(self, value_us: int) -> None:
        """Add one latency."""
        if value_us < _LINEAR:
            index = max(value_us, 0)
        else:
            shift = value_us.bit_length() - _SUB_BITS - 1
            index = _LINEAR + (shift - 1) * _SUB + (value_us >> shift) - _SUB
        self.counts[index] += 1
        if self.total == 0 or value_us < self.min_us:
            self.min_us = value_us
        if value_us > self.max_us:
            self.max_us = value_us
        self.total += 1
        self.sum_us += value_us

    def merge(self, other: Histogram) -> None:
        """Add `other`'s counts into this one."""
        if other.total == 0:
            return
        self.min_us = other.min_us if self.total == 0 else min(self.min_us, other.min_us)
        self.max_us = max(self.max_us, other.max_us)
        self.total += other.total
        self.sum_us += other.sum_us
        counts = self.counts
        for index, count in enumerate(other.counts):
            if count:
                counts[index] += count

    def percentile(self, fraction: float) -> int:
        """Smallest recorded bound that `fraction` of the values do not exceed, in us."""
        if self.total == 0:
            return 0
        rank = max(1, int(fraction * self.total + 0.999999))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return min(bucket_value(index), self.max_us)
        return self.max_us

    def to_json(self) -> dict[str, Any]:
        """Sparse form for pipes and files."""
        return {
            "buckets": {str(i): c for i, c in enumerate(self.counts) if c},
            "total": self.total,
            "sum_us": self.sum_us,
            "min_us": self.min_us,
            "max_us": self.max_us,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        """Inverse of `to_json`."""
        hist = cls()
        for index, count in data["buckets"].items():
            hist.counts[int(index)] = int(count)
        hist.total = int(data["total"])
        hist.sum_us = int(data["sum_us"])
        hist.min_us = int(data["min_us"])
        hist.max_us = int(data["max_us"])
        return hist


@dataclass(slots=True)
class Tally:
    """Everything one process counted during the measured window."""

    hist: Histogram = field(default_factory=Histogram)
    ops: int = 0
    bytes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)
    cpu_user_s: float = 0.0
    cpu_sys_s: float = 0.0

    def error(self, code: str, sample: str = "") -> None:
        """Count a failed operation under its code; keep the first message per code."""
        self.errors[code] += 1
        if code not in self.error_samples:
            self.error_samples[code] = sample[:300]

    def merge(self, other: Tally) -> None:
        """Add another process's tally."""
        self.hist.merge(other.hist)
        self.ops += other.ops
        self.bytes += other.bytes
        self.errors.update(other.errors)
        for code, sample in other.error_samples.items():
            self.error_samples.setdefault(code, sample)
        self.cpu_user_s += other.cpu_user_s
        self.cpu_sys_s += other.cpu_sys_s

    def to_json(self) -> dict[str, Any]:
        """Form sent from worker processes to the parent."""
        return {
            "hist": self.hist.to_json(),
            "ops": self.ops,
            "bytes": self.bytes,
            "errors": dict(self.errors),
            "error_samples": self.error_samples,
            "cpu_user_s": self.cpu_user_s,
            "cpu_sys_s": self.cpu_sys_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        """Inverse of `to_json`."""
        return cls(
            hist=Histogram.from_json(data["hist"]),
            ops=int(data["ops"]),
            bytes=int(data["bytes"]),
            errors=Counter({str(k): int(v) for k, v in data["errors"].items()}),
            error_samples={str(k): str(v) for k, v in data["error_samples"].items()},
            cpu_user_s=float(data["cpu_user_s"]),
            cpu_sys_s=float(data["cpu_sys_s"]),
        )


@dataclass(frozen=True, slots=True)
class Report:
    """The figures a run prints: throughput, latency percentiles, errors, own CPU."""

    name: str
    target: str
    concurrency: int
    processes: int
    duration_s: float
    ops: int
    ops_per_s: float
    bytes_total: int
    mib_per_s: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    error_samples: dict[str, str]
    generator_cpu_s: float
    generator_cpu_cores: float
    params: dict[str, Any]

    @property
    def ok(self) -> bool:
        """A run with any failed request is not a result."""
        return not self.errors and self.ops > 0

    @classmethod
    def build(
        cls,
        *,
        name: str,
        target: str,
        concurrency: int,
        processes: int,
        duration_s: float,
        tally: Tally,
        params: dict[str, Any],
    ) -> Report:
        """Turn a merged tally into the figures."""
        hist = tally.hist
        duration_s = max(duration_s, 1e-9)
        cpu_s = tally.cpu_user_s + tally.cpu_sys_s
        mean_ms = hist.sum_us / hist.total / 1000 if hist.total else 0.0
        return cls(
            name=name,
            target=target,
            concurrency=concurrency,
            processes=processes,
            duration_s=round(duration_s, 3),
            ops=tally.ops,
            ops_per_s=round(tally.ops / duration_s, 1),
            bytes_total=tally.bytes,
            mib_per_s=round(tally.bytes / duration_s / 1024**2, 2),
            latency_ms={
                "mean": round(mean_ms, 3),
                "p50": hist.percentile(0.50) / 1000,
                "p90": hist.percentile(0.90) / 1000,
                "p99": hist.percentile(0.99) / 1000,
                "p99.9": hist.percentile(0.999) / 1000,
                "max": hist.max_us / 1000,
            },
            errors=dict(sorted(tally.errors.items())),
            error_samples=dict(sorted(tally.error_samples.items())),
            generator_cpu_s=round(cpu_s, 3),
            generator_cpu_cores=round(cpu_s / duration_s, 3),
            params=params,
        )

    def to_json(self) -> dict[str, Any]:
        """The `--json` document."""
        return {
            "name": self.name,
            "target": self.target,
            "ok": self.ok,
            "concurrency": self.concurrency,
            "processes": self.processes,
            "duration_s": self.duration_s,
            "ops": self.ops,
            "ops_per_s": self.ops_per_s,
            "bytes": self.bytes_total,
            "mib_per_s": self.mib_per_s,
            "latency_ms": self.latency_ms,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "generator_cpu_s": self.generator_cpu_s,
            "generator_cpu_cores": self.generator_cpu_cores,
            "params": self.params,
        }

    def to_text(self) -> str:
        """The human report."""
        lat = self.latency_ms
        lines = [
            f"{self.name} against {self.target}",
            f"  concurrency {self.concurrency} in {self.processes} process(es), "
            f"{self.duration_s:.1f}s measured",
            f"  throughput  {self.ops_per_s:,.1f} ops/s   {self.mib_per_s:,.2f} MiB/s   "
            f"({self.ops:,} ops)",
            f"  latency ms  p50 {lat['p50']:.3f}  p90 {lat['p90']:.3f}  p99 {lat['p99']:.3f}  "
            f"p99.9 {lat['p99.9']:.3f}  max {lat['max']:.3f}  mean {lat['mean']:.3f}",
            f"  generator   {self.generator_cpu_s:.2f} CPU-s "
            f"({self.generator_cpu_cores:.2f} cores busy)",
        ]
        if self.errors:
            lines.append("  FAILED: requests that did not succeed, by code:")
            for code, count in self.errors.items():
                sample = self.error_samples.get(code, "")
                lines.append(f"    {count:>8}  {code}  {sample}")
        elif self.ops == 0:
            lines.append("  FAILED: no operation completed")
        return "\n".join(lines)
