"""Time to Live: a background sweeper deletes the items whose TTL attribute has passed.

An item expires when its table has TTL enabled and the item's TTL attribute is a Number
of epoch seconds earlier than ``store.clock.now_s()``. As AWS documents ("How DynamoDB
TTL works"), an item whose attribute is missing, is not a top-level Number (a string, a
set or list of numbers), or holds a time more than five years in the past is left alone.
Until the sweeper deletes it, an expired item still shows up in reads, as on AWS.

The sweeper is a task of the server process (started and stopped by the app's lifespan).
Every ``interval_s`` it walks each TTL-enabled table in key order, a chunk of
``chunk_items`` items at a time: each chunk is read, checked and deleted with no
``await`` in between (so a concurrent write that extends an item's TTL is either seen or
made after the delete), through ``changes.Changes`` — the one item write path, so index
entries and item-collection sizes change in the same ``WriteBatch`` as the item. Between
chunks it sleeps three times as long as the chunk took: a sweep takes at most a quarter
of the event loop and a request waits for one chunk (a few ms) at most. A table's
position is kept between chunks and between sweeps (at most ``sweep_items_max`` items
per table per sweep), so a big table is covered a slice per sweep, resuming where the
last slice ended, instead of being rescanned from its start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Final

import msgspec

from strata.service.background import PeriodicTask
from strata.service.tables import keycodec
from strata.service.tables.changes import Changes
from strata.service.tables.codec import decode_item
from strata.service.tables.schema import Table
from strata.service.tables.tables import TableService
from strata.storage import spaces

log = logging.getLogger("strata.tables.ttl")

SWEEP_INTERVAL_S: Final = 5.0  # AWS takes up to two days; a local store should be prompt
SWEEP_CHUNK_ITEMS: Final = 200  # items read (at most deleted) per step: ~2 ms with indexes
SWEEP_ITEMS_MAX: Final = 100_000  # items read per table per sweep; the rest next sweep
CHUNK_PAUSE_FACTOR: Final = 3.0  # sleep this many times a chunk's duration after it
EXPIRY_HORIZON_S: Final = 5 * 365 * 24 * 3600  # older TTL values are ignored (AWS)


def expires_at(item: dict[str, dict[str, object]], attribute: str) -> float | None:
    """The epoch seconds ``item`` expires at, or None when TTL ignores it (not a Number)."""
    value = item.get(attribute)
    if value is None:
        return None
    number = value.get("N")
    if not isinstance(number, str):
        return None
    try:
        return float(number)
    except ValueError:  # stored numbers are validated: never here
        return None


def is_expired(expiry_s: float | None, now_s: float) -> bool:
    """AWS's rule: earlier than now, and not more than five years in the past."""
    return expiry_s is not None and now_s - EXPIRY_HORIZON_S <= expiry_s < now_s


@dataclass(slots=True)
class _Position:
    table_id: int
    after: bytes  # the last item key examined: the next chunk starts after it


class TtlSweeper:
    """Deletes expired items of every TTL-enabled table, in the background."""

    def __init__(
        self,
        tables: TableService,
        interval_s: float = SWEEP_INTERVAL_S,
        chunk_items: int = SWEEP_CHUNK_ITEMS,
        sweep_items_max: int = SWEEP_ITEMS_MAX,
    ) -> None:
        assert interval_s > 0
        assert 0 < chunk_items <= sweep_items_max
        self.tables = tables
        self.store = tables.store
        self.interval_s = interval_s
        self.chunk_items = chunk_items
        self.sweep_items_max = sweep_items_max
        self.expired_total = 0  # items deleted since start (for metrics and tests)
        self._positions: dict[str, _Position] = {}  # table name -> where its next slice starts
        self._task = PeriodicTask("strata-ttl", self.sweep, interval_s, log)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start sweeping every ``interval_s`` on the running loop (idempotent)."""
        self._task.start()

    async def stop(self) -> None:
        """Stop the sweeper; a chunk already applied stays (its items were expired anyway)."""
        await self._task.stop()

    # -- sweeping ------------------------------------------------------------------------

    async def sweep(self) -> int:
        """One pass: a slice of every TTL-enabled table. Returns the items deleted."""
        started = time.monotonic()
        enabled = [t.name for t in self.tables.tables.values() if t.record.ttl_enabled]
        for name in list(self._positions):
            if name not in enabled:
                del self._positions[name]
        expired = 0
        for name in enabled:
            expired += await self._sweep_table(name)
        self.expired_total += expired
        if expired:
            log.info(
                "TTL: deleted %d expired items from %d tables in %.3f s",
                expired,
                len(enabled),
                time.monotonic() - started,
            )
        return expired

    async def _sweep_table(self, name: str) -> int:
        """Up to ``sweep_items_max`` items of one table, from where the last slice ended."""
        expired = examined = 0
        while examined < self.sweep_items_max:
            table = self.tables.tables.get(name)
            if table is None or not table.record.ttl_enabled or table.record.ttl_attribute is None:
                self._positions.pop(name, None)
                break
            position = self._positions.get(name)
            if position is not None and position.table_id != table.record.table_id:
                position = None  # dropped and created again: start over
            start = keycodec.after(position.after) if position is not None else table.prefix
            chunk_started = time.monotonic()
            deleted, seen, last, sequence = self._expire_chunk(table, start)
            expired += deleted
            examined += seen
            if last is None:  # reached the table's end: the next sweep starts over
                self._positions.pop(name, None)
            else:
                self._positions[name] = _Position(table.record.table_id, last)
            pause_s = CHUNK_PAUSE_FACTOR * (time.monotonic() - chunk_started)
            if sequence is not None:
                await self.store.durable(sequence)
            await asyncio.sleep(pause_s)  # always yield to requests between chunks
            if last is None:
                break
        return expired

    def _expire_chunk(
        self, table: Table, start: bytes
    ) -> tuple[int, int, bytes | None, int | None]:
        """Read up to ``chunk_items`` items from ``start`` and delete the expired ones.

        Returns (deleted, examined, last key examined or None at the table's end, sequence
        to wait for or None when nothing was written). No ``await``: read, check and
        delete are one atomic step for every other request.
        """
        attribute = table.record.ttl_attribute
        assert attribute is not None
        # The attribute as it appears in an item's stored JSON: items without it are
        # skipped undecoded (a match may be a nested map's key: the decode checks).
        needle = msgspec.json.encode(attribute) + b":"
        now_s = self.store.clock.now_s()
        end = keycodec.after_prefix(table.prefix)
        changes = Changes(self.tables)
        deleted = examined = 0
        last: bytes | None = None
        for key, value in self.store.scan(spaces.ITEMS, start, end):
            examined += 1
            if needle in value:
                item = decode_item(value)
                if is_expired(expires_at(item, attribute), now_s):
                    changes.stage(table, key, item, None, expired=True)
                    deleted += 1
            if examined >= self.chunk_items:
                last = key
                break
        if not deleted:
            return 0, examined, last, None
        return deleted, examined, last, changes.apply()
