"""Prometheus metrics: requests by service and operation, latency, bytes, errors by code.

Plain dicts updated on the event-loop thread (no locks needed there); rendered in the
Prometheus text format at ``/_strata/metrics``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Final

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


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.bytes_in: dict[str, int] = defaultdict(int)
        self.bytes_out: dict[str, int] = defaultdict(int)
        self._latency_counts: dict[tuple[str, str], list[int]] = {}
        self._latency_sums: dict[tuple[str, str], float] = defaultdict(float)
        self.gauges: dict[str, Callable[[], float]] = {}

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
        self.requests[(service, operation, status)] += 1
        if error_code:
            self.errors[(service, error_code)] += 1
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
        lines = [
            "# HELP strata_requests_total Requests by service, operation and HTTP status.",
            "# TYPE strata_requests_total counter",
        ]
        for (service, op, status), n in sorted(self.requests.items()):
            labels = f'service="{service}",operation="{op}",status="{status}"'
            lines.append(f"strata_requests_total{{{labels}}} {n}")
        lines += [
            "# HELP strata_errors_total Error responses by service and error code.",
            "# TYPE strata_errors_total counter",
        ]
        for (service, code), n in sorted(self.errors.items()):
            lines.append(f'strata_errors_total{{service="{service}",code="{code}"}} {n}')
        lines += [
            "# HELP strata_request_bytes_total Request body bytes received.",
            "# TYPE strata_request_bytes_total counter",
        ]
        for service, n in sorted(self.bytes_in.items()):
            lines.append(f'strata_request_bytes_total{{service="{service}"}} {n}')
        lines += [
            "# HELP strata_response_bytes_total Response body bytes sent.",
            "# TYPE strata_response_bytes_total counter",
        ]
        for service, n in sorted(self.bytes_out.items()):
            lines.append(f'strata_response_bytes_total{{service="{service}"}} {n}')
        lines += [
            "# HELP strata_request_duration_seconds Request latency.",
            "# TYPE strata_request_duration_seconds histogram",
        ]
        for (service, op), counts in sorted(self._latency_counts.items()):
            labels = f'service="{service}",operation="{op}"'
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS_S, counts, strict=False):
                cumulative += count
                lines.append(
                    f'strata_request_duration_seconds_bucket{{{labels},le="{bound}"}} {cumulative}'
                )
            cumulative += counts[-1]
            lines.append(
                f'strata_request_duration_seconds_bucket{{{labels},le="+Inf"}} {cumulative}'
            )
            lines.append(f"strata_request_duration_seconds_count{{{labels}}} {cumulative}")
            total_s = self._latency_sums[(service, op)]
            lines.append(f"strata_request_duration_seconds_sum{{{labels}}} {total_s}")
        for name, read in sorted(self.gauges.items()):
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {read()}")
        return "\n".join(lines) + "\n"
