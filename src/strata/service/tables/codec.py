"""How an item is stored: a format byte, then the item's wire-format JSON.

Keeping the JSON means a GetItem or Query answer splices stored bytes into the response
(``msgspec.Raw``) with no decode and re-encode; numbers stay exact strings.

An item record (ITEMS) is ``STAMPED_FORMAT``: the format byte, the HLC stamp of the change
that wrote it (8 bytes, big-endian), then the JSON. Index entries, and item records
written before stamps, are ``ITEM_FORMAT``: the format byte then the JSON. Values of a
KMS-encrypted table are ``SEALED_FORMAT`` (``sealing.py``): opened here, so every reader
takes any of the three.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.tables.sealing import SEALED_FORMAT, open_sealed, sealed_stamp
from strata.service.tables.values import Item

ITEM_FORMAT: Final = 1
STAMPED_FORMAT: Final = 2
STAMP_BYTES: Final = 8
_FORMAT_BYTE: Final = bytes([ITEM_FORMAT])
_STAMPED_BYTE: Final = bytes([STAMPED_FORMAT])

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, dict[str, object]]).decode


def encode_item(item: Item) -> bytes:
    return _FORMAT_BYTE + _encode(item)


def encode_body(item: Item) -> bytes:
    """The item's JSON alone: what ``stamped`` wraps into an item record."""
    return _encode(item)


def stamped(stamp: int, body: bytes) -> bytes:
    """An item record: ``body`` (``encode_body``) written by the change stamped ``stamp``."""
    return _STAMPED_BYTE + stamp.to_bytes(STAMP_BYTES, "big") + body


def _json_start(value: bytes) -> int:
    if value[0] == STAMPED_FORMAT:
        return 1 + STAMP_BYTES
    assert value[0] == ITEM_FORMAT, f"unknown item format {value[0]}"
    return 1


def decode_body(body: bytes) -> Item:
    """An item from its JSON alone (``encode_body``): change-log images."""
    return _decode(body)  # type: ignore[return-value]


def decode_item(value: bytes) -> Item:
    if value[0] == SEALED_FORMAT:
        return _decode(open_sealed(value))  # type: ignore[return-value]
    return _decode(memoryview(value)[_json_start(value) :])  # type: ignore[return-value]


def raw_item(value: bytes) -> msgspec.Raw:
    """The stored JSON of an item, for splicing into a response document."""
    if value[0] == SEALED_FORMAT:
        return msgspec.Raw(open_sealed(value))
    return msgspec.Raw(memoryview(value)[_json_start(value) :])


def body_of(value: bytes) -> memoryview:
    """The JSON of a stored item or entry (``encode_body``'s bytes), uncopied."""
    if value[0] == SEALED_FORMAT:
        return memoryview(open_sealed(value))
    return memoryview(value)[_json_start(value) :]


def item_stamp(value: bytes) -> int:
    """The HLC stamp of the change that wrote an item record (0 for unstamped ones)."""
    if value[0] != STAMPED_FORMAT:
        return sealed_stamp(value) if value[0] == SEALED_FORMAT else 0
    return int.from_bytes(value[1 : 1 + STAMP_BYTES], "big")
