"""The master key: wraps the data key of every SSE-S3 object.

It comes from the ``master_key`` setting (``STRATA_MASTER_KEY``: 32 bytes, base64), from
the file ``master_key_file`` names, or from ``data-dir/master.key``, created at first start
(0600, fsynced with its directory before any object can use it). Losing it loses every
SSE-S3 object: their data keys are only stored wrapped by it. Back it up apart from the
data (docs/configuration.md). Its id (a hash of the key, not the key) is kept in each
envelope, so a server started with another key says so instead of serving garbage.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption

KEY_BYTES: Final = 32
FILE_NAME: Final = "master.key"
_NONCE_BYTES: Final = 12

log = logging.getLogger("strata.master_key")


class MasterKeyError(Exception):
    """The master key cannot be read or is not 32 bytes."""


class MasterKey:
    """AES-256-GCM key wrapping: a random nonce per wrap, the scheme as associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"a master key is {KEY_BYTES} bytes, not {len(key)}")
        self._cipher = AESGCM(key)
        self.key_id = hashlib.sha256(b"strata master key id\0" + key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id})"

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._cipher.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], context)
        except InvalidTag:
            raise DataCorruption("a wrapped data key fails its authentication tag") from None


def decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{source}: not base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{source}: {len(key)} bytes once decoded, a key is {KEY_BYTES}")
    return key


def load_master_key(data_dir: str, setting: str | None, path: str) -> MasterKey:
    """The configured key, else the one in ``path`` (default: the data dir's, created)."""
    if setting:
        return MasterKey(decode_key(setting, "master_key"))
    own = not path
    path = path or os.path.join(data_dir, FILE_NAME)
    try:
        with open(path, "rb") as handle:
            return MasterKey(decode_key(handle.read().decode("ascii", "replace"), path))
    except FileNotFoundError:
        if not own:
            raise MasterKeyError(f"{path}: no such file (master_key_file)") from None
    except OSError as exc:
        raise MasterKeyError(f"{path}: {exc.strerror}") from None
    return MasterKey(_create(path))


def _create(path: str) -> bytes:
    """A new key, durable before it is used: written, fsynced, renamed, directory fsynced."""
    key = os.urandom(KEY_BYTES)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.link(tmp, path)  # never replaces a key another process created meanwhile
    except FileExistsError:
        with open(path, "rb") as handle:
            return decode_key(handle.read().decode("ascii", "replace"), path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    directory = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    log.warning("created the master key %s: back it up, SSE-S3 objects need it", path)
    return key
