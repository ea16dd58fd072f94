"""The change log: one record per item change of a table whose changes are consumed
(a stream, point-in-time recovery), written once with what its longest consumer needs.

A record lives in the STREAMS space under::

    escape(table id (8) | partition (2)) END | stamp (8)

The first component is the partition (``storage.keys`` convention): one partition of one
table, so its records are one range scan in sequence order. The partition is picked by
the item's partition hash (``PARTITIONS`` ranges of it): an item's changes are always in
one partition, in the order they were applied. The sequence number is the change's HLC
stamp, the same stamp as its item record: stamps only grow and are taken with no ``await``
before the batch is applied, so a partition's records are written in stamp order.

The log belongs to the table, not to a stream: a stream is a window of stamps over it
(from when it was enabled until it was disabled), and a shard is one partition during one
generation of ``GENERATION_S`` of store-clock time (``Shard``); the shard of the same
partition in the generation before is its parent. A stream disabled and enabled again is
a new window over the same records, with a new label.

Partition ``META_PARTITION`` of a table holds no records but the log's bookkeeping: its
size counters (``WriteBatch.add``, in each record's batch and each trim's) and, per
partition, the highest stamp trimmed away. Keeping them under the table's prefix means a
dropped table's log and bookkeeping go in the same range delete.

``changes.Changes.stage`` writes the record in the item's ``WriteBatch`` (never apart from
it): a crash keeps both or neither. The record holds the keys always; the new image when
the stream's view type shows it; the old image when the view type shows it or PITR is on
(a restore undoes later changes with it); the event and whether TTL made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

import msgspec

from strata.service.tables import keycodec
from strata.service.tables.codec import body_of, encode_body
from strata.service.tables.schema import Table
from strata.service.tables.sealing import SEALED_BYTE, open_image, seal_image
from strata.service.tables.values import Item
from strata.storage import keys, records, spaces
from strata.storage.clock import stamp_ms
from strata.storage.store import Store, WriteBatch, read_counters

PARTITIONS: Final = 4  # partitions of a table's log: ranges of the partition-key hash
META_PARTITION: Final = 0xFFFF  # the log's bookkeeping, never records
GENERATION_S: Final = 4 * 3600  # a shard closes and its child opens every 4 h (store clock)
INSERT: Final = 1
MODIFY: Final = 2
REMOVE: Final = 3
EVENT_NAMES: Final = {INSERT: "INSERT", MODIFY: "MODIFY", REMOVE: "REMOVE"}
STAMP_MAX: Final = 2**64 - 1
_HASH_SPACE: Final = 1 << 32
_GENERATION_MS: Final = GENERATION_S * 1000
_SIZE: Final = b"size"
_TRIMMED: Final = b"trimmed"
_OLD_BODY_BYTES: Final = 18  # table id, stream id, shard: the layout before this one
LAYOUT: Final = b"\x02"  # the key layout of this module, marked in META once migrated
_LAYOUT_KEY: Final = keys.pack("changelog-layout")


class ChangeRecord(msgspec.Struct, frozen=True, array_like=True):
    event: int  # INSERT, MODIFY or REMOVE
    stamp: int  # HLC stamp: the sequence number
    keys: bytes  # the item's key attributes, as JSON
    new: bytes | None = None  # the item after, as JSON (when a stream view shows it)
    old: bytes | None = None  # the item before, as JSON (a stream view or PITR)
    expired: bool = False  # deleted by TTL (userIdentity dynamodb.amazonaws.com)


def stamp_at(epoch_ms: int) -> int:
    """The lowest HLC stamp of a wall-clock millisecond."""
    return max(0, epoch_ms) << 16


def generation_of(stamp: int) -> int:
    return stamp_ms(stamp) // _GENERATION_MS


def generation_start(generation: int) -> int:
    """The first stamp of a generation."""
    return stamp_at(generation * _GENERATION_MS)


@dataclass(frozen=True, slots=True)
class Shard:
    """One partition of a table's log during one generation, within a stream's window:
    the records with stamps in [start, end)."""

    partition: int
    generation: int
    start: int
    end: int

    @property
    def closed_at(self) -> int:
        """The stamp from which no record can join it any more."""
        return self.end


def shards(window_start: int, window_end: int, horizon: int, now: int) -> list[Shard]:
    """The shards of a stream's window [window_start, window_end) that end after
    ``horizon`` (older ones are gone with their records) and began by ``now``, oldest
    generation first, each generation's partitions in order."""
    found: list[Shard] = []
    first = generation_of(max(window_start, horizon))
    last = generation_of(max(window_start, min(window_end - 1, now)))
    for generation in range(first, last + 1):
        start = max(window_start, generation_start(generation))
        end = min(window_end, generation_start(generation + 1))
        if end <= horizon or start >= end:
            continue
        found.extend(Shard(p, generation, start, end) for p in range(PARTITIONS))
    return found


def partition_of(table: Table, item: Item) -> int:
    h = table.hash
    value = keycodec.value_bytes(h.kind, item[h.name][h.kind])
    return int.from_bytes(table.hasher(h.kind, value), "big") * PARTITIONS // _HASH_SPACE


def partition_prefix(table_id: int, partition: int) -> bytes:
    """Every record key of one partition starts with this."""
    return keys.encode_bytes(table_id.to_bytes(8, "big") + partition.to_bytes(2, "big"))


def _meta_key(table_id: int, name: bytes) -> bytes:
    return partition_prefix(table_id, META_PARTITION) + name


def logged(table: Table) -> bool:
    """Whether changes to ``table`` are written to the log (a stream or PITR is on)."""
    return table.stream_view is not None or table.record.pitr_enabled


def stage_record(
    table: Table,
    batch: WriteBatch,
    stamp: int,
    old: Item | None,
    new: Item | None,
    new_body: bytes | None,
    expired: bool,
    old_raw: bytes | None = None,
) -> int:
    """Add the change record of ``old`` becoming ``new`` to ``batch``; its size in bytes.
    ``old_raw``: the stored record of ``old``, whose JSON body is taken as it is.

    A change that changes nothing (no item before or after, or the same item) has none.
    """
    if old is None:
        if new is None:
            return 0
        event = INSERT
    elif new is None:
        event = REMOVE
    elif old == new:
        return 0
    else:
        event = MODIFY
    view = table.stream_view
    present = new if new is not None else old
    assert present is not None
    key_json = encode_body({name: present[name] for name in table.key_names})
    new_json = old_json = None
    if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        new_json = new_body if new_body is not None else encode_body(new)
    if old is not None and (
        view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") or table.record.pitr_enabled
    ):
        old_json = bytes(body_of(old_raw)) if old_raw is not None else encode_body(old)
    sealed_with = table.record.sse_key_id or None
    if sealed_with is not None:
        new_json, old_json = seal_image(sealed_with, new_json), seal_image(sealed_with, old_json)
    record = records.encode(ChangeRecord(event, stamp, key_json, new_json, old_json, expired))
    table_id = table.record.table_id
    key = partition_prefix(table_id, partition_of(table, present)) + stamp.to_bytes(8, "big")
    batch.put(spaces.STREAMS, key, record)
    size = len(key) + len(record)
    batch.add(spaces.STREAMS, _meta_key(table_id, _SIZE), {"bytes": size, "records": 1})
    return size


class Scanner(Protocol):
    """What reads the log: the live store, or a checkpoint of it."""

    def scan(
        self, space: str, start: bytes, end: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]: ...


def read(
    store: Scanner, table_id: int, partition: int, after: int, end: int
) -> Iterator[ChangeRecord]:
    """The partition's records with a stamp above ``after`` and below ``end``, in order."""
    if after >= end - 1:
        return
    prefix = partition_prefix(table_id, partition)
    start = prefix + (after + 1).to_bytes(8, "big")
    stop = prefix + end.to_bytes(8, "big") if end <= STAMP_MAX else keycodec.after_prefix(prefix)
    for _, value in store.scan(spaces.STREAMS, start, stop):
        record = records.decode(value, ChangeRecord)
        if (record.new is not None and record.new[:1] == SEALED_BYTE) or (
            record.old is not None and record.old[:1] == SEALED_BYTE
        ):
            record = msgspec.structs.replace(
                record, new=open_image(record.new), old=open_image(record.old)
            )
        yield record


def bounds(
    store: Store, table_id: int, partition: int, start: int, end: int
) -> tuple[int, int] | None:
    """The first and last stamps held in [start, end) of a partition, or None."""
    prefix = partition_prefix(table_id, partition)
    low = prefix + start.to_bytes(8, "big")
    high = prefix + end.to_bytes(8, "big") if end <= STAMP_MAX else keycodec.after_prefix(prefix)
    first = next(iter(store.scan(spaces.STREAMS, low, high)), None)
    if first is None:
        return None
    last = next(iter(store.scan(spaces.STREAMS, low, high, reverse=True)))
    return _stamp_of(first[0]), _stamp_of(last[0])


def trimmed_to(store: Store, table_id: int, partition: int) -> int:
    """The highest stamp trimmed away from a partition (0: nothing yet)."""
    raw = store.get(spaces.STREAMS, _meta_key(table_id, _TRIMMED + partition.to_bytes(2, "big")))
    return int.from_bytes(raw, "big") if raw else 0


def size(store: Store, table_id: int) -> tuple[int, int]:
    """(bytes, records) the table's log holds now."""
    values = read_counters(store.get(spaces.STREAMS, _meta_key(table_id, _SIZE)))
    return values.get("bytes", 0), values.get("records", 0)


def stage_trim(
    store: Store, batch: WriteBatch, table_id: int, partition: int, below: int, records_max: int
) -> tuple[int, int, bool]:
    """Stage removing up to ``records_max`` of a partition's oldest records with stamps
    below ``below`` (one range delete). Returns (records, bytes, more left)."""
    prefix = partition_prefix(table_id, partition)
    stop = prefix + min(below, STAMP_MAX).to_bytes(8, "big")
    count = removed_bytes = 0
    last_key: bytes | None = None
    more = False
    for key, value in store.scan(spaces.STREAMS, prefix, stop):
        if count >= records_max:
            more = True
            break
        count += 1
        removed_bytes += len(key) + len(value)
        last_key = key
    if last_key is None:
        return 0, 0, False
    batch.delete_range(spaces.STREAMS, prefix, keycodec.after(last_key))
    marker = _meta_key(table_id, _TRIMMED + partition.to_bytes(2, "big"))
    batch.put(spaces.STREAMS, marker, last_key[-8:])
    batch.add(
        spaces.STREAMS, _meta_key(table_id, _SIZE), {"bytes": -removed_bytes, "records": -count}
    )
    return count, removed_bytes, more


def migrate(store: Store) -> int:
    """Move records of the layout before this one (``table | stream | shard`` partitions)
    to ``table | partition`` keys, counting their size; returns how many moved. Runs at
    start-up, before any reader; once done, a mark in META makes it one read."""
    if store.get(spaces.META, _LAYOUT_KEY) == LAYOUT:
        return 0
    moved = 0
    batch = WriteBatch()
    for key, value in store.scan(spaces.STREAMS, b""):
        body, end = keys.decode_bytes(key)
        if len(body) != _OLD_BODY_BYTES or len(key) != end + 8:
            continue
        table_id = int.from_bytes(body[:8], "big")
        partition = int.from_bytes(body[16:18], "big") % PARTITIONS
        new_key = partition_prefix(table_id, partition) + key[end:]
        batch.delete(spaces.STREAMS, key)
        batch.put(spaces.STREAMS, new_key, value)
        size_delta = {"bytes": len(new_key) + len(value), "records": 1}
        batch.add(spaces.STREAMS, _meta_key(table_id, _SIZE), size_delta)
        moved += 1
        if len(batch) >= 1000:
            store.commit_blocking(batch)
            batch = WriteBatch()
    batch.put(spaces.META, _LAYOUT_KEY, LAYOUT)
    store.commit_blocking(batch)
    return moved


def _stamp_of(key: bytes) -> int:
    return int.from_bytes(key[-8:], "big")
