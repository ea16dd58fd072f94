"""Accrued and projected cost of one month, per bucket and storage class and per table.

Accrued: what the month has cost so far by the store clock. Projected: the month's
whole cost if it goes on as now: storage at today's bytes for the rest of the month,
requests and retrievals at the month's rate so far, early deletions as accrued (they
cannot be foreseen). A closed month's projection is what it accrued. Counting starts
when the store first ran this version (``storage_time.counting_since``): months
before it are absent, the first one counts from that moment.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from strata.service.cost.ledger import REQUESTS, TABLES, Months, read_months
from strata.service.cost.prices import DAY_S, GB, MONTH_DAYS, Prices
from strata.service.objects import storage_time
from strata.service.objects.statistics import BucketStats
from strata.service.objects.storage_time import TICK_S, month_bounds
from strata.storage.store import Store


@dataclass(slots=True)
class Period:
    """The month reported on: ``[start_s, end_s)``, counted from ``from_s`` up to ``at_s``."""

    month: str
    start_s: float
    end_s: float
    from_s: float  # counting began here (start of month, or later in the first month)
    at_s: float  # now, or the month's end once it is closed

    @classmethod
    def of(cls, month: str | None, now_s: float, since_s: float) -> Period:
        label, start_s, end_s = month_bounds(now_s)
        if month is not None and month != label:
            year, number = (int(part) for part in month.split("-"))
            first = datetime.datetime(year, number, 1, tzinfo=datetime.UTC).timestamp()
            label, start_s, end_s = month_bounds(first)
        return cls(label, start_s, end_s, max(start_s, since_s), min(now_s, end_s))

    @property
    def closed(self) -> bool:
        return self.at_s >= self.end_s

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.at_s - self.from_s)

    def document(self) -> dict[str, Any]:
        iso = _iso
        return {
            "month": self.month,
            "start": iso(self.start_s),
            "end": iso(self.end_s),
            "counted_from": iso(self.from_s),
            "at": iso(self.at_s),
            "closed": self.closed,
        }


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Charges:
    storage: float = 0.0
    requests: float = 0.0
    retrieval: float = 0.0
    early_deletion: float = 0.0

    @property
    def total(self) -> float:
        return self.storage + self.requests + self.retrieval + self.early_deletion

    def add(self, other: Charges) -> None:
        self.storage += other.storage
        self.requests += other.requests
        self.retrieval += other.retrieval
        self.early_deletion += other.early_deletion

    def document(self) -> dict[str, float]:
        return {
            "storage": self.storage,
            "requests": self.requests,
            "retrieval": self.retrieval,
            "early_deletion": self.early_deletion,
            "total": self.total,
        }


@dataclass(slots=True)
class Line:
    """One bucket's storage class, or one table."""

    bytes_now: int = 0
    objects: int = 0
    gb_months: float = 0.0
    tier1: int = 0
    tier2: int = 0
    retrieved_bytes: int = 0
    restores: int = 0
    restored_bytes: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    accrued: Charges = field(default_factory=Charges)
    projected: Charges = field(default_factory=Charges)


def _byte_ticks(period: Period, bytes_end: int, counters: dict[str, int], cls: str) -> float:
    """Bytes times ticks stored in ``cls`` over the period, from the exact counters."""
    delta = counters.get(f"{cls}.bytes", 0)
    shift = counters.get(f"{cls}.shift", 0) - delta * ((period.from_s - period.start_s) / TICK_S)
    return bytes_end * (period.elapsed_s / TICK_S) - shift


def _gb_months(byte_ticks: float, period: Period) -> float:
    return max(0.0, byte_ticks) * TICK_S / (GB * (period.end_s - period.start_s))


def _scale(period: Period) -> float:
    """Accrued rate figures times this: the whole month's."""
    if period.closed or period.elapsed_s <= 0:
        return 1.0
    return (period.end_s - period.from_s) / period.elapsed_s


class CostReport:
    def __init__(self, store: Store, prices: Prices) -> None:
        self.store = store
        self.prices = prices

    def build(
        self,
        now_s: float,
        buckets: dict[str, BucketStats],
        table_sizes: dict[str, int],
        month: str | None = None,
    ) -> dict[str, Any]:
        period = Period.of(month, now_s, storage_time.counting_since(self.store, now_s))
        bucket_lines = self._buckets(period, buckets)
        table_lines = self._tables(period, table_sizes)
        accrued, projected = Charges(), Charges()
        bucket_docs = []
        for bucket, classes in sorted(bucket_lines.items()):
            b_acc, b_proj = Charges(), Charges()
            for line in classes.values():
                b_acc.add(line.accrued)
                b_proj.add(line.projected)
            accrued.add(b_acc)
            projected.add(b_proj)
            bucket_docs.append(
                {
                    "bucket": bucket,
                    "accrued_usd": b_acc.document(),
                    "projected_usd": b_proj.document(),
                    "classes": [_class_doc(cls, line) for cls, line in sorted(classes.items())],
                }
            )
        table_docs = []
        for table, line in sorted(table_lines.items()):
            accrued.add(line.accrued)
            projected.add(line.projected)
            table_docs.append(_table_doc(table, line))
        return {
            "currency": "USD",
            "period": period.document(),
            "buckets": bucket_docs,
            "tables": table_docs,
            "total": {"accrued_usd": accrued.document(), "projected_usd": projected.document()},
        }

    def _buckets(
        self, period: Period, buckets: dict[str, BucketStats]
    ) -> dict[str, dict[str, Line]]:
        storage = storage_time.read_months(self.store)
        requests = read_months(self.store, REQUESTS)
        out: dict[str, dict[str, Line]] = {}
        for bucket in set(buckets) | set(storage) | set(requests):
            stats = buckets.get(bucket, BucketStats())
            months = storage.get(bucket, {})
            later = [c for m, c in months.items() if m > period.month]
            counters = months.get(period.month, {})
            metered = requests.get(bucket, {}).get(period.month, {})
            names = {n.partition(".")[0] for n in (*counters, *metered)} | set(stats.classes)
            lines: dict[str, Line] = {}
            for cls in names:
                objects, bytes_now = stats.classes.get(cls, (0, 0))
                bytes_end = bytes_now - sum(c.get(f"{cls}.bytes", 0) for c in later)
                line = self._storage_line(period, cls, bytes_end, counters)
                line.objects, line.bytes_now = objects, bytes_now
                self._request_charges(period, cls, line, metered)
                if (
                    line.gb_months
                    or line.bytes_now
                    or line.accrued.total
                    or line.tier1
                    or line.tier2
                ):
                    lines[cls] = line
            if lines:
                out[bucket] = lines
        return out

    def _storage_line(
        self, period: Period, cls: str, bytes_end: int, counters: dict[str, int]
    ) -> Line:
        line = Line()
        price = self.prices.storage(cls)
        line.gb_months = _gb_months(_byte_ticks(period, bytes_end, counters, cls), period)
        line.accrued.storage = line.gb_months * price
        remaining_s = 0.0 if period.closed else period.end_s - period.at_s
        line.projected.storage = (
            line.accrued.storage
            + bytes_end / GB * remaining_s / (period.end_s - period.start_s) * price
        )
        owed_ticks = counters.get(f"{cls}.early", 0)
        line.accrued.early_deletion = owed_ticks * TICK_S / (GB * MONTH_DAYS * DAY_S) * price
        line.projected.early_deletion = line.accrued.early_deletion
        return line

    def _request_charges(
        self, period: Period, cls: str, line: Line, metered: dict[str, int]
    ) -> None:
        line.tier1 = metered.get(f"{cls}.tier1", 0)
        line.tier2 = metered.get(f"{cls}.tier2", 0)
        line.retrieved_bytes = metered.get(f"{cls}.retrieved", 0)
        prices = self.prices
        line.accrued.requests = (
            line.tier1 * prices.request("tier1", cls) + line.tier2 * prices.request("tier2", cls)
        ) / 1000
        line.accrued.retrieval = line.retrieved_bytes / GB * prices.retrieval(cls)
        for name, count in metered.items():
            kind, _, tier = name.removeprefix(f"{cls}.").partition(".")
            if not name.startswith(f"{cls}.") or kind != "restores":
                continue
            per_request, per_gb = prices.restore(cls, tier)
            restored = metered.get(f"{cls}.restored.{tier}", 0)
            line.restores += count
            line.restored_bytes += restored
            line.accrued.retrieval += count * per_request / 1000 + restored / GB * per_gb
        scale = _scale(period)
        line.projected.requests = line.accrued.requests * scale
        line.projected.retrieval = line.accrued.retrieval * scale

    def _tables(self, period: Period, table_sizes: dict[str, int]) -> dict[str, Line]:
        metered = read_months(self.store, TABLES)
        out: dict[str, Line] = {}
        scale = _scale(period)
        for table in set(table_sizes) | set(metered):
            counters = metered.get(table, {}).get(period.month, {})
            line = Line(bytes_now=table_sizes.get(table, 0))
            line.read_units = counters.get("reads_x2", 0) / 2
            line.write_units = counters.get("writes_x2", 0) / 2
            line.gb_months = _gb_months(counters.get("byte_ticks", 0), period)
            storage_price = self.prices.dynamodb("storage")
            line.accrued.storage = line.gb_months * storage_price
            remaining_s = 0.0 if period.closed else period.end_s - period.at_s
            line.projected.storage = line.accrued.storage + (
                line.bytes_now / GB * remaining_s / (period.end_s - period.start_s) * storage_price
            )
            line.accrued.requests = (
                line.read_units * self.prices.dynamodb("read")
                + line.write_units * self.prices.dynamodb("write")
            ) / 1_000_000
            line.projected.requests = line.accrued.requests * scale
            if table in table_sizes or line.accrued.total:
                out[table] = line
        return out


def _class_doc(cls: str, line: Line) -> dict[str, Any]:
    return {
        "storage_class": cls,
        "objects": line.objects,
        "bytes": line.bytes_now,
        "gb_months": line.gb_months,
        "requests": {"tier1": line.tier1, "tier2": line.tier2},
        "retrieved_bytes": line.retrieved_bytes,
        "restores": line.restores,
        "restored_bytes": line.restored_bytes,
        "accrued_usd": line.accrued.document(),
        "projected_usd": line.projected.document(),
    }


def _table_doc(table: str, line: Line) -> dict[str, Any]:
    return {
        "table": table,
        "bytes": line.bytes_now,
        "gb_months": line.gb_months,
        "read_units": line.read_units,
        "write_units": line.write_units,
        "accrued_usd": line.accrued.document(),
        "projected_usd": line.projected.document(),
    }


def months_recorded(storage: Months, requests: Months) -> list[str]:
    """Every month some record covers, oldest first."""
    return sorted({m for months in (*storage.values(), *requests.values()) for m in months})
