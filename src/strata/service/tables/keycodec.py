"""Item and index keys in the ITEMS and INDEXES spaces, ordered as DynamoDB orders them.

An item key is ``escape(owner id (8) | hash32 (4) | partition value) END | sort value``:

- the first component is the partition (``storage.keys`` convention): the table (or index)
  id, a 32-bit hash of the partition key value, then the value itself. The hash spreads
  partitions the way DynamoDB does and makes a parallel Scan segment one contiguous range;
- the sort key is encoded with ``storage.keys`` (strings by UTF-8 bytes, binaries by bytes,
  numbers by value, 38 digits, any exponent), so byte order is DynamoDB's sort order and a
  Query is one range scan.

An index entry key is the index's partition and sort components followed by the base
item's key, which makes entries unique when several items share index key values.
"""

from __future__ import annotations

import binascii
import zlib
from decimal import Decimal
from typing import Any

from strata.storage import keys

_SEGMENT_SPACE = 1 << 32


def value_bytes(kind: str, raw: Any) -> bytes:
    """The partition-key value as raw bytes (numbers already normalised)."""
    if kind == "S":
        return raw.encode("utf-8")  # type: ignore[no-any-return]
    if kind == "B":
        return binascii.a2b_base64(raw)
    return raw.encode("ascii")  # type: ignore[no-any-return]


def encode_sort_value(kind: str, raw: Any) -> bytes:
    """A sort-key value, self-delimiting and order-preserving."""
    if kind == "S":
        return keys.encode_str(raw)
    if kind == "N":
        return keys.encode_number(Decimal(raw))
    return keys.encode_bytes(binascii.a2b_base64(raw))


def partition_hash(value: bytes) -> int:
    return zlib.crc32(value)


def partition_prefix(owner_prefix: bytes, kind: str, raw: Any) -> bytes:
    """Every key of one partition starts with this (escaped id, hash, value, end)."""
    value = value_bytes(kind, raw)
    body = partition_hash(value).to_bytes(4, "big") + value
    return owner_prefix + keys.encode_bytes(body)


def item_key(
    owner_prefix: bytes, hash_kind: str, hash_raw: Any, range_kind: str | None, range_raw: Any
) -> bytes:
    key = partition_prefix(owner_prefix, hash_kind, hash_raw)
    if range_kind is not None:
        key += encode_sort_value(range_kind, range_raw)
    return key


def segment_bounds(owner_prefix: bytes, segment: int, total: int) -> tuple[bytes, bytes | None]:
    """The key range holding parallel-scan segment ``segment`` of ``total``."""
    low = segment * _SEGMENT_SPACE // total
    high = (segment + 1) * _SEGMENT_SPACE // total
    start = owner_prefix + keys.encode_bytes(low.to_bytes(4, "big"))[:-2] if low else owner_prefix
    if high >= _SEGMENT_SPACE:
        return start, keys.prefix_end(owner_prefix)
    return start, owner_prefix + keys.encode_bytes(high.to_bytes(4, "big"))[:-2]


def segment_of(value: bytes, total: int) -> int:
    return partition_hash(value) * total // _SEGMENT_SPACE


def after(key: bytes) -> bytes:
    """The smallest key greater than ``key``."""
    return key + b"\x00"


def after_prefix(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    end = keys.prefix_end(prefix)
    assert end is not None
    return end
