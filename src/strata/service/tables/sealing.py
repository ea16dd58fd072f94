"""Item values of a KMS-encrypted table (``SSESpecification``), sealed with its data key.

A table created with SSE (type KMS) gets a 256-bit data key from the key service,
wrapped by its KMS key and kept in its ``TableRecord`` (``sse_wrapped_key``), and an id for
it (``sse_key_id``). Every value stored for the table's items is sealed with that key: item
records, index entries and the change log's images, so no attribute value is in plain
under the data directory. Keys stay plain: they order the table.

A sealed value::

    3 (SEALED_FORMAT) | 8-byte HLC stamp (0: none) | 8-byte key id | 12-byte nonce | AES-256-GCM

The header is the associated data. Readers (``codec``) open any value of that format by
its key id, whatever table or checkpoint it came from, through ``DataKeys``: the data keys
in memory, each unwrapped through the key service at its first use and re-checked against
the KMS key's state every ``RECHECK_S`` of the store clock (AWS: a disabled key makes the
table inaccessible within minutes), so the hot path costs a dict lookup and one AES-GCM
per value.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption

SEALED_FORMAT: Final = 3
SEALED_BYTE: Final = bytes([SEALED_FORMAT])
KEY_ID_BYTES: Final = 8
NONCE_BYTES: Final = 12
_HEADER: Final = struct.Struct(f">BQ{KEY_ID_BYTES}s")
HEADER_BYTES: Final = _HEADER.size
RECHECK_S: Final = 60.0


class _Entry:
    __slots__ = ("aead", "checked_at", "now_s", "open")

    def __init__(self, open_key: Callable[[], bytes], now_s: Callable[[], float]) -> None:
        self.open = open_key
        self.now_s = now_s
        self.aead: AESGCM | None = None
        self.checked_at = 0.0


class DataKeys:
    """Data keys by id: registered wrapped when a table is compiled, opened on first use."""

    def __init__(self) -> None:
        self._entries: dict[bytes, _Entry] = {}

    def register(
        self, key_id: bytes, open_key: Callable[[], bytes], now_s: Callable[[], float]
    ) -> None:
        """Add a key, or give a known one a new way to open (re-wrapped by another KMS
        key): an opened key stays opened until its next check, ``RECHECK_S`` later on the
        store clock ``now_s``."""
        entry = self._entries.get(key_id)
        if entry is None:
            self._entries[key_id] = _Entry(open_key, now_s)
        else:
            entry.open, entry.now_s = open_key, now_s

    def aead(self, key_id: bytes) -> AESGCM:
        entry = self._entries.get(key_id)
        if entry is None:
            raise DataCorruption(f"an item value is sealed with unknown table key {key_id.hex()}")
        now = entry.now_s()
        if entry.aead is None or not 0 <= now - entry.checked_at <= RECHECK_S:
            data_key = entry.open()  # the KMS key's state errors propagate to the caller
            if entry.aead is None:
                entry.aead = AESGCM(data_key)
            entry.checked_at = now
        return entry.aead


KEYS: Final = DataKeys()  # keyed by random ids: one map serves every store in the process


def new_key_id() -> bytes:
    return os.urandom(KEY_ID_BYTES)


class _Nonces:
    """Unique 96-bit nonces without a system call each: 8 random bytes drawn once per
    process (and again every 2**32 nonces), then a 4-byte counter. ``os.urandom`` per
    value measured ~15% of a PutItem's CPU on a loaded machine; GCM needs uniqueness
    under a key, not unpredictability."""

    def __init__(self) -> None:
        self._prefix = os.urandom(8)
        self._next = 0

    def take(self) -> bytes:
        count = self._next
        if count == 1 << 32:
            self._prefix, count = os.urandom(8), 0
        self._next = count + 1
        return self._prefix + count.to_bytes(4, "big")


_nonces: Final = _Nonces()


def seal(key_id: bytes, stamp: int, body: bytes | memoryview) -> bytes:
    header = _HEADER.pack(SEALED_FORMAT, stamp, key_id)
    nonce = _nonces.take()
    return header + nonce + KEYS.aead(key_id).encrypt(nonce, body, header)


def open_sealed(value: bytes | memoryview) -> bytes:
    """The JSON a sealed value holds; DataCorruption if it fails its tag."""
    view = memoryview(value)
    header = view[:HEADER_BYTES]
    _, _, key_id = _HEADER.unpack(header)
    nonce = view[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    try:
        return KEYS.aead(key_id).decrypt(nonce, view[HEADER_BYTES + NONCE_BYTES :], header)
    except InvalidTag:
        raise DataCorruption(
            f"a sealed item value fails its tag (table key {key_id.hex()})"
        ) from None


def sealed_stamp(value: bytes) -> int:
    stamp: int = _HEADER.unpack_from(value)[1]
    return stamp


def seal_image(key_id: bytes | None, body: bytes | None) -> bytes | None:
    """A change-log image, sealed when its table is encrypted."""
    if key_id is None or body is None:
        return body
    return seal(key_id, 0, body)


def open_image(body: bytes | None) -> bytes | None:
    if body is None or body[:1] != SEALED_BYTE:
        return body  # JSON begins with "{"
    return open_sealed(body)
