"""The cost view at the edge: ``GET /_strata/cost`` (root), its metrics, and the S3 meter.

The report itself is ``service/cost/report.py``; this module gathers its inputs (bucket
statistics, table sizes), parses the query and registers the metric families. Metrics
are computed once per scrape from small META records, per-bucket and per-table series
bounded like the data metrics (the largest by projected cost, the rest as "(other)").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from strata.api.audit import BadQuery
from strata.api.data_metrics import OTHER, largest
from strata.api.http import Request, Response
from strata.api.metrics import Metrics, Sample
from strata.service.cost.report import CostReport
from strata.service.cost.usage import S3Usage
from strata.service.objects.buckets import BucketService
from strata.service.tables.tables import TableService
from strata.storage.clock import Clock

_MONTH: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class CostView:
    def __init__(
        self,
        report: CostReport,
        clock: Clock,
        buckets: BucketService,
        tables: Callable[[], TableService | None],
        series_max: int,
    ) -> None:
        self.report = report
        self.clock = clock
        self.buckets = buckets
        self.tables = tables
        self.series_max = series_max
        self._scraped: dict[str, Any] = {}

    def table_sizes(self) -> dict[str, int]:
        service = self.tables()
        if service is None:
            return {}
        return {table.name: size for table, _, size, _ in service.statistics()}

    def build(self, month: str | None = None) -> dict[str, Any]:
        return self.report.build(
            self.clock.now_s(), self.buckets.stats(), self.table_sizes(), month
        )

    async def page(self, query: dict[str, str]) -> dict[str, Any]:
        """``/_strata/cost[?month=YYYY-MM]``."""
        month = query.get("month")
        if month is not None and _MONTH.match(month) is None:
            raise BadQuery("month must be YYYY-MM")
        return self.build(month)

    def register(self, metrics: Metrics) -> None:
        metrics.before_scrape.append(self._take)
        families: list[tuple[str, str, Callable[[], list[Sample]]]] = [
            (
                "strata_bucket_cost_accrued_usd",
                "This month's cost so far (store clock), by bucket, storage class and kind "
                "(storage, requests, retrieval, early_deletion).",
                lambda: self._samples("buckets", "accrued_usd"),
            ),
            (
                "strata_bucket_cost_projected_usd",
                "This month's whole cost if it goes on as now, by bucket, class and kind.",
                lambda: self._samples("buckets", "projected_usd"),
            ),
            (
                "strata_table_cost_accrued_usd",
                "This month's cost so far, by table and kind (storage, requests).",
                lambda: self._samples("tables", "accrued_usd"),
            ),
            (
                "strata_table_cost_projected_usd",
                "This month's whole cost if it goes on as now, by table and kind.",
                lambda: self._samples("tables", "projected_usd"),
            ),
        ]
        for name, help_text, read in families:
            metrics.register(name, help_text, read)

    def _take(self) -> None:
        self._scraped = self.build()

    def _samples(self, scope: str, figure: str) -> list[Sample]:
        entries = self._scraped.get(scope, [])
        label = "bucket" if scope == "buckets" else "table"
        own = largest(
            {e[label]: int(e["projected_usd"]["total"] * 1e6) for e in entries}, self.series_max
        )
        sums: dict[tuple[str, ...], float] = defaultdict(float)
        for entry in entries:
            name = entry[label] if entry[label] in own else OTHER
            parts = entry["classes"] if scope == "buckets" else [entry]
            for part in parts:
                for kind, value in part[figure].items():
                    if kind == "total" or (
                        scope == "tables" and kind in ("retrieval", "early_deletion")
                    ):
                        continue
                    key = (name, part.get("storage_class", ""), kind)
                    sums[key] += value
        samples: list[Sample] = []
        for (name, cls, kind), value in sorted(sums.items()):
            labels = {label: name}
            if scope == "buckets":
                labels["storage_class"] = cls
            labels["kind"] = kind
            samples.append((labels, value))
        return samples


def meter_s3(usage: S3Usage, request: Request, bucket: str, response: Response) -> None:
    """Count one answered S3 request: its tier, the object's class, bytes sent."""
    if response.status >= 300:
        return
    storage_class = request.headers.get("x-amz-storage-class", "STANDARD")
    if request.method in ("GET", "HEAD"):
        storage_class = "STANDARD"
        for name, value in response.headers:
            if name == "x-amz-storage-class":
                storage_class = value
                break
    size = response.length if response.length is not None else len(response.body)
    usage.note(bucket, request.operation, request.method, storage_class, size)
