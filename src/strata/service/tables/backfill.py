"""The background backfill of a new GSI: existing items indexed a chunk at a time, then
the index marked ACTIVE. Jobs of one queue; ``start`` asks again for every index whose
record still says ``backfilling``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from strata.service.tables import keycodec
from strata.service.tables.catalogue import revised
from strata.service.tables.codec import decode_item
from strata.service.tables.indexes import index_entries
from strata.storage import spaces
from strata.storage.store import WriteBatch

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService

BACKFILL_CHUNK_ITEMS: Final = 500


async def backfill(tables: TableService, job: tuple[str, str]) -> None:
    """Index the existing items of a new GSI, a chunk at a time, then mark it ACTIVE.

    Each chunk is read and written with no await in between, so a concurrent write
    (which maintains the CREATING index itself) can never be overwritten by a stale
    entry.
    """
    table_name, index_name = job
    await asyncio.sleep(0)
    cursor: bytes | None = None
    while True:
        table = tables.tables.get(table_name)
        if table is None or index_name not in table.indexes:
            return
        index = table.indexes[index_name]
        end = keycodec.after_prefix(table.prefix)
        batch = WriteBatch()
        count = 0
        last: bytes | None = None
        start = table.prefix if cursor is None else keycodec.after(cursor)
        for key, value in tables.store.scan(spaces.ITEMS, start, end):
            entries = index_entries(
                index, key, decode_item(value), sealed_with=table.record.sse_key_id
            )
            for entry_key, entry_value in entries:
                batch.put(spaces.INDEXES, entry_key, entry_value)
            last = key
            count += 1
            if count >= BACKFILL_CHUNK_ITEMS:
                break
        if len(batch):
            await tables.store.commit(batch)
        if count < BACKFILL_CHUNK_ITEMS:
            break
        cursor = last
        await asyncio.sleep(0)
    table = tables.tables.get(table_name)
    if table is None or index_name not in table.indexes:
        return
    indexes = tuple(
        revised(i, status="ACTIVE", backfilling=False) if i.name == index_name else i
        for i in table.record.indexes
    )
    tables.save(revised(table.record, indexes=indexes))
