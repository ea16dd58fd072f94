"""The ciphertext blob: self-describing, bound to its encryption context.

Layout (69 bytes plus the plaintext)::

    1 format byte | 36-byte key id | 4-byte material version | 12-byte nonce | AES-256-GCM body+tag

The header (format, key id, version) is authenticated as associated data together with the
encryption context, canonicalised (pairs sorted, each length-prefixed), so a blob opens
only with the same context, under the same key, and any flipped byte fails the tag. Like
AWS, Decrypt needs no key id: the blob names it.
"""

from __future__ import annotations

import os
import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.service.kms.errors import InvalidCiphertext

FORMAT_V1: Final = 1
KEY_ID_BYTES: Final = 36  # a UUID, as text
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
_HEADER: Final = struct.Struct(f">B{KEY_ID_BYTES}sI")
OVERHEAD_BYTES: Final = _HEADER.size + NONCE_BYTES + TAG_BYTES

Context = dict[str, str]


def context_bytes(context: Context | None) -> bytes:
    """The encryption context as associated data: sorted, each part length-prefixed."""
    if not context:
        return b""
    out = bytearray()
    for name, value in sorted(context.items()):
        for part in (name.encode(), value.encode()):
            out += len(part).to_bytes(4, "big") + part
    return bytes(out)


def seal(
    material: bytes, key_id: str, version: int, plaintext: bytes, context: Context | None
) -> bytes:
    header = _HEADER.pack(FORMAT_V1, key_id.encode("ascii"), version)
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(material).encrypt(nonce, plaintext, header + context_bytes(context))
    return header + nonce + body


def key_of(blob: bytes) -> tuple[str, int]:
    """(key id, material version) a blob names; InvalidCiphertext if it is not one of ours."""
    if len(blob) < OVERHEAD_BYTES or blob[0] != FORMAT_V1:
        raise InvalidCiphertext()
    _, raw_id, version = _HEADER.unpack_from(blob)
    try:
        return raw_id.decode("ascii"), version
    except UnicodeDecodeError:
        raise InvalidCiphertext() from None


def open_blob(material: bytes, blob: bytes, context: Context | None) -> bytes:
    header = blob[: _HEADER.size]
    nonce = blob[_HEADER.size : _HEADER.size + NONCE_BYTES]
    try:
        return AESGCM(material).decrypt(
            nonce, blob[_HEADER.size + NONCE_BYTES :], header + context_bytes(context)
        )
    except InvalidTag:
        raise InvalidCiphertext() from None
