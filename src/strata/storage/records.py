"""Stored records: msgspec structs behind a format-version byte.

Every value a service stores is a frozen ``msgspec.Struct`` encoded as MessagePack,
prefixed with one byte naming the format, so a later format can read an older one.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

FORMAT_V1 = 1

T = TypeVar("T", bound=msgspec.Struct)

_encoder = msgspec.msgpack.Encoder()
_decoders: dict[type[msgspec.Struct], msgspec.msgpack.Decoder[msgspec.Struct]] = {}


def encode(record: msgspec.Struct) -> bytes:
    return bytes([FORMAT_V1]) + _encoder.encode(record)


def decode(data: bytes, kind: type[T]) -> T:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.msgpack.Decoder(kind)
    assert data[0] == FORMAT_V1, f"unknown record format {data[0]}"
    record: T = decoder.decode(memoryview(data)[1:])  # type: ignore[assignment]
    return record
