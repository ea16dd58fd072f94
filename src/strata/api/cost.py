"""The cost view at the edge: ``GET /_strata/cost`` (root), its metrics, the S3 meter,
and ``POST /_strata/cost/lifecycle``, the lifecycle preview of a candidate configuration.

The report itself is ``service/cost/report.py``; this module gathers its inputs (bucket
statistics, table sizes), parses the query and registers the metric families. Metrics
are computed once per scrape from small META records, per-bucket and per-table series
bounded like the data metrics (the largest by projected cost, the rest as "(other)").
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final
from xml.sax.saxutils import escape

from strata.api.audit import BadQuery
from strata.api.data_metrics import OTHER, largest
from strata.api.http import Request, Response
from strata.api.metrics import Metrics, Sample
from strata.api.s3.handlers.lifecycle import parse_lifecycle
from strata.service.cost.preview import preview
from strata.service.cost.prices import Prices
from strata.service.cost.report import CostReport
from strata.service.cost.usage import S3Usage
from strata.service.objects.buckets import BucketService
from strata.service.objects.lifecycle.rules import ALL_CLASSES_128K, MINIMUM_OBJECT_SIZES
from strata.service.tables.tables import TableService
from strata.storage.clock import Clock
from strata.storage.store import Store

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


# ---- the lifecycle preview --------------------------------------------------------------

# The AWS CLI's JSON names lists in the plural; S3's XML repeats the singular element.
_SINGULAR: Final = {
    "Rules": "Rule",
    "Transitions": "Transition",
    "NoncurrentVersionTransitions": "NoncurrentVersionTransition",
    "Tags": "Tag",
}
_NAME: Final = re.compile(r"^[A-Za-z]+$")


def _xml_of(name: str, value: Any) -> str:
    if not _NAME.match(name):
        raise BadQuery(f"not a lifecycle configuration member: {name}")
    if isinstance(value, dict):
        inner = "".join(_members(value))
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        inner = escape(str(value))
    else:
        raise BadQuery(f"{name}: a lifecycle member is an object, a string or a number")
    return f"<{name}>{inner}</{name}>"


def _members(document: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for name, value in document.items():
        if isinstance(value, list):
            parts.extend(_xml_of(_SINGULAR.get(name, name), item) for item in value)
        else:
            parts.append(_xml_of(name, value))
    return parts


def lifecycle_xml(body: bytes) -> tuple[bytes, str]:
    """The configuration as S3's XML (sent as XML, or as the AWS CLI's JSON for
    ``put-bucket-lifecycle-configuration``), and its default minimum object size."""
    if body.lstrip().startswith(b"<"):
        return body, ALL_CLASSES_128K
    try:
        document = json.loads(body)
    except ValueError:
        raise BadQuery("the body is neither a lifecycle configuration's XML nor its JSON") from None
    if not isinstance(document, dict):
        raise BadQuery('the JSON must be an object: {"Rules": [...]}')
    document = document.get("LifecycleConfiguration", document)
    if not isinstance(document, dict):
        raise BadQuery('the JSON must be an object: {"Rules": [...]}')
    minimum = document.pop("TransitionDefaultMinimumObjectSize", ALL_CLASSES_128K)
    if minimum not in MINIMUM_OBJECT_SIZES:
        raise BadQuery(f"TransitionDefaultMinimumObjectSize: {minimum}")
    members = "".join(_members(document))
    return f"<LifecycleConfiguration>{members}</LifecycleConfiguration>".encode(), minimum


def _int_query(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadQuery(f"{name} must be between {low} and {high}")
    return value


class LifecyclePreview:
    """``POST /_strata/cost/lifecycle?bucket=B[&days=N][&limit=N]`` with a configuration."""

    def __init__(self, store: Store, prices: Prices, clock: Clock, buckets: BucketService) -> None:
        self.store = store
        self.prices = prices
        self.clock = clock
        self.buckets = buckets

    async def page(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        bucket = query.get("bucket")
        if not bucket:
            raise BadQuery("bucket is required")
        record = self.buckets.get(bucket)
        days = _int_query(query, "days", 365, 1, 36500)
        limit = _int_query(query, "limit", 1000, 0, 100_000)
        document, minimum = lifecycle_xml(body)
        config = parse_lifecycle(document, minimum)
        return preview(
            self.store,
            self.prices,
            bucket,
            bool(record.versioning),
            config,
            int(self.clock.now_s() * 1000),
            days,
            limit,
        )
