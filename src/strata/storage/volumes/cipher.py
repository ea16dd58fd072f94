"""Encryption of stored bytes: AES-256-GCM over fixed-size chunks.

An encrypted ("sealed") extent is the stream the volume would store (plain bytes, or zstd
frames: compression comes first, since ciphertext does not compress) cut into chunks of
``CHUNK_BYTES``, each stored as its ciphertext followed by its 16-byte GCM tag. Why
chunks rather than one GCM stream or AES-CTR: a range read decrypts and authenticates
only the chunks it covers (at most two partial chunks more than it needs), every chunk is
checked before a byte of it is served (damage is an error, never wrong bytes), and a
chunk's position is its nonce, so chunks cannot be swapped or replayed elsewhere.

Keys: a version's data key (``service/objects/encryption.py`` keeps it wrapped in the
record) never encrypts directly. Each extent uses ``HMAC-SHA256(data_key, "extent" +
extent id)`` and inline bytes ``HMAC-SHA256(data_key, "inline")``; extent ids are random
and an extent is written once, so (key, nonce) pairs never repeat, even when one data key
covers every part of a multipart upload. Sealed bytes do not depend on where they sit
in a file, so compaction and relocation copy them as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption

CHUNK_BYTES: Final = 64 * 1024
TAG_BYTES: Final = 16
DATA_KEY_BYTES: Final = 32
_SEALED_CHUNK: Final = CHUNK_BYTES + TAG_BYTES


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_BYTES)


def extent_cipher(data_key: bytes, extent_id: str) -> AESGCM:
    return AESGCM(hmac.digest(data_key, b"extent" + extent_id.encode(), hashlib.sha256))


def inline_cipher(data_key: bytes) -> AESGCM:
    return AESGCM(hmac.digest(data_key, b"inline", hashlib.sha256))


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def sealed_size(stream_bytes: int) -> int:
    """File bytes of a sealed stream of ``stream_bytes``."""
    chunks = -(-stream_bytes // CHUNK_BYTES)
    return stream_bytes + chunks * TAG_BYTES


def stream_size(sealed_bytes: int) -> int:
    """The stream bytes a sealed extent of ``sealed_bytes`` holds."""
    chunks = -(-sealed_bytes // _SEALED_CHUNK)
    return sealed_bytes - chunks * TAG_BYTES


class Sealer:
    """Turns a stream, fed in any pieces, into sealed chunks (worker thread only)."""

    def __init__(self, cipher: AESGCM) -> None:
        self._cipher = cipher
        self._pending = bytearray()
        self._index = 0

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        out: list[bytes] = []
        pending = self._pending
        view = memoryview(data)
        if not pending and len(view) >= CHUNK_BYTES:  # whole chunks straight from the input
            whole = len(view) - len(view) % CHUNK_BYTES
            for start in range(0, whole, CHUNK_BYTES):
                out.append(self._seal(view[start : start + CHUNK_BYTES]))
            view = view[whole:]
        pending += view
        while len(pending) >= CHUNK_BYTES:
            out.append(self._seal(memoryview(pending)[:CHUNK_BYTES]))
            del pending[:CHUNK_BYTES]
        return out

    def finish(self) -> list[bytes]:
        if not self._pending:
            return []
        last = self._seal(memoryview(self._pending))
        self._pending = bytearray()
        return [last]

    def _seal(self, chunk: memoryview) -> bytes:
        sealed = self._cipher.encrypt(_nonce(self._index), chunk, None)
        self._index += 1
        return sealed


def seal(cipher: AESGCM, data: bytes) -> bytes:
    """A whole (small) stream sealed at once: inline bytes."""
    sealer = Sealer(cipher)
    return b"".join([*sealer.feed(data), *sealer.finish()])


def open_chunks(
    cipher: AESGCM, sealed: bytes | memoryview, first: int, stream_bytes: int, where: str
) -> bytes:
    """The stream bytes of consecutive sealed chunks, ``first`` being the first's index,
    of a stream of ``stream_bytes``; DataCorruption if any chunk fails its tag."""
    view = memoryview(sealed)
    out: list[bytes] = []
    position, index = 0, first
    while position < len(view):
        length = min(CHUNK_BYTES, stream_bytes - index * CHUNK_BYTES) + TAG_BYTES
        if length <= TAG_BYTES or position + length > len(view):
            raise DataCorruption(f"{where}: sealed chunk {index} is cut short")
        try:
            out.append(cipher.decrypt(_nonce(index), view[position : position + length], None))
        except InvalidTag:
            raise DataCorruption(f"{where}: chunk {index} fails its authentication tag") from None
        position += length
        index += 1
    return out[0] if len(out) == 1 else b"".join(out)


def unseal(cipher: AESGCM, sealed: bytes, where: str) -> bytes:
    """A whole sealed stream (inline bytes)."""
    return open_chunks(cipher, sealed, 0, stream_size(len(sealed)), where)


def chunk_span(start: int, end: int, stream_bytes: int) -> tuple[int, int, int]:
    """For stream bytes [start, end): (first chunk, sealed offset of it, sealed length of
    the chunks through the one holding ``end - 1``)."""
    first, last = start // CHUNK_BYTES, (end - 1) // CHUNK_BYTES
    last_length = min(CHUNK_BYTES, stream_bytes - last * CHUNK_BYTES) + TAG_BYTES
    offset = first * _SEALED_CHUNK
    return first, offset, last * _SEALED_CHUNK + last_length - offset
