"""Copying object bytes: shared by reference when they can be, else read and re-received.

CopyObject and UploadPartCopy share the source's extents (new references, no bytes
moved) when every byte they need is in an extent of the volume the target's storage
class writes to. Otherwise (another volume, blob files of the format before volumes,
inline bytes) the bytes are read through a ``BlobReader`` and written through the one
receive path; a whole-object copy is then checked against the source's ETag, so damaged
bytes are never laundered into a new, self-consistent extent. Shared bytes are not
re-read: they stay where the scrub checks them.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence

from strata.errors import DataCorruption
from strata.service.objects.receive import Received, receive
from strata.service.objects.records import ObjectVersion, Segment
from strata.storage.checksums import etag, new_hasher
from strata.storage.disk import DiskGuard
from strata.storage.store import Store
from strata.storage.volumes.extent import read_extent
from strata.storage.volumes.reader import BlobReader
from strata.storage.volumes.volume import Volume


def shareable(store: Store, segments: Sequence[Segment], volume: Volume) -> bool:
    """Whether ``segments`` can be referenced as they are by a record writing to ``volume``."""
    if not segments:
        return False
    for segment in segments:
        if not segment.extent:
            return False
        extent = read_extent(store, segment.blob_id)
        if extent is None or extent.volume != volume.name:
            return False
    return True


async def copy_bytes(
    readers: list[BlobReader],
    volume: Volume,
    algorithms: Sequence[str],
    disk: DiskGuard | None,
    source: ObjectVersion | None = None,
    data_key: bytes | None = None,
) -> Received:
    """Re-receive the bytes of ``readers`` (one per source segment) into ``volume``,
    sealed with ``data_key`` if given.

    With ``source`` (a whole-object copy) the bytes must hash to its ETag, checked before
    the new extent is synced: a mismatch aborts the write and leaves nothing. An SSE-C
    source's ETag is not an MD5: its chunks' authentication tags were the check."""
    if source is not None and source.encryption is not None and source.encryption.customer:
        source = None
    md5s = [hashlib.md5() for _ in readers]
    size = sum(reader.length for reader in readers)
    return await receive(
        _read_all(readers, md5s),
        volume,
        algorithms=algorithms,
        size_hint=size,
        size_max=size,
        checks=_SourceCheck(source, md5s) if source is not None else None,
        disk=disk,
        data_key=data_key,
    )


class _SourceCheck:
    """The receive path's verification for a whole-object copy: the source's ETag."""

    def __init__(self, source: ObjectVersion, md5s: list[hashlib._Hash]) -> None:
        self.source = source
        self.md5s = md5s

    def verify(self, md5: bytes, checksums: dict[str, bytes]) -> None:
        check_copy(self.source, md5, [m.digest() for m in self.md5s])


async def _read_all(
    readers: list[BlobReader], md5s: list[hashlib._Hash]
) -> AsyncIterator[bytes | bytearray]:
    loop = asyncio.get_running_loop()
    for reader, md5 in zip(readers, md5s, strict=True):
        chunks = _hashed(reader.chunks(), md5)
        while True:
            chunk = await loop.run_in_executor(None, next, chunks, None)
            if chunk is None:
                break
            yield chunk


def _hashed(chunks: Iterator[bytes | bytearray], md5: hashlib._Hash) -> Iterator[bytes | bytearray]:
    """In the reading thread: each chunk also goes into ``md5``."""
    for chunk in chunks:
        md5.update(chunk)
        yield chunk


def digest_readers(
    readers: list[BlobReader], algorithms: Sequence[str]
) -> tuple[bytes, dict[str, bytes], list[bytes]]:
    """In a worker thread: the MD5 and checksums of all the readers' bytes, and each
    reader's MD5 (a shared part copy needs its digests without writing a byte)."""
    whole = hashlib.md5()
    hashers = {name: new_hasher(name) for name in algorithms}
    md5s = []
    for reader in readers:
        md5 = hashlib.md5()
        for chunk in reader.chunks():
            whole.update(chunk)
            md5.update(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
        md5s.append(md5.digest())
    return whole.digest(), {n: h.digest() for n, h in hashers.items()}, md5s


async def once(data: bytes) -> AsyncIterator[bytes]:
    """A body of one chunk."""
    yield data


def check_copy(source: ObjectVersion, whole_md5: bytes, segment_md5s: list[bytes]) -> None:
    """A copy of a whole object must hash to its ETag: else it would turn damaged bytes
    into a new, self-consistent extent."""
    parts = len(source.part_sizes)
    if parts and len(segment_md5s) != parts:
        return  # not one segment per part: the ETag cannot be recomputed
    computed = etag(segment_md5s if parts else [whole_md5], parts)
    if computed != source.etag:
        raise DataCorruption(
            f"copy source version {source.version_id}: bytes of "
            f"{', '.join(s.blob_id for s in source.segments)} hash to {computed}, the record "
            f"says {source.etag}"
        )
