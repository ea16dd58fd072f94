"""Item collections of tables with local secondary indexes: size, 10 GB limit, metrics.

An item collection is every item of one partition key value plus their LSI entries. AWS
limits it to 10 GB on tables with LSIs and reports its size in ItemCollectionMetrics
(ReturnItemCollectionMetrics=SIZE). The size is a counter per collection in META, kept
exactly by every write in the same ``WriteBatch`` as the write (so it can never disagree
with the items after a crash), read and updated with no ``await`` in between.

``Tracker`` does this for one request: a batch write or a transaction may touch one
collection several times, so the running sizes live in the tracker until it is applied.
"""

from __future__ import annotations

from typing import Any, Final

from strata.service.tables import keycodec
from strata.service.tables.indexes import project
from strata.service.tables.schema import Table
from strata.service.tables.service_errors import ItemCollectionSizeLimitExceeded
from strata.service.tables.values import Item, item_size
from strata.storage import keys, spaces
from strata.storage.store import Store, WriteBatch

COLLECTION_BYTES_MAX: Final = 10 * 1024**3
GIGABYTE: Final = 1024**3
PREFIX: Final = keys.pack("tables.collections")


def has_collections(table: Table) -> bool:
    return any(not index.is_global for index in table.indexes.values())


def collection_key(table: Table, item: Item) -> bytes:
    """META key of the collection ``item`` belongs to (its table and partition value)."""
    h = table.hash
    return PREFIX + keycodec.partition_prefix(
        table.prefix, table.hasher, h.kind, item[h.name][h.kind]
    )


def owner_range(owner_prefix: bytes) -> tuple[bytes, bytes]:
    """The META keys of every collection of a table (dropped with it)."""
    start = PREFIX + owner_prefix
    return start, keycodec.after_prefix(start)


def stored_size(table: Table, item: Item | None) -> int:
    """Bytes ``item`` adds to its collection: itself and its LSI entries."""
    if item is None:
        return 0
    size = item_size(item)
    for index in table.indexes.values():
        if not index.is_global and index.range is not None and index.range.name in item:
            size += item_size(project(index, item))
    return size


def metrics(table: Table, item: Item, size: int) -> dict[str, Any]:
    """One ItemCollectionMetrics document: the collection key and AWS's GB bounds."""
    low = size // GIGABYTE
    return {
        "ItemCollectionKey": {table.hash.name: item[table.hash.name]},
        "SizeEstimateRangeGB": [float(low), float(low + 1)],
    }


class Tracker:
    """Collection sizes changed by one request, added to its batch by ``record``."""

    __slots__ = ("sizes", "store")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sizes: dict[bytes, int] = {}

    def size(self, table: Table, item: Item) -> int:
        """The size of the collection ``item`` (or a key) belongs to, as it stands."""
        key = collection_key(table, item)
        size = self.sizes.get(key)
        if size is None:
            raw = self.store.get(spaces.META, key)
            size = int.from_bytes(raw, "big") if raw is not None else 0
        return size

    def record(
        self, table: Table, batch: WriteBatch, old: Item | None, new: Item | None
    ) -> int | None:
        """Account for ``old`` becoming ``new``; the collection's size after it.

        None for tables without LSIs. Raises ItemCollectionSizeLimitExceeded when a write
        that grows the collection takes it past 10 GB.
        """
        if not has_collections(table):
            return None
        present = new if new is not None else old
        assert present is not None
        key = collection_key(table, present)
        size = self.size(table, present)
        delta = stored_size(table, new) - stored_size(table, old)
        size = max(0, size + delta)
        if delta > 0 and size > COLLECTION_BYTES_MAX:
            raise ItemCollectionSizeLimitExceeded()
        self.sizes[key] = size
        if size:
            batch.put(spaces.META, key, size.to_bytes(8, "big"))
        else:
            batch.delete(spaces.META, key)
        return size
