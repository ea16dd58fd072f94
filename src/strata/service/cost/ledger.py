"""The cost ledger: metered usage folded into durable month records, and table storage
integrated over the store clock.

Records in META, one per resource and month (``YYYY-MM``, UTC, by the store clock):
- ``REQUESTS + bucket + month``: ``<CLASS>.tier1``, ``<CLASS>.tier2`` (requests),
  ``<CLASS>.retrieved`` (bytes), ``<CLASS>.restores.<Tier>`` and ``<CLASS>.restored.<Tier>``
  (RestoreObject requests and bytes), from ``usage.S3Usage``;
- ``TABLES + table + month``: ``reads_x2`` and ``writes_x2`` (request units, doubled so
  half units stay integers), from ``capacity.USAGE``, and ``byte_ticks``: the table's size
  times the minutes since the last flush. Table sizes are sampled (the tables' own figures,
  kept by their statistics), so a size is charged from one flush to the next; the flush
  also runs just before the store clock moves, so a jump of a month charges the size it
  jumped over. The last flush time is kept, so time the server was down is charged too.

Object storage needs no sampling: ``service/objects/storage_time.py`` keeps it exact.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import Final

from strata.errors import StrataError
from strata.service.background import BackgroundTask, Waker
from strata.service.cost.usage import S3Usage
from strata.service.objects.storage_time import TICK_S, month_bounds
from strata.service.tables.capacity import TableUsage
from strata.storage import keys, spaces
from strata.storage.clock import Clock
from strata.storage.store import Store, WriteBatch, read_counters

log = logging.getLogger("strata.cost")

REQUESTS: Final = keys.pack("cost.s3-requests")
TABLES: Final = keys.pack("cost.tables")
_SAMPLED: Final = keys.pack("cost.tables.sampled")  # store-clock time of the last flush
_TIME: Final = struct.Struct(">d")

Months = dict[str, dict[str, dict[str, int]]]  # resource -> month -> counters


def record_key(prefix: bytes, name: str, month: str) -> bytes:
    return prefix + keys.pack(name) + keys.pack(month)


def read_months(store: Store, prefix: bytes) -> Months:
    out: Months = {}
    for key, raw in store.scan(spaces.META, prefix, keys.prefix_end(prefix)):
        name, at = keys.decode_str(key, len(prefix))
        month, _ = keys.decode_str(key, at)
        out.setdefault(name, {})[month] = read_counters(raw)
    return out


def month_spans(start_s: float, end_s: float) -> list[tuple[str, float]]:
    """The months ``[start_s, end_s)`` covers, each with the seconds of it covered."""
    spans: list[tuple[str, float]] = []
    at = start_s
    while at < end_s:
        label, _, month_end = month_bounds(at)
        until = min(month_end, end_s)
        spans.append((label, until - at))
        at = until
    return spans


class Ledger:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        s3: S3Usage,
        tables: TableUsage,
        table_sizes: Callable[[], dict[str, int]],
        interval_s: float,
    ) -> None:
        self.store = store
        self.clock = clock
        self.s3 = s3
        self.tables = tables
        self.table_sizes = table_sizes
        self.interval_s = interval_s
        self.flushes_total = 0
        self._waker = Waker()
        self._task = BackgroundTask("strata-cost", self._run)
        self._warned = False

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        """Stop the task, then fold what was metered (nothing is lost on a clean stop)."""
        await self._task.stop()
        await self.flush_or_keep()

    async def _run(self) -> None:
        while True:
            await self.flush_or_keep()
            await self._waker.pause(self.interval_s)

    async def flush_or_keep(self) -> None:
        """``flush``; on a refused write (a full disk) the counts stay for the next one."""
        try:
            await self.flush()
            self._warned = False
        except StrataError as exc:
            if not self._warned:
                log.warning("cost metering not written (kept in memory): %s", exc)
                self._warned = True

    def _sampled_s(self) -> float | None:
        raw = self.store.get(spaces.META, _SAMPLED)
        return _TIME.unpack(raw)[0] if raw is not None and len(raw) == _TIME.size else None

    async def flush(self) -> None:
        """Fold what was metered since the last flush into the month records, one batch."""
        now_s = self.clock.now_s()
        month, _, _ = month_bounds(now_s)
        requests, retrieved = self.s3.take()
        reads, writes = self.tables.take()
        restores = self.s3.take_restores()
        batch = WriteBatch()
        for (bucket, cls, tier), (count, size) in restores.items():
            batch.add(
                spaces.META,
                record_key(REQUESTS, bucket, month),
                {f"{cls}.restores.{tier}": count, f"{cls}.restored.{tier}": size},
            )
        for (bucket, cls, tier), count in requests.items():
            batch.add(spaces.META, record_key(REQUESTS, bucket, month), {f"{cls}.{tier}": count})
        for (bucket, cls), size in retrieved.items():
            batch.add(spaces.META, record_key(REQUESTS, bucket, month), {f"{cls}.retrieved": size})
        for table, units in reads.items():
            batch.add(spaces.META, record_key(TABLES, table, month), {"reads_x2": round(units * 2)})
        for table, units in writes.items():
            batch.add(
                spaces.META, record_key(TABLES, table, month), {"writes_x2": round(units * 2)}
            )
        sampled_s = self._sampled_s()
        if sampled_s is not None and sampled_s < now_s:
            spans = month_spans(sampled_s, now_s)
            for table, size in self.table_sizes().items():
                for label, seconds in spans:
                    ticks = int(size * seconds // TICK_S)
                    if ticks:
                        batch.add(
                            spaces.META, record_key(TABLES, table, label), {"byte_ticks": ticks}
                        )
        batch.put(spaces.META, _SAMPLED, _TIME.pack(now_s))
        try:
            sequence = self.store.apply(batch)
        except BaseException:
            self._requeue(requests, retrieved, reads, writes)
            for key, (count, size) in restores.items():
                had_count, had_size = self.s3.restores.get(key, (0, 0))
                self.s3.restores[key] = (had_count + count, had_size + size)
            raise
        # Applied: a failed wait below must not put the counts back (they would count
        # twice); the next fsync covers them.
        self.flushes_total += 1
        await self.store.durable(sequence)

    def _requeue(
        self,
        requests: dict[tuple[str, str, str], int],
        retrieved: dict[tuple[str, str], int],
        reads: dict[str, float],
        writes: dict[str, float],
    ) -> None:
        """A failed flush (a full disk) keeps its counts for the next one."""
        for key, count in requests.items():
            self.s3.requests[key] = self.s3.requests.get(key, 0) + count
        for where, size in retrieved.items():
            self.s3.retrieved[where] = self.s3.retrieved.get(where, 0) + size
        for table, units in reads.items():
            self.tables.reads[table] = self.tables.reads.get(table, 0.0) + units
        for table, units in writes.items():
            self.tables.writes[table] = self.tables.writes.get(table, 0.0) + units
