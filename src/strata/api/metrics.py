"""Prometheus metrics: requests by service and operation, latency, bytes, errors by code,
and registered families (gauges and counters read at scrape time).

Plain dicts updated on the event-loop thread (no locks needed there); rendered in the
Prometheus text format at ``/_strata/metrics``. Label values come from bounded sets —
operations from the protocols' known operations (anything else is ``unknown``), error
codes shaped like AWS codes and capped per service — and are escaped when rendered, so
a client cannot forge samples or grow the series without bound.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

log = logging.getLogger("strata.metrics")

LATENCY_BUCKETS_S: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
UNKNOWN: Final = "unknown"
OTHER: Final = "other"
ERROR_CODES_PER_SERVICE_MAX: Final = 200
_ERROR_CODE: Final = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}\Z")
_NAME: Final = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")

Labels = Mapping[str, str]
Sample = tuple[Labels, float]
Reading = float | Iterable[Sample]


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family read when scraped: one value, or samples with labels."""

    name: str
    kind: Literal["gauge", "counter"]
    help: str
    read: Callable[[], Reading]


def escape_label(value: str) -> str:
    """Prometheus text format: backslash, double quote and newline are escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    return ",".join(f'{name}="{escape_label(value)}"' for name, value in labels.items())


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


class Metrics:
    def __init__(self, operations: Mapping[str, Collection[str]] | None = None) -> None:
        # service -> operations that may become label values; None: no bound (unit tests)
        self.operations = (
            {service: frozenset(ops) for service, ops in operations.items()}
            if operations is not None
            else None
        )
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.bytes_in: dict[str, int] = defaultdict(int)
        self.bytes_out: dict[str, int] = defaultdict(int)
        self._latency_counts: dict[tuple[str, str], list[int]] = {}
        self._latency_sums: dict[tuple[str, str], float] = defaultdict(float)
        self._error_codes: dict[str, set[str]] = defaultdict(set)
        self.families: dict[str, Family] = {}
        # Called once at the start of each scrape: lets several families share one reading.
        self.before_scrape: list[Callable[[], None]] = []

    def register(
        self,
        name: str,
        help: str,
        read: Callable[[], Reading],
        kind: Literal["gauge", "counter"] = "gauge",
    ) -> None:
        """Add a family read at every scrape; ``read`` must be cheap (no scans)."""
        assert _NAME.match(name), name
        assert name not in self.families, f"{name} registered twice"
        assert help, f"{name} needs HELP text"
        self.families[name] = Family(name, kind, help, read)

    def operation_label(self, service: str, operation: str) -> str:
        if self.operations is None:
            return operation
        known = self.operations.get(service)
        return operation if known is not None and operation in known else UNKNOWN

    def _error_label(self, service: str, code: str) -> str:
        seen = self._error_codes[service]
        if code in seen:
            return code
        if not _ERROR_CODE.match(code) or len(seen) >= ERROR_CODES_PER_SERVICE_MAX:
            return OTHER
        seen.add(code)
        return code

    def observe(
        self,
        service: str,
        operation: str,
        status: int,
        seconds: float,
        bytes_in: int,
        bytes_out: int,
        error_code: str | None,
    ) -> None:
        operation = self.operation_label(service, operation)
        self.requests[(service, operation, status)] += 1
        if error_code:
            self.errors[(service, self._error_label(service, error_code))] += 1
        self.bytes_in[service] += bytes_in
        self.bytes_out[service] += bytes_out
        key = (service, operation)
        counts = self._latency_counts.get(key)
        if counts is None:
            counts = self._latency_counts[key] = [0] * (len(LATENCY_BUCKETS_S) + 1)
        for index, bound in enumerate(LATENCY_BUCKETS_S):
            if seconds <= bound:
                counts[index] += 1
                break
        else:
            counts[-1] += 1
        self._latency_sums[key] += seconds

    def render(self) -> str:
        for hook in self.before_scrape:
            try:
                hook()
            except Exception:
                log.exception("metrics hook %r failed", hook)
        lines: list[str] = []
        _header(
            lines,
            "strata_requests_total",
            "counter",
            "Requests by service, operation and HTTP status.",
        )
        for (service, op, status), n in sorted(self.requests.items()):
            labels = _labels({"service": service, "operation": op, "status": str(status)})
            lines.append(f"strata_requests_total{{{labels}}} {n}")
        _header(
            lines, "strata_errors_total", "counter", "Error responses by service and error code."
        )
        for (service, code), n in sorted(self.errors.items()):
            lines.append(
                f"strata_errors_total{{{_labels({'service': service, 'code': code})}}} {n}"
            )
        _header(lines, "strata_request_bytes_total", "counter", "Request body bytes received.")
        for service, n in sorted(self.bytes_in.items()):
            lines.append(f"strata_request_bytes_total{{{_labels({'service': service})}}} {n}")
        _header(lines, "strata_response_bytes_total", "counter", "Response body bytes sent.")
        for service, n in sorted(self.bytes_out.items()):
            lines.append(f"strata_response_bytes_total{{{_labels({'service': service})}}} {n}")
        self._render_latency(lines)
        for family in self.families.values():
            _render_family(lines, family)
        return "\n".join(lines) + "\n"

    def _render_latency(self, lines: list[str]) -> None:
        name = "strata_request_duration_seconds"
        _header(
            lines, name, "histogram", "Request latency, from the first byte in to the last out."
        )
        for (service, op), counts in sorted(self._latency_counts.items()):
            labels = _labels({"service": service, "operation": op})
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS_S, counts, strict=False):
                cumulative += count
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {cumulative}')
            cumulative += counts[-1]
            lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {cumulative}')
            lines.append(f"{name}_count{{{labels}}} {cumulative}")
            lines.append(f"{name}_sum{{{labels}}} {self._latency_sums[(service, op)]}")


def _header(lines: list[str], name: str, kind: str, help: str) -> None:
    text = help.replace("\\", "\\\\").replace("\n", "\\n")
    lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _render_family(lines: list[str], family: Family) -> None:
    try:
        reading = family.read()
        samples = [({}, reading)] if isinstance(reading, int | float) else list(reading)
    except Exception:
        # A scrape must not fail because one reading did (e.g. the store is closing).
        log.exception("metric %s could not be read", family.name)
        return
    _header(lines, family.name, family.kind, family.help)
    for labels, value in samples:
        if labels:
            lines.append(f"{family.name}{{{_labels(labels)}}} {_number(value)}")
        else:
            lines.append(f"{family.name} {_number(value)}")
