"""Per-bucket statistics: object versions and bytes by storage class, for metrics.

Kept exactly, never counted per scrape: every change of an OBJECTS record goes through
``ObjectService.stage_version`` / ``_stage_removal``, which add the version's count and
size to its bucket's ``Counters`` record (META ``pack(PREFIX) + pack(bucket)``) in the same
``WriteBatch`` — so the figures can never disagree with the objects after a crash. The
store adds to counters inside ``apply`` (no await), so concurrent writers lose nothing.

A store written before these records existed is counted once at start-up (``ensure``),
which also marks the store so later starts skip the count.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Final

from strata.service.objects import storage_time
from strata.service.objects.records import ListedVersion, ObjectVersion, decode_object_key
from strata.storage import keys, records, spaces
from strata.storage.store import Counters, Store, WriteBatch, read_counters

log = logging.getLogger("strata.objects")

PREFIX: Final = keys.pack("s3.bucket-stats")
_COUNTED: Final = keys.pack("s3.bucket-stats.counted")  # present once the store is counted
DELETE_MARKERS: Final = "delete_markers"
_PROGRESS_EVERY: Final = 1_000_000


@dataclass(slots=True)
class BucketStats:
    """One bucket: storage class -> (object versions, bytes), and its delete markers."""

    classes: dict[str, tuple[int, int]] = field(default_factory=dict)
    delete_markers: int = 0

    @property
    def size_bytes(self) -> int:
        return sum(size for _, size in self.classes.values())


def stats_key(bucket: str) -> bytes:
    return PREFIX + keys.pack(bucket)


def _deltas(version: ObjectVersion | ListedVersion, sign: int) -> dict[str, int]:
    if version.delete_marker:
        return {DELETE_MARKERS: sign}
    cls = version.storage_class
    return {f"{cls}.objects": sign, f"{cls}.bytes": sign * version.size_bytes}


def stage_added(batch: WriteBatch, bucket: str, version: ObjectVersion, now_s: float) -> None:
    batch.add(spaces.META, stats_key(bucket), _deltas(version, 1))
    storage_time.stage(batch, bucket, version, 1, now_s)


def stage_removed(batch: WriteBatch, raw_key: bytes, version: ObjectVersion, now_s: float) -> None:
    bucket, _ = keys.decode_str(raw_key, 0)
    batch.add(spaces.META, stats_key(bucket), _deltas(version, -1))
    storage_time.stage(batch, bucket, version, -1, now_s)


def _parse(values: dict[str, int]) -> BucketStats:
    stats = BucketStats(delete_markers=values.get(DELETE_MARKERS, 0))
    for name, value in values.items():
        cls, _, kind = name.rpartition(".")
        if kind == "objects":
            stats.classes[cls] = (value, values.get(f"{cls}.bytes", 0))
    return stats


def read_all(store: Store) -> dict[str, BucketStats]:
    """Every bucket's statistics: one range scan of small records (no objects read)."""
    out: dict[str, BucketStats] = {}
    for key, raw in store.scan(spaces.META, PREFIX, keys.prefix_end(PREFIX)):
        bucket, _ = keys.decode_str(key, len(PREFIX))
        out[bucket] = _parse(read_counters(raw))
    return out


def ensure(store: Store) -> None:
    """Count a store written before bucket statistics existed (once; logged)."""
    if store.get(spaces.META, _COUNTED) is not None:
        return
    started = time.monotonic()
    counts: dict[str, dict[str, int]] = {}
    seen = 0
    for raw_key, raw in store.scan(spaces.OBJECTS, b""):
        bucket, _, _ = decode_object_key(raw_key)
        totals = counts.setdefault(bucket, {})
        for name, delta in _deltas(records.decode(raw, ListedVersion), 1).items():
            totals[name] = totals.get(name, 0) + delta
        seen += 1
        if seen % _PROGRESS_EVERY == 0:
            log.info("counting bucket statistics: %d object versions so far", seen)
    batch = WriteBatch()
    for bucket, totals in counts.items():
        kept = {name: value for name, value in totals.items() if value}
        batch.put(spaces.META, stats_key(bucket), records.encode(Counters(kept)))
    batch.put(spaces.META, _COUNTED, b"")
    store.commit_blocking(batch)
    if seen:
        log.info(
            "counted bucket statistics: %d object versions in %d buckets in %.1f s",
            seen,
            len(counts),
            time.monotonic() - started,
        )
