"""The store clock's offset from real time: moved forward only, and kept across restarts.

Tests and operators move the store clock (``POST /_strata/clock``) to make time-driven
work fall due: TTL, change-log retention, PITR windows, lifecycle. The offset is kept in
META and read back at start-up, because everything written meanwhile carries store-clock
time: HLC stamps (item versions, change-log sequence numbers), creation dates, TTL
deadlines. A restart that dropped the offset would move time back under them, so
sequence numbers would go backwards and retained records would look young again. The
server's configured ``clock_offset_s`` still applies: the larger of the two wins.
"""

from __future__ import annotations

import struct
from typing import Final

from strata.storage import keys, spaces
from strata.storage.clock import SystemClock
from strata.storage.store import Store, WriteBatch

_KEY: Final = keys.pack("store-clock-offset")
_FORMAT: Final = struct.Struct(">d")


class ClockMovedBack(ValueError):
    """The store clock only moves forward."""


def stored_offset(store: Store) -> float:
    """The offset last set through ``advance``, 0 when never set."""
    raw = store.get(spaces.META, _KEY)
    return _FORMAT.unpack(raw)[0] if raw is not None and len(raw) == _FORMAT.size else 0.0


def restore(clock: SystemClock, store: Store) -> None:
    """At start-up (or after the store was replaced): never run behind the stored offset."""
    clock.offset_s = max(clock.offset_s, stored_offset(store))


async def advance(clock: SystemClock, store: Store, offset_s: float) -> None:
    """Move the clock to ``offset_s`` from real time, durably; ``ClockMovedBack`` if that is
    earlier than it is now."""
    if offset_s < clock.offset_s:
        raise ClockMovedBack(offset_s)
    batch = WriteBatch()
    batch.put(spaces.META, _KEY, _FORMAT.pack(offset_s))
    await store.commit(batch)
    clock.offset_s = max(clock.offset_s, offset_s)


async def persist(clock: SystemClock, store: Store) -> None:
    """Write the running offset into ``store`` (a replaced store may hold an older one)."""
    if stored_offset(store) < clock.offset_s:
        await advance(clock, store, clock.offset_s)
