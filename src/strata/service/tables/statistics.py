"""ItemCount and sizes of tables and indexes: exact for small tables, counted in the
background for big ones (AWS itself refreshes these figures every few hours).

A big table is never counted on the request path: 1M items take seconds, which would
stall every other request on the event loop. Recounts are jobs of one ``JobQueue``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from strata.service.tables import keycodec
from strata.service.tables.catalogue import Catalogue
from strata.service.tables.codec import decode_item
from strata.service.tables.jobs import JobQueue
from strata.service.tables.schema import Table
from strata.service.tables.values import item_size
from strata.storage import spaces

STATS_TTL_S: Final = 10.0  # big tables: recount ItemCount at most this often (or rarer)
EXACT_COUNT_ITEMS_MAX: Final = 20_000  # smaller tables: recounted whenever written
STATS_CHUNK_ITEMS: Final = 500  # big tables are counted in the background, this many at a time

IndexFigures = dict[str, tuple[int, int]]  # index name -> (item count, size bytes)


class TableStatistics:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.store = catalogue.store
        # table id -> (recount big tables not before, item count, size, per index count+size)
        self._stats: dict[int, tuple[float, int, int, IndexFigures]] = {}
        self._exact_s: dict[int, float] = {}  # table id -> when it was last counted exactly
        self.recounts: JobQueue[str] = JobQueue("table recounts", self._recount)

    def figures(self, table: Table) -> tuple[int, int, IndexFigures]:
        """(ItemCount, TableSizeBytes, per-index figures) for DescribeTable."""
        now = time.monotonic()
        table_id = table.record.table_id
        changed = self.catalogue.changed
        cached = self._stats.get(table_id)
        if cached is not None and table_id not in changed:
            return cached[1], cached[2], cached[3]
        if cached is not None and cached[1] >= EXACT_COUNT_ITEMS_MAX:
            if now >= cached[0]:
                self._recount_later(table)
            return cached[1], cached[2], cached[3]
        changed.discard(table_id)
        count, size, cursor = self._count_chunk(
            spaces.ITEMS, table.prefix, keycodec.after_prefix(table.prefix), EXACT_COUNT_ITEMS_MAX
        )
        if cursor is not None:  # too big to count here: a lower bound until the count is done
            changed.add(table_id)
            self._recount_later(table)
            last_indexes = cached[3] if cached is not None else {}
            self._stats[table_id] = (now, count, size, last_indexes)
            return count, size, last_indexes
        per_index: IndexFigures = {}
        for index in table.indexes.values():
            # An index has at most one entry per item: bounded by the count above.
            icount, isize, _ = self._count_chunk(
                spaces.INDEXES, index.prefix, keycodec.after_prefix(index.prefix), None
            )
            per_index[index.name] = (icount, isize)
        self._stats[table_id] = (now, count, size, per_index)
        self._exact_s[table_id] = now
        return count, size, per_index

    def _count_chunk(
        self, space: str, start: bytes, end: bytes, limit: int | None
    ) -> tuple[int, int, bytes | None]:
        """Count and size the entries in [start, end), at most ``limit`` of them: returns
        (count, size, cursor), cursor being the last key counted when the limit stopped it."""
        count = size = 0
        # Sizes as AWS counts them (``item_size``), not as stored: decoding costs ~3 us/item.
        for key, value in self.store.scan(space, start, end):
            count += 1
            size += item_size(decode_item(value))
            if limit is not None and count >= limit:
                return count, size, key
        return count, size, None

    def _recount_later(self, table: Table) -> None:
        if not self.recounts.busy(table.name):
            self.recounts.add(table.name)

    def counting(self) -> bool:
        """Whether a background count is waiting or running."""
        return not self.recounts.idle()

    async def _recount(self, name: str) -> None:
        """Count a big table a chunk at a time, yielding to requests between chunks."""
        table = self.catalogue.tables.get(name)
        if table is None:
            return
        table_id = table.record.table_id
        started = time.monotonic()
        self.catalogue.changed.discard(table_id)  # writes from now on mark it again
        counts: list[tuple[int, int]] = []
        prefixes = [(spaces.ITEMS, table.prefix)]
        prefixes += [(spaces.INDEXES, index.prefix) for index in table.indexes.values()]
        for space, prefix in prefixes:
            count = size = 0
            start, end = prefix, keycodec.after_prefix(prefix)
            pause_s = 0.0
            while True:
                # Sleep three times as long as the last chunk took: the count takes at
                # most a quarter of the event loop, and a request waits one chunk at most.
                await asyncio.sleep(pause_s)
                chunk_started = time.monotonic()
                n, chunk_size, cursor = self._count_chunk(space, start, end, STATS_CHUNK_ITEMS)
                pause_s = 3 * (time.monotonic() - chunk_started)
                count += n
                size += chunk_size
                if cursor is None:
                    break
                start = keycodec.after(cursor)
            counts.append((count, size))
        current = self.catalogue.tables.get(table.name)
        if current is None or current.record.table_id != table_id:
            return
        if self._exact_s.get(table_id, 0.0) > started:
            return  # counted exactly meanwhile, in one step: better than this count
        if table_id in self.catalogue.changed and counts[0][0] < EXACT_COUNT_ITEMS_MAX:
            # Written while this count ran (a restore or import loading, say): the count
            # straddles writes; the next read counts such a table exactly, in one step.
            return
        finished = time.monotonic()
        # Recount no sooner than STATS_TTL_S, nor than 10x the count's own duration, so
        # counting a big table that is written all the time takes a few % of a core.
        not_before = finished + max(STATS_TTL_S, 10 * (finished - started))
        per_index = {name: counts[i + 1] for i, name in enumerate(table.indexes)}
        self._stats[table_id] = (not_before, counts[0][0], counts[0][1], per_index)

    def statistics(self) -> list[tuple[Table, int, int, IndexFigures]]:
        """Every table's last known (ItemCount, TableSizeBytes, per-index figures), for
        metrics. Never counts on the caller's path: tables not yet counted, or written
        since, are recounted by the background queue, each at most every STATS_TTL_S
        (zeros until a table's first count)."""
        now = time.monotonic()
        out = []
        for table in self.catalogue.tables.values():
            table_id = table.record.table_id
            cached = self._stats.get(table_id)
            if cached is None or (table_id in self.catalogue.changed and now >= cached[0]):
                self._recount_later(table)
            count, size, per_index = (0, 0, {}) if cached is None else cached[1:]
            out.append((table, count, size, per_index))
        return out

    def forget(self, table: Table) -> None:
        self._exact_s.pop(table.record.table_id, None)
        self._stats.pop(table.record.table_id, None)
