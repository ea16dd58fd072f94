"""The one item write path: every change to an item is staged here, and only here.

PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems and TTL expiry all
describe a change as (table, key, old item, new item) and hand it to ``Changes.stage``,
which adds to the request's one ``WriteBatch``: the item record (stamped with an HLC stamp),
its index entries, its item collection's size and, when a stream or PITR consumes the
table's changes, its change record (``changelog.py``). ``Changes.apply`` makes the batch
visible and marks the tables' statistics stale. Later side effects (a cache, replicas)
join here and nowhere else; a unit test checks that no other module writes the ITEMS space.

Callers keep the one rule of ``items.py``: no ``await`` between reading ``old``, checking
conditions, staging and ``apply``. ``old`` must be the stored item whenever
``needs_old(table)``; otherwise callers may pass None without reading it.
"""

from __future__ import annotations

from typing import NamedTuple

from strata.service.tables.changelog import logged, stage_record
from strata.service.tables.codec import encode_body, stamped
from strata.service.tables.indexes import write_entries
from strata.service.tables.item_collections import Tracker
from strata.service.tables.schema import Table
from strata.service.tables.sealing import seal
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item
from strata.storage import spaces
from strata.storage.store import WriteBatch


class Staged(NamedTuple):
    """What one staged change wrote: its item record (None: deleted), the entry writes
    per index (capacity) and its item collection's size after it (None: no LSIs)."""

    record: bytes | None
    touched: dict[str, int]
    collection: int | None


def needs_old(table: Table) -> bool:
    """Whether staging a change to ``table`` needs the stored item (indexes to update, a
    change record to write)."""
    return bool(table.indexes) or logged(table)


class Changes:
    """The changes of one request (or one background chunk), in one ``WriteBatch``."""

    __slots__ = ("_tracker", "batch", "log_bytes", "tables", "written")

    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.batch = WriteBatch()
        self.written: set[int] = set()  # ids of the tables changed
        self.log_bytes = 0  # change-log bytes staged (keys and records)
        self._tracker: Tracker | None = None

    def stage(
        self,
        table: Table,
        key: bytes,
        old: Item | None,
        new: Item | None,
        body: bytes | None = None,
        expired: bool = False,
        old_raw: bytes | None = None,
    ) -> Staged:
        """Stage replacing ``old`` with ``new`` (None: delete) at ``key``.

        ``body`` is ``encode_body(new)`` when the caller has it already, ``old_raw`` the
        stored record ``old`` was read from (its JSON is the change record's old image,
        not encoded again); ``expired`` marks a deletion by TTL (its change record names
        the service). Raises
        ItemCollectionSizeLimitExceeded (nothing is applied: the caller drops the batch).
        """
        batch = self.batch
        record: bytes | None = None
        stamp = self.tables.store.hlc.now()
        if new is None:
            batch.delete(spaces.ITEMS, key)
        else:
            if body is None:
                body = encode_body(new)
            sealed_with = table.record.sse_key_id
            record = seal(sealed_with, stamp, body) if sealed_with else stamped(stamp, body)
            batch.put(spaces.ITEMS, key, record)
        self.written.add(table.record.table_id)
        if logged(table):
            self.log_bytes += stage_record(table, batch, stamp, old, new, body, expired, old_raw)
        if not table.indexes:
            return Staged(record, {}, None)
        touched = write_entries(table, batch, key, old, new, record)
        collection: int | None = None
        if old is not None or new is not None:
            if self._tracker is None:
                self._tracker = Tracker(self.tables.store)
            collection = self._tracker.record(table, batch, old, new)
        return Staged(record, touched, collection)

    def collection_size(self, table: Table, item: Item) -> int:
        """The size of ``item``'s collection, counting what this request staged."""
        if self._tracker is None:
            self._tracker = Tracker(self.tables.store)
        return self._tracker.size(table, item)

    def apply(self) -> int:
        """Make every staged change visible; the sequence to pass to ``store.durable``."""
        sequence = self.tables.store.apply(self.batch)
        self.tables.changed.update(self.written)
        self.tables.change_log_bytes += self.log_bytes
        return sequence
