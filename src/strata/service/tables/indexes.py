"""Secondary-index entries: which entries an item has, and how a write changes them.

An entry's key is the index partition (index id, hash, value), the index sort value, then
the base item's key (unique per item). Its value is the projected item (format byte +
JSON). An item without an index key attribute has no entry in that index (sparse index).
Entries go into the same ``WriteBatch`` as the base item, so an index never shows an item
that is not there, nor misses one that is.
"""

from __future__ import annotations

from typing import Any, Final

from strata.service.tables import keycodec
from strata.service.tables.codec import body_of, encode_item
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import Index, Table
from strata.service.tables.sealing import SEALED_FORMAT, seal
from strata.service.tables.values import Item
from strata.storage import spaces
from strata.storage.store import WriteBatch

INVALID = "One or more parameter values were invalid: "
# AWS's words, its missing space included.
MSG_HASH_KEY_SIZE: Final = (
    INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
)
MSG_RANGE_KEY_SIZE: Final = (
    INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)
HASH_KEY_BYTES_MAX: Final = 2048
RANGE_KEY_BYTES_MAX: Final = 1024
# Key values of at most this many characters fit either limit (4 bytes a character at most)
KEY_CHARS_SAFE: Final = RANGE_KEY_BYTES_MAX // 4


def check_key_size(kind: str, raw: str, is_hash: bool) -> None:
    """A key attribute's value (S: UTF-8 bytes, B: decoded bytes) within AWS's limit."""
    limit = HASH_KEY_BYTES_MAX if is_hash else RANGE_KEY_BYTES_MAX
    # A string has at least as many bytes as characters, at most four times; base64 has
    # more characters than bytes: only a long value needs counting. Numbers always fit.
    if len(raw) * 4 <= limit or kind == "N":
        return
    size = len(raw.encode("utf-8")) if kind == "S" else len(raw) * 3 // 4 - raw.count("=")
    if size > limit:
        raise ValidationError(MSG_HASH_KEY_SIZE if is_hash else MSG_RANGE_KEY_SIZE)


Entry = tuple[bytes, bytes]


def project(index: Index, item: Item) -> Item:
    if index.projected is None:
        return item
    return {name: value for name, value in item.items() if name in index.projected}


def entry_key(index: Index, base_key: bytes, item: Item) -> bytes | None:
    """The entry key of ``item`` in ``index``, or None when the item is not in it."""
    if index.composite:
        return _composite_entry_key(index, base_key, item)
    hv = item.get(index.hash.name)
    if hv is None:
        return None
    raw = hv.get(index.hash.kind)
    if raw is None:
        return None
    key = keycodec.partition_prefix(index.prefix, index.hasher, index.hash.kind, raw)
    if index.range is not None:
        rv = item.get(index.range.name)
        if rv is None:
            return None
        rraw = rv.get(index.range.kind)
        if rraw is None:
            return None
        key += keycodec.encode_sort_value(index.range.kind, rraw)
    return key + base_key


def _composite_entry_key(index: Index, base_key: bytes, item: Item) -> bytes | None:
    """A multi-attribute key's entry: an item missing any key attribute is not indexed."""
    hash_parts: list[tuple[str, Any]] = []
    range_parts: list[tuple[str, Any]] = []
    for element, is_hash in index.elements:
        value = item.get(element.name)
        raw = value.get(element.kind) if value is not None else None
        if raw is None:
            return None
        (hash_parts if is_hash else range_parts).append((element.kind, raw))
    partition = keycodec.composite_value(hash_parts)
    key = keycodec.composite_partition_prefix(index.prefix, index.hasher, partition)
    return key + keycodec.composite_value(range_parts) + base_key


def index_entries(
    index: Index, base_key: bytes, item: Item, encoded: bytes | None = None,
    sealed_with: bytes = b"",
) -> list[Entry]:  # fmt: skip
    """``sealed_with``: the table's data key id when its values are encrypted."""
    key = entry_key(index, base_key, item)
    if key is None:
        return []
    if index.projected is None:
        value = encoded if encoded is not None else encode_item(item)
    else:
        value = encode_item(project(index, item))
    if sealed_with and value[0] != SEALED_FORMAT:
        value = seal(sealed_with, 0, body_of(value))
    return [(key, value)]


def check_index_keys(table: Table, item: Item) -> None:
    """Index key attributes present in ``item`` must have the index's type and be non-empty."""
    for index in table.indexes.values():
        for element, is_hash in index.elements:
            value = item.get(element.name)
            if value is None:
                continue
            if element.kind not in value:
                actual = next(iter(value))
                raise ValidationError(
                    INVALID + f"Type mismatch for Index Key {element.name} Expected: "
                    f"{element.kind} Actual: {actual} IndexName: {index.name}"
                )
            raw: Any = value[element.kind]
            if len(raw) > KEY_CHARS_SAFE:
                check_key_size(element.kind, raw, is_hash)
            if raw == "":
                kind = "string" if element.kind == "S" else "binary"
                raise ValidationError(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {kind} value. IndexName: {index.name}, "
                    f"IndexKey: {element.name}"
                )


def write_entries(
    table: Table,
    batch: WriteBatch,
    base_key: bytes,
    old: Item | None,
    new: Item | None,
    new_encoded: bytes | None,
) -> dict[str, int]:
    """Add the index changes of replacing ``old`` with ``new`` to ``batch``.

    Returns, per index touched, the number of entry writes (for capacity accounting).
    """
    touched: dict[str, int] = {}
    for index in table.indexes.values():
        if index.record.status == "DELETING":
            continue
        old_key = entry_key(index, base_key, old) if old is not None else None
        new_key = entry_key(index, base_key, new) if new is not None else None
        writes = 0
        if old_key is not None and old_key != new_key:
            batch.delete(spaces.INDEXES, old_key)
            writes += 1
        if new_key is not None and new is not None:
            if old_key == new_key and old is not None and not _projection_changed(index, old, new):
                continue
            if index.projected is None:
                value = new_encoded if new_encoded is not None else _encode(new)
            else:
                value = _encode(project(index, new))
            if table.record.sse_key_id and value[0] != SEALED_FORMAT:
                value = seal(table.record.sse_key_id, 0, body_of(value))
            batch.put(spaces.INDEXES, new_key, value)
            writes += 1
        if writes:
            touched[index.name] = writes
    return touched


def _projection_changed(index: Index, old: Item, new: Item) -> bool:
    if index.projected is None:
        return old is not new and old != new
    return any(old.get(name) != new.get(name) for name in index.projected)


_encode = encode_item
