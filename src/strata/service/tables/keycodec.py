"""Item and index keys in the ITEMS and INDEXES spaces, ordered as DynamoDB orders them.

An item key is ``escape(owner id (8) | hash32 (4) | partition value) END | sort value``:

- the first component is the partition (``storage.keys`` convention): the table (or index)
  id, a 32-bit hash of the partition key value, then the value itself. The hash is
  DynamoDB's own (MD5 of ``Outliers`` and the value's binary form, numbers in DynamoDB's
  base-100 form), so a Scan returns partitions in AWS's order and a parallel Scan segment
  holds the items AWS would put in it, and is one contiguous range. Tables created before
  that hash was adopted keep CRC-32 (``TableRecord.key_hash``);
- the sort key is encoded with ``storage.keys`` (strings by UTF-8 bytes, binaries by bytes,
  numbers by value, 38 digits, any exponent), so byte order is DynamoDB's sort order and a
  Query is one range scan.

An index entry key is the index's partition and sort components followed by the base
item's key, which makes entries unique when several items share index key values.

A GSI with a multi-attribute key (up to four partition and four sort attributes) joins
its values: the partition value is the attributes' sort encodings end to end (each
self-delimiting, so the join is unambiguous), hashed as one binary value; the sort
component is the sort attributes' encodings end to end, so byte order is the order of
the first attribute, then the second, ..., and a left-to-right prefix of equalities is a
key prefix.
"""

from __future__ import annotations

import binascii
import hashlib
import importlib
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from strata.storage import keys

_md5: Callable[[bytes], Any]
try:  # CPython's own MD5: a third the cost of OpenSSL's for a key-sized input
    _md5 = importlib.import_module("_md5").md5
except ImportError:  # pragma: no cover - interpreters built without it
    _md5 = hashlib.md5

_SEGMENT_SPACE = 1 << 32
_AWS_SEED: Final = b"Outliers"

KEY_HASH_AWS: Final = "md5"
KEY_HASH_LEGACY: Final = "crc32"

Hasher = Callable[[str, bytes], bytes]
"""(key type, ``value_bytes``) -> the 32-bit hash (4 bytes, big-endian) placing a partition."""


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


def number_bytes(text: str) -> bytes:
    """A (normalised) number in DynamoDB's binary form, the bytes its partition hash reads.

    Base-100 digits behind one exponent byte: 0x80 is zero; a positive number is
    ``0xC1 + e`` then each digit plus one; a negative one is ``0x3E - e`` then 101 minus
    each digit, and a 102 terminator when it has fewer than 20 digits.
    """
    number = Decimal(text)
    if not number:
        return b"\x80"
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    text_digits = "".join(map(str, digits)).rstrip("0")
    point = len(digits) + exponent  # value = 0.<digits> * 10**point
    if point % 2:
        text_digits = "0" + text_digits
        point += 1
    if len(text_digits) % 2:
        text_digits += "0"
    pairs = [int(text_digits[i : i + 2]) for i in range(0, len(text_digits), 2)]
    exp100 = point // 2  # value = 0.<pairs> * 100**exp100
    if not sign:
        return bytes([(0xC0 + exp100) & 0xFF, *(p + 1 for p in pairs)])
    out = bytes([(0x3F - exp100) & 0xFF, *(101 - p for p in pairs)])
    return out + b"\x66" if len(pairs) < 20 else out


def aws_hash(kind: str, value: bytes) -> bytes:
    """DynamoDB's partition hash: the first 32 bits of MD5("Outliers" + binary value)."""
    if kind == "N":
        value = number_bytes(value.decode("ascii"))
    digest: bytes = _md5(_AWS_SEED + value).digest()
    return digest[:4]


def crc32_hash(kind: str, value: bytes) -> bytes:
    """The partition hash of tables created before ``aws_hash`` (kept for their keys)."""
    return zlib.crc32(value).to_bytes(4, "big")


def hasher_for(key_hash: str) -> Hasher:
    return aws_hash if key_hash == KEY_HASH_AWS else crc32_hash


def partition_prefix(owner_prefix: bytes, hasher: Hasher, kind: str, raw: Any) -> bytes:
    """Every key of one partition starts with this (escaped id, hash, value, end)."""
    value = value_bytes(kind, raw)
    body = hasher(kind, value) + value
    return owner_prefix + keys.encode_bytes(body)


def composite_value(parts: list[tuple[str, Any]]) -> bytes:
    """Several key values, (kind, raw) each, as one self-delimiting, ordered byte string."""
    return b"".join([encode_sort_value(kind, raw) for kind, raw in parts])


def composite_partition_prefix(owner_prefix: bytes, hasher: Hasher, value: bytes) -> bytes:
    """``partition_prefix`` of a multi-attribute partition key (``composite_value``)."""
    return owner_prefix + keys.encode_bytes(hasher("B", value) + value)


def item_key(
    owner_prefix: bytes,
    hasher: Hasher,
    hash_kind: str,
    hash_raw: Any,
    range_kind: str | None,
    range_raw: Any,
) -> bytes:
    key = partition_prefix(owner_prefix, hasher, hash_kind, hash_raw)
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


def segment_of(hasher: Hasher, kind: str, value: bytes, total: int) -> int:
    return int.from_bytes(hasher(kind, value), "big") * total // _SEGMENT_SPACE


def after(key: bytes) -> bytes:
    """The smallest key greater than ``key``."""
    return key + b"\x00"


def after_prefix(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    end = keys.prefix_end(prefix)
    assert end is not None
    return end
