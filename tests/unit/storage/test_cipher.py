"""Sealed extents on a real filesystem: AES-256-GCM chunks written by the ExtentWriter (plain
and compressing volumes), read back whole and by ranges through BlobReader, and damage,
a wrong key or a swapped chunk always an error, never wrong bytes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from strata.errors import DataCorruption
from strata.storage.master_key import MasterKey, MasterKeyError, load_master_key
from strata.storage.volumes.cipher import (
    CHUNK_BYTES,
    TAG_BYTES,
    Sealer,
    chunk_span,
    extent_cipher,
    inline_cipher,
    new_data_key,
    open_chunks,
    seal,
    sealed_size,
    stream_size,
    unseal,
)
from strata.storage.volumes.extent import Extent
from strata.storage.volumes.reader import BlobReader, extent_pieces
from strata.storage.volumes.writer import ExtentWriter
from tests.unit.storage.test_volumes import MIB, volume


@contextlib.contextmanager
def damage(detail: str) -> Iterator[None]:
    """DataCorruption whose detail (what the log says) contains ``detail``."""
    with pytest.raises(DataCorruption) as caught:
        yield
    assert detail in caught.value.detail


def test_sizes_are_inverse() -> None:
    for size in (0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 5 * CHUNK_BYTES + 7):
        assert stream_size(sealed_size(size)) == size
    assert sealed_size(CHUNK_BYTES) == CHUNK_BYTES + TAG_BYTES
    assert sealed_size(CHUNK_BYTES + 1) == CHUNK_BYTES + 1 + 2 * TAG_BYTES


def test_sealer_output_does_not_depend_on_how_it_is_fed() -> None:
    cipher = inline_cipher(new_data_key())
    data = os.urandom(3 * CHUNK_BYTES + 99)
    whole = seal(cipher, data)
    sealer = Sealer(cipher)
    cuts = list(range(0, 50_000, 7777))
    pieces = [bytes(sealer.seal_batch([data[at : at + 7777]], False)) for at in cuts]
    end = cuts[-1] + 7777
    pieces.append(bytes(sealer.seal_batch([data[end:100_000], data[100_000:]], True)))
    assert b"".join(pieces) == whole
    assert len(whole) == sealed_size(len(data))
    assert data[:64] not in whole
    assert unseal(cipher, whole, "x") == data


def test_chunk_span_covers_exactly_the_chunks_needed() -> None:
    stream = 3 * CHUNK_BYTES + 10
    assert chunk_span(0, 1, stream) == (0, 0, CHUNK_BYTES + TAG_BYTES)
    first, offset, length = chunk_span(CHUNK_BYTES - 1, CHUNK_BYTES + 1, stream)
    assert (first, offset, length) == (0, 0, 2 * (CHUNK_BYTES + TAG_BYTES))
    first, offset, length = chunk_span(stream - 1, stream, stream)
    assert (first, offset, length) == (3, 3 * (CHUNK_BYTES + TAG_BYTES), 10 + TAG_BYTES)


def test_damage_wrong_key_and_swapped_chunks_fail() -> None:
    key = new_data_key()
    cipher = inline_cipher(key)
    data = os.urandom(2 * CHUNK_BYTES)
    sealed = bytearray(seal(cipher, data))
    sealed[100] ^= 1
    with damage("authentication tag"):
        unseal(cipher, bytes(sealed), "here")
    with pytest.raises(DataCorruption):
        unseal(inline_cipher(new_data_key()), seal(cipher, data), "here")
    good = seal(cipher, data)
    one = CHUNK_BYTES + TAG_BYTES
    swapped = good[one:] + good[:one]
    with pytest.raises(DataCorruption):
        unseal(cipher, swapped, "here")
    with damage("cut short"):
        open_chunks(cipher, good[: one + 5], 0, len(data), "here")
    # Another extent's cipher from the same data key cannot open it either.
    with pytest.raises(DataCorruption):
        unseal(extent_cipher(key, "a" * 32), good, "here")


async def _write(vol: object, data: bytes, size_hint: int | None, key: bytes) -> tuple[str, Extent]:
    writer = ExtentWriter(vol, [], size_hint, key)  # type: ignore[arg-type]
    for start in range(0, len(data), 100_000):
        await writer.write(data[start : start + 100_000])
    await writer.received()
    return writer.extent_id, await writer.durable()


@pytest.mark.parametrize("policy", ["hot", "cold"])
@pytest.mark.parametrize("declared", [True, False])
def test_sealed_extents_read_back_whole_and_by_range(
    tmp_path: Path, policy: str, declared: bool
) -> None:
    vol = volume(tmp_path, policy)
    key = new_data_key()
    text = b"".join(b"a compressible line %07d\n" % i for i in range(100_000))  # ~2.6 MiB
    data = text + os.urandom(MIB + 5)
    extent_id, extent = asyncio.run(_write(vol, data, len(data) if declared else None, key))
    assert extent.sealed
    assert extent.size_bytes == len(data)
    path = vol.files.path(extent.file)
    stored = Path(path).read_bytes()
    assert text[:200] not in stored
    assert data[-200:] not in stored
    if policy == "cold":
        assert extent.stored_bytes < len(data)  # compressed first, then sealed
    else:
        assert extent.stored_bytes == sealed_size(len(data))
    whole = BlobReader(extent_pieces(path, extent, 0, len(data), extent_id, key))
    assert whole.plain() is None  # never sendfile
    whole.check()
    assert b"".join(whole.chunks()) == data
    for start, end in [(0, 1), (CHUNK_BYTES - 3, CHUNK_BYTES + 3), (MIB - 1, 2 * MIB + 1),
                       (len(text) - 10, len(text) + 10), (len(data) - 1, len(data))]:  # fmt: skip
        reader = BlobReader(extent_pieces(path, extent, start, end - start, extent_id, key))
        assert b"".join(reader.chunks()) == data[start:end], (start, end)
    with pytest.raises(DataCorruption):
        b"".join(BlobReader(extent_pieces(path, extent, 0, 10, extent_id, new_data_key())).chunks())
    with damage("record says otherwise"):
        extent_pieces(path, extent, 0, 10, extent_id, None)  # a sealed extent needs its key


def test_master_key_is_created_private_and_reused(tmp_path: Path) -> None:
    first = load_master_key(str(tmp_path), None, "")
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_master_key(str(tmp_path), None, "")
    assert again.key_id == first.key_id
    wrapped = first.wrap(b"k" * 32, b"AES256")
    assert again.unwrap(wrapped, b"AES256") == b"k" * 32
    with pytest.raises(DataCorruption):
        again.unwrap(wrapped, b"aws:kms")  # the scheme is bound to the wrap
    other = MasterKey(os.urandom(32))
    assert other.key_id != first.key_id
    with pytest.raises(DataCorruption):
        other.unwrap(wrapped, b"AES256")
    given = base64.b64encode(os.urandom(32)).decode()
    assert load_master_key(str(tmp_path), given, "").key_id != first.key_id
    with pytest.raises(MasterKeyError, match=r"not base64|bytes once decoded"):
        load_master_key(str(tmp_path), "short", "")
    with pytest.raises(MasterKeyError, match="no such file"):
        load_master_key(str(tmp_path), None, str(tmp_path / "missing.key"))
    assert "k" * 8 not in repr(first)
