"""Metrics about stored data: buckets, object versions and bytes by storage class, tables,
items and bytes, index sizes.

Read at scrape time from figures the services keep — bucket counters written with every
object write (``service/objects/statistics.py``), the tables' cached counts (recounted in
the background) — so a scrape never scans objects or items. One snapshot, taken in
``Metrics.before_scrape``, serves every family of a scrape. Per-bucket and per-table
series are bounded: the ``series_max`` largest by bytes get their own label, the rest
are summed under ``OTHER`` (a name no bucket or table can have).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from strata.api.metrics import Metrics, Sample
from strata.service.objects.buckets import BucketService
from strata.service.tables import changelog
from strata.service.tables.tables import TableService

OTHER: Final = "(other)"  # parentheses are valid in neither bucket nor table names


@dataclass(slots=True)
class Snapshot:
    buckets: int = 0
    bucket_objects: list[Sample] = field(default_factory=list)
    bucket_bytes: list[Sample] = field(default_factory=list)
    delete_markers: list[Sample] = field(default_factory=list)
    tables: int = 0
    table_items: list[Sample] = field(default_factory=list)
    table_bytes: list[Sample] = field(default_factory=list)
    index_items: list[Sample] = field(default_factory=list)
    index_bytes: list[Sample] = field(default_factory=list)
    change_log_bytes: list[Sample] = field(default_factory=list)


def largest(sizes: dict[str, int], series_max: int) -> set[str]:
    """The names with their own series: the ``series_max`` largest (ties by name)."""
    ranked = sorted(sizes, key=lambda name: (-sizes[name], name))
    return set(ranked[:series_max])


class DataMetrics:
    def __init__(
        self,
        buckets: BucketService,
        tables: Callable[[], TableService | None],  # the current ones: a restore replaces them
        series_max: int,
    ) -> None:
        self.buckets = buckets
        self.tables = tables
        self.series_max = series_max
        self.snapshot = Snapshot()

    def take(self) -> None:
        """Read every figure once per scrape (``Metrics.before_scrape``)."""
        snap = Snapshot()
        self._take_buckets(snap)
        self._take_tables(snap)
        self.snapshot = snap

    def _take_buckets(self, snap: Snapshot) -> None:
        stats = self.buckets.stats()
        snap.buckets = self.buckets.count()
        own = largest({name: s.size_bytes for name, s in stats.items()}, self.series_max)
        objects: dict[tuple[str, ...], int] = defaultdict(int)
        sizes: dict[tuple[str, ...], int] = defaultdict(int)
        markers: dict[str, int] = defaultdict(int)
        for name, s in stats.items():
            label = name if name in own else OTHER
            for cls, (count, size) in s.classes.items():
                objects[(label, cls)] += count
                sizes[(label, cls)] += size
            if s.delete_markers:
                markers[label] += s.delete_markers
        snap.bucket_objects = _samples(objects, ("bucket", "storage_class"))
        snap.bucket_bytes = _samples(sizes, ("bucket", "storage_class"))
        snap.delete_markers = [({"bucket": b}, float(n)) for b, n in sorted(markers.items())]

    def _take_tables(self, snap: Snapshot) -> None:
        service = self.tables()
        figures = service.statistics() if service is not None else []
        snap.tables = len(figures)
        own = largest({t.name: size for t, _, size, _ in figures}, self.series_max)
        items: dict[tuple[str, ...], int] = defaultdict(int)
        sizes: dict[tuple[str, ...], int] = defaultdict(int)
        index_items: dict[tuple[str, ...], int] = defaultdict(int)
        index_sizes: dict[tuple[str, ...], int] = defaultdict(int)
        log_sizes: dict[tuple[str, ...], int] = defaultdict(int)
        for table, count, size, per_index in figures:
            label = table.name if table.name in own else OTHER
            items[(label,)] += count
            sizes[(label,)] += size
            assert service is not None
            log_sizes[(label,)] += changelog.size(service.store, table.record.table_id)[0]
            for name, index in table.indexes.items():
                icount, isize = per_index.get(name, (0, 0))
                key = (
                    label,
                    name if label != OTHER else OTHER,
                    "GSI" if index.is_global else "LSI",
                )
                index_items[key] += icount
                index_sizes[key] += isize
        snap.table_items = _samples(items, ("table",))
        snap.table_bytes = _samples(sizes, ("table",))
        snap.index_items = _samples(index_items, ("table", "index", "kind"))
        snap.index_bytes = _samples(index_sizes, ("table", "index", "kind"))
        snap.change_log_bytes = _samples(log_sizes, ("table",))

    def register(self, metrics: Metrics) -> None:
        def read(
            pick: Callable[[Snapshot], float | list[Sample]],
        ) -> Callable[[], float | Iterable[Sample]]:
            return lambda: pick(self.snapshot)

        families: list[tuple[str, str, Callable[[Snapshot], float | list[Sample]]]] = [
            ("strata_buckets", "S3 buckets.", lambda s: float(s.buckets)),
            (
                "strata_bucket_objects",
                "Object versions stored (current and noncurrent; delete markers apart), "
                "by bucket and storage class.",
                lambda s: s.bucket_objects,
            ),
            (
                "strata_bucket_bytes",
                "Bytes of the object versions stored, by bucket and storage class.",
                lambda s: s.bucket_bytes,
            ),
            (
                "strata_bucket_delete_markers",
                "Delete markers by bucket.",
                lambda s: s.delete_markers,
            ),
            ("strata_tables", "DynamoDB tables.", lambda s: float(s.tables)),
            (
                "strata_table_items",
                "Items by table (ItemCount: counted in the background, may lag writes).",
                lambda s: s.table_items,
            ),
            (
                "strata_table_bytes",
                "Table size as DynamoDB counts it (TableSizeBytes), by table.",
                lambda s: s.table_bytes,
            ),
            (
                "strata_index_items",
                "Items by secondary index (kind GSI or LSI).",
                lambda s: s.index_items,
            ),
            (
                "strata_index_bytes",
                "Index size (IndexSizeBytes) by secondary index (kind GSI or LSI).",
                lambda s: s.index_bytes,
            ),
            (
                "strata_table_change_log_bytes",
                "Bytes the change log (Streams, PITR) holds by table: exact, trim included.",
                lambda s: s.change_log_bytes,
            ),
        ]
        metrics.before_scrape.append(self.take)
        for name, text, pick in families:
            metrics.register(name, text, read(pick))


def _samples(values: dict[tuple[str, ...], int], names: tuple[str, ...]) -> list[Sample]:
    return [(dict(zip(names, key, strict=True)), float(n)) for key, n in sorted(values.items())]
