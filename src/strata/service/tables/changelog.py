"""The change log: one record per item change of a table with a stream, for DynamoDB Streams.

A record lives in the STREAMS space under::

    escape(table id (8) | stream id (8) | shard (2)) END | stamp (8)

The first component is the partition (``storage.keys`` convention): one shard of one stream
of one table, so a shard's records are one range scan in sequence order. The stream id is
the stream's creation time in milliseconds (its label), so a stream disabled and enabled
again gets a new id and the old one stays readable. The shard is picked by the item's
partition hash (``SHARDS_PER_STREAM`` ranges of it): an item's changes are always in one
shard, in the order they were applied. The sequence number is the change's HLC stamp, the
same stamp as its item record: stamps only grow and are taken with no ``await`` before the
batch is applied, so a shard's records are written in stamp order.

``changes.Changes.stage`` writes the record in the item's ``WriteBatch`` (never apart from
it): a crash keeps both or neither. The record holds what the stream's view type needs
(keys always, new and old images as JSON), the event and whether TTL made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import msgspec

from strata.service.tables import keycodec
from strata.service.tables.codec import encode_body
from strata.service.tables.schema import Table
from strata.service.tables.values import Item
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

SHARDS_PER_STREAM: Final = 4  # shards of a stream: ranges of the partition-key hash
INSERT: Final = 1
MODIFY: Final = 2
REMOVE: Final = 3
EVENT_NAMES: Final = {INSERT: "INSERT", MODIFY: "MODIFY", REMOVE: "REMOVE"}
_HASH_SPACE: Final = 1 << 32


class ChangeRecord(msgspec.Struct, frozen=True, array_like=True):
    event: int  # INSERT, MODIFY or REMOVE
    stamp: int  # HLC stamp: the sequence number
    keys: bytes  # the item's key attributes, as JSON
    new: bytes | None = None  # NEW_IMAGE / NEW_AND_OLD_IMAGES: the item after, as JSON
    old: bytes | None = None  # OLD_IMAGE / NEW_AND_OLD_IMAGES: the item before, as JSON
    expired: bool = False  # deleted by TTL (userIdentity dynamodb.amazonaws.com)


def shard_of(table: Table, item: Item) -> int:
    h = table.hash
    value = keycodec.value_bytes(h.kind, item[h.name][h.kind])
    return int.from_bytes(table.hasher(h.kind, value), "big") * SHARDS_PER_STREAM // _HASH_SPACE


def shard_prefix(table_id: int, stream: int, shard: int) -> bytes:
    """Every record key of one shard starts with this."""
    body = table_id.to_bytes(8, "big") + stream.to_bytes(8, "big") + shard.to_bytes(2, "big")
    return keys.encode_bytes(body)


def stage_record(
    table: Table,
    batch: WriteBatch,
    stamp: int,
    old: Item | None,
    new: Item | None,
    new_body: bytes | None,
    expired: bool,
) -> int:
    """Add the change record of ``old`` becoming ``new`` to ``batch``; its size in bytes.

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
    assert view is not None
    key_json = encode_body({name: present[name] for name in table.key_names})
    new_json = old_json = None
    if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        new_json = new_body if new_body is not None else encode_body(new)
    if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        old_json = encode_body(old)
    record = records.encode(ChangeRecord(event, stamp, key_json, new_json, old_json, expired))
    key = shard_prefix(table.record.table_id, table.stream_id, shard_of(table, present))
    key += stamp.to_bytes(8, "big")
    batch.put(spaces.STREAMS, key, record)
    return len(key) + len(record)


def read_shard(
    store: Store, table_id: int, stream: int, shard: int, after: int
) -> Iterator[ChangeRecord]:
    """The shard's records with a sequence number above ``after``, in order."""
    prefix = shard_prefix(table_id, stream, shard)
    start = prefix + (after + 1).to_bytes(8, "big") if after < 2**64 - 1 else None
    if start is None:
        return
    for _, value in store.scan(spaces.STREAMS, start, keycodec.after_prefix(prefix)):
        yield records.decode(value, ChangeRecord)


def shard_bounds(store: Store, table_id: int, stream: int, shard: int) -> tuple[int, int] | None:
    """The first and last sequence numbers held by a shard, or None when it is empty."""
    prefix = shard_prefix(table_id, stream, shard)
    end = keycodec.after_prefix(prefix)
    first = next(iter(store.scan(spaces.STREAMS, prefix, end)), None)
    if first is None:
        return None
    last = next(iter(store.scan(spaces.STREAMS, prefix, end, reverse=True)))
    return _stamp_of(first[0]), _stamp_of(last[0])


def _stamp_of(key: bytes) -> int:
    return int.from_bytes(key[-8:], "big")
