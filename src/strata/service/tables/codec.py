"""How an item is stored: a format byte, then the item's wire-format JSON.

Keeping the JSON means a GetItem or Query answer splices stored bytes into the response
(``msgspec.Raw``) with no decode and re-encode; numbers stay exact strings.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.tables.values import Item

ITEM_FORMAT: Final = 1
_FORMAT_BYTE: Final = bytes([ITEM_FORMAT])

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, dict[str, object]]).decode


def encode_item(item: Item) -> bytes:
    return _FORMAT_BYTE + _encode(item)


def decode_item(value: bytes) -> Item:
    assert value[0] == ITEM_FORMAT, f"unknown item format {value[0]}"
    return _decode(memoryview(value)[1:])  # type: ignore[return-value]


def raw_item(value: bytes) -> msgspec.Raw:
    """The stored JSON of an item, for splicing into a response document."""
    return msgspec.Raw(memoryview(value)[1:])
