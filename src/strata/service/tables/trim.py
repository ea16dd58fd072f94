"""Change-log retention: a background task trims each table's log to its retention.

A record is kept ``STREAM_RETENTION_S`` (24 hours, as a stream's are) or, when PITR is on,
the recovery window, whichever is longer, by the store clock. Every ``TRIM_INTERVAL_S``
(or at once when the clock moves: ``background.Waker``) the trimmer walks each table's
partitions and removes the records older than that with one range delete per chunk of
``TRIM_CHUNK_RECORDS``, in the same batch as the partition's trim point (the highest
stamp removed: readers behind it get TrimmedDataAccess) and the log's size counters, so
the figures stay exact. Between chunks it sleeps three times as long as the chunk took.
So the log on disk is bounded by what was written in the retention period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from strata.service.background import PeriodicTask
from strata.service.tables import changelog
from strata.service.tables.schema import Table
from strata.service.tables.tables import STREAM_RETENTION_S, TableService
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.tables.trim")

TRIM_INTERVAL_S: Final = 60.0
TRIM_CHUNK_RECORDS: Final = 2000  # records read (and removed by one range delete) per step
CHUNK_PAUSE_FACTOR: Final = 3.0
DAY_S: Final = 86400


def retention_s(table: Table) -> float:
    """How long the table's log keeps a record: a stream's 24 h or the PITR window."""
    r = table.record
    if r.pitr_enabled:
        return max(STREAM_RETENTION_S, r.pitr_days * DAY_S)
    return STREAM_RETENTION_S


class ChangeLogTrimmer:
    """Removes change-log records past their retention, in the background."""

    def __init__(self, tables: TableService, interval_s: float = TRIM_INTERVAL_S) -> None:
        self.tables = tables
        self.store = tables.store
        self.interval_s = interval_s
        self.trimmed_total = 0  # records removed since start
        self._task = PeriodicTask("strata-changelog-trim", self.trim, interval_s, log)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def trim(self) -> int:
        """One pass over every table; returns the records removed."""
        removed = 0
        for name in list(self.tables.tables):
            table = self.tables.tables.get(name)
            if table is None:
                continue
            below = changelog.stamp_at(int((self.store.clock.now_s() - retention_s(table)) * 1000))
            for partition in range(changelog.PARTITIONS):
                removed += await self._trim_partition(table, partition, below)
        self.trimmed_total += removed
        if removed:
            log.info("change log: trimmed %d records past their retention", removed)
        return removed

    async def _trim_partition(self, table: Table, partition: int, below: int) -> int:
        removed = 0
        more = True
        table_id = table.record.table_id
        while more:
            current = self.tables.tables.get(table.name)
            if current is None or current.record.table_id != table_id:
                break  # dropped meanwhile: the drop removes its log
            started = time.monotonic()
            batch = WriteBatch()
            count, _, more = changelog.stage_trim(
                self.store, batch, table_id, partition, below, TRIM_CHUNK_RECORDS
            )
            if not count:
                break
            # No await between reading the chunk and applying it.
            await self.store.commit(batch)
            removed += count
            await asyncio.sleep(CHUNK_PAUSE_FACTOR * (time.monotonic() - started))
        return removed
