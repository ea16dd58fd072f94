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

import functools
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


# Ciphers of recently read objects, kept: a small GET then skips the key derivation and
# setup (about a quarter of its encryption cost). Bounded; the master key that opens
# every data key is in memory anyway.
@functools.lru_cache(maxsize=4096)
def extent_cipher(data_key: bytes, extent_id: str) -> AESGCM:
    return AESGCM(hmac.digest(data_key, b"extent" + extent_id.encode(), hashlib.sha256))


@functools.lru_cache(maxsize=4096)
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
    """Turns a stream, given in batches of any pieces, into sealed chunks (worker thread
    only): each batch's whole chunks are encrypted in place, between buffers reused from
    batch to batch (fresh 1 MiB buffers fault their pages in each time: measured to cost
    more than the encryption on a loaded machine)."""

    def __init__(self, cipher: AESGCM) -> None:
        self._cipher = cipher
        self._pending = b""  # less than a chunk, carried to the next batch
        self._index = 0
        self._input = bytearray()
        self._output = bytearray()

    def seal_batch(self, batch: list[bytes], final: bool) -> memoryview:
        """The sealed chunks ``batch`` completes (with ``final``, the last, short one too),
        as a view that stays valid until the next call."""
        total = len(self._pending) + sum(len(data) for data in batch)
        if len(self._input) < total:
            self._input = bytearray(total)
        source = memoryview(self._input)
        at = 0
        for data in (self._pending, *batch):
            source[at : at + len(data)] = data
            at += len(data)
        size = total if final else total - total % CHUNK_BYTES
        sealed_bytes = sealed_size(size)
        if len(self._output) < sealed_bytes:
            self._output = bytearray(sealed_bytes)  # a new buffer: a returned view may live
        target = memoryview(self._output)
        position = at = 0
        while position < size:
            length = min(CHUNK_BYTES, size - position)
            self._cipher.encrypt_into(
                _nonce(self._index), source[position : position + length], None,
                target[at : at + length + TAG_BYTES],
            )  # fmt: skip
            self._index += 1
            position += length
            at += length + TAG_BYTES
        self._pending = bytes(source[size:total])
        source.release()
        return target[:sealed_bytes]


def seal(cipher: AESGCM, data: bytes) -> bytes:
    """A whole (small) stream sealed at once: inline bytes."""
    return bytes(Sealer(cipher).seal_batch([data], final=True))


def open_chunks(
    cipher: AESGCM, sealed: bytes | memoryview, first: int, stream_bytes: int, where: str
) -> bytearray:
    """The stream bytes of consecutive sealed chunks, ``first`` being the first's index,
    of a stream of ``stream_bytes``; DataCorruption if any chunk fails its tag.

    Decrypted in place into one buffer, returned as it is (the HTTP servers send any
    buffer): a chunk at a time into fresh objects and a join, or a copy into ``bytes``,
    measured 3-4x slower per MiB on a loaded machine (fresh 1 MiB allocations fault their
    pages in), more than AES-GCM itself."""
    view = memoryview(sealed)
    plain_bytes, position, index = 0, 0, first
    spans: list[tuple[int, int]] = []
    while position < len(view):
        length = min(CHUNK_BYTES, stream_bytes - index * CHUNK_BYTES) + TAG_BYTES
        if length <= TAG_BYTES or position + length > len(view):
            raise DataCorruption(f"{where}: sealed chunk {index} is cut short")
        spans.append((position, length))
        plain_bytes += length - TAG_BYTES
        position += length
        index += 1
    out = bytearray(plain_bytes)
    target = memoryview(out)
    at = 0
    for offset, (position, length) in enumerate(spans):
        size = length - TAG_BYTES
        try:
            cipher.decrypt_into(
                _nonce(first + offset), view[position : position + length], None,
                target[at : at + size],
            )  # fmt: skip
        except InvalidTag:
            raise DataCorruption(
                f"{where}: chunk {first + offset} fails its authentication tag"
            ) from None
        at += size
    target.release()
    return out


def unseal(cipher: AESGCM, sealed: bytes, where: str) -> bytes:
    """A whole sealed stream (inline bytes)."""
    return bytes(open_chunks(cipher, sealed, 0, stream_size(len(sealed)), where))


def chunk_span(start: int, end: int, stream_bytes: int) -> tuple[int, int, int]:
    """For stream bytes [start, end): (first chunk, sealed offset of it, sealed length of
    the chunks through the one holding ``end - 1``)."""
    first, last = start // CHUNK_BYTES, (end - 1) // CHUNK_BYTES
    last_length = min(CHUNK_BYTES, stream_bytes - last * CHUNK_BYTES) + TAG_BYTES
    offset = first * _SEALED_CHUNK
    return first, offset, last * _SEALED_CHUNK + last_length - offset
