"""How long each byte was stored, per bucket, storage class and month: exact GB-months.

The bytes a bucket holds in a class are exact (``statistics.py``); the cost view also needs
their integral over time. Both are kept in the write batch of every change, so a crash
can never make them disagree with the objects. For the month ``M`` a change of ``delta``
bytes at time ``t`` falls in, the month's record (META ``PREFIX + bucket + "YYYY-MM"``)
adds ``delta`` to ``<CLASS>.bytes`` and ``delta * ticks(t - start of M)`` to
``<CLASS>.shift``. Then the byte-ticks stored in ``M`` up to a time ``T`` in it are
``bytes(T) * ticks(T - start) - shift``, and a closed month's ``bytes`` at its end follow
from the current total minus the later months' deltas: no sampling, no scan.

A removal before the class's minimum storage duration (30, 90 or 180 days) adds the
byte-ticks still owed to ``<CLASS>.early``. The age is counted from the version's
creation: a version that changed class since then is judged by its whole age.

A tick is a minute: byte-ticks of a month stay within a signed 64-bit counter for up to
about 200 TB changed per bucket and class in one month.
"""

from __future__ import annotations

import calendar
import struct
import time
from typing import Final

from strata.service.cost.prices import DAY_S, MINIMUM_DAYS
from strata.service.objects.records import ObjectVersion
from strata.storage import keys, spaces
from strata.storage.store import Store, WriteBatch, read_counters

PREFIX: Final = keys.pack("s3.storage-time")
_SINCE: Final = keys.pack("s3.storage-time.since")  # when this store began counting
TICK_S: Final = 60.0
_SINCE_FORMAT: Final = struct.Struct(">d")


class _Month:
    """The month a time falls in, cached: nearly every change falls in the last one."""

    __slots__ = ("end_s", "label", "start_s")

    def __init__(self) -> None:
        self.label, self.start_s, self.end_s = "", 0.0, 0.0

    def of(self, now_s: float) -> tuple[str, float]:
        if not self.start_s <= now_s < self.end_s:
            self.label, self.start_s, self.end_s = month_bounds(now_s)
        return self.label, self.start_s


_month = _Month()


def month_bounds(now_s: float) -> tuple[str, float, float]:
    """``("YYYY-MM", start, end)`` of the UTC month holding ``now_s``."""
    moment = time.gmtime(now_s)
    start = calendar.timegm((moment.tm_year, moment.tm_mon, 1, 0, 0, 0))
    year, month = (
        (moment.tm_year + 1, 1) if moment.tm_mon == 12 else (moment.tm_year, moment.tm_mon + 1)
    )
    end = calendar.timegm((year, month, 1, 0, 0, 0))
    return f"{moment.tm_year:04d}-{moment.tm_mon:02d}", float(start), float(end)


_record_keys: dict[tuple[str, str], bytes] = {}
_RECORD_KEYS_MAX: Final = 4096


def record_key(bucket: str, month: str) -> bytes:
    """``PREFIX + pack(bucket) + pack(month)``, remembered: every object write needs it."""
    found = _record_keys.get((bucket, month))
    if found is None:
        if len(_record_keys) >= _RECORD_KEYS_MAX:
            _record_keys.clear()
        found = _record_keys[(bucket, month)] = PREFIX + keys.pack(bucket) + keys.pack(month)
    return found


def stage(batch: WriteBatch, bucket: str, version: ObjectVersion, sign: int, now_s: float) -> None:
    """Count ``version`` in (``sign`` 1) or out (-1) of its bucket's storage at ``now_s``."""
    if version.delete_marker or not version.size_bytes:
        return
    month, start_s = _month.of(now_s)
    cls = version.storage_class
    size = sign * version.size_bytes
    deltas = {f"{cls}.bytes": size, f"{cls}.shift": size * int((now_s - start_s) // TICK_S)}
    minimum_days = MINIMUM_DAYS.get(cls)
    if sign < 0 and minimum_days is not None:
        owed_s = minimum_days * DAY_S - (now_s - version.last_modified_ms / 1000)
        if owed_s >= TICK_S:
            deltas[f"{cls}.early"] = version.size_bytes * int(owed_s // TICK_S)
    batch.add(spaces.META, record_key(bucket, month), deltas)


def read_months(store: Store) -> dict[str, dict[str, dict[str, int]]]:
    """bucket -> month -> counters, for every month recorded (small records, one scan)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for key, raw in store.scan(spaces.META, PREFIX, keys.prefix_end(PREFIX)):
        bucket, at = keys.decode_str(key, len(PREFIX))
        month, _ = keys.decode_str(key, at)
        out.setdefault(bucket, {})[month] = read_counters(raw)
    return out


def counting_since(store: Store, now_s: float) -> float:
    """When this store began counting storage time (set to ``now_s`` the first time)."""
    raw = store.get(spaces.META, _SINCE)
    if raw is not None and len(raw) == _SINCE_FORMAT.size:
        return float(_SINCE_FORMAT.unpack(raw)[0])
    batch = WriteBatch()
    batch.put(spaces.META, _SINCE, _SINCE_FORMAT.pack(now_s))
    store.commit_blocking(batch)
    return now_s
