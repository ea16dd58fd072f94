"""DeleteTable, and the background deletion of a dropped table's or index's keys.

Dropping a table (or a GSI) removes its record at once and records a "drop" in META; the
``drops`` job queue then deletes its keys chunk by chunk, and ``start`` asks again for
every drop a previous run left. Keys carry the owner id, never the name, so a table
created again under the same name can never see the old items.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from strata.service.tables import item_collections, keycodec
from strata.service.tables.describe import deleting_description
from strata.service.tables.errors import ValidationError
from strata.storage import keys, spaces
from strata.storage.store import Store, WriteBatch

if TYPE_CHECKING:
    from strata.service.tables.schema import Table
    from strata.service.tables.tables import TableService

DROP_CHUNK_KEYS: Final = 2000
DROPPED: Final = "tables.dropped"


def dropped_owners(store: Store) -> list[bytes]:
    """The owner prefixes whose keys a drop still has to delete."""
    prefix = keys.pack(DROPPED)
    end = keycodec.after_prefix(prefix)
    return [key[len(prefix) :] for key, _ in store.scan(spaces.META, prefix, end)]


def mark_dropped(batch: WriteBatch, owner: bytes) -> None:
    batch.put(spaces.META, keys.pack(DROPPED) + owner, b"")


async def delete_table(tables: TableService, name: str) -> dict[str, Any]:
    table = tables.named(name)
    if table.record.deletion_protection:
        raise ValidationError(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    doc = deleting_description(tables, table)
    batch = WriteBatch()
    if tables.before_drop is not None:  # PITR's system backup (``backups.py``)
        tables.before_drop(table, batch)
    owners = stage_drop(tables, table, batch)
    await tables.store.commit(batch)
    for owner in owners:
        tables.drops.add(owner)
    return doc


def stage_drop(tables: TableService, table: Table, batch: WriteBatch) -> list[bytes]:
    """Stage removing ``table``'s record and marking its keys dropped, and forget it in
    memory; the caller commits ``batch``, then asks ``tables.drops`` for each owner."""
    batch.delete(spaces.TABLES, keys.pack(table.name))
    owners = [table.prefix] + [i.prefix for i in table.indexes.values()]
    for owner in owners:
        mark_dropped(batch, owner)
    del tables.tables[table.name]
    tables.stats.forget(table)
    return owners


async def drop_keys(store: Store, owner: bytes) -> None:
    """Delete every key of a dropped table or index, a chunk at a time."""
    end = keycodec.after_prefix(owner)
    collections = item_collections.owner_range(owner)
    for space, start, stop in (
        (spaces.ITEMS, owner, end),
        (spaces.INDEXES, owner, end),
        (spaces.STREAMS, owner, end),
        (spaces.META, *collections),
    ):
        while True:
            batch = WriteBatch()
            for key, _ in store.scan(space, start, stop):
                batch.delete(space, key)
                if len(batch) >= DROP_CHUNK_KEYS:
                    break
            if not len(batch):
                break
            await store.commit(batch)
            await asyncio.sleep(0)
    batch = WriteBatch()
    batch.delete(spaces.META, keys.pack(DROPPED) + owner)
    await store.commit(batch)
