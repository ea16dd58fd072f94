"""The one receive path for object bytes: PutObject, POST Object, UploadPart, and the
byte copies of CopyObject / UploadPartCopy / ``move`` all write through ``receive``.

Order of a receive:
  1. chunks stream in; small payloads (at most ``limits.inline_object_bytes_max``) are
     kept in memory for the record, others go to an ``ExtentWriter``, which stores
     and hashes them in a worker thread while the next chunks arrive;
  2. once the last byte is in, the digests are verified against what the client sent
     (``PayloadChecks``: Content-MD5, checksum header or trailer; or a copy's source
     ETag): a mismatch stores nothing;
  3. bytes are sealed (encrypted) with the write's data key when it has one: the
     extent's chunks in the writer's thread, inline bytes once verified;
  4. the extent is made durable (a grouped fdatasync); the caller then commits the
     record that references it. Any error, cancellation included, aborts the writer:
     what it stored is garbage no record references.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from strata import limits
from strata.errors import BodyTooLarge
from strata.service.objects.records import Segment
from strata.storage.checksums import Hasher, new_hasher
from strata.storage.disk import DiskGuard
from strata.storage.volumes.cipher import inline_cipher, seal
from strata.storage.volumes.extent import Extent
from strata.storage.volumes.volume import Volume
from strata.storage.volumes.writer import ExtentWriter


class Verifier(Protocol):
    """What the received bytes must hash to (``PayloadChecks``, or a copy's source)."""

    def verify(self, md5: bytes, checksums: dict[str, bytes]) -> None: ...


@dataclass(slots=True)
class Received:
    """What a receive stored: inline bytes, or one new extent (not yet referenced)."""

    size_bytes: int
    md5: bytes
    checksums: dict[str, bytes]
    inline: bytes | None = None
    created: list[tuple[str, Extent]] = field(default_factory=list)

    @property
    def segments(self) -> list[Segment]:
        return [Segment(extent_id, 0, e.size_bytes, extent=True) for extent_id, e in self.created]


class _Inline:
    """A small payload kept in memory (bounded by ``limits.inline_object_bytes_max``)."""

    def __init__(self, algorithms: Sequence[str]) -> None:
        self.data = bytearray()
        self.md5 = hashlib.md5()
        self.hashers: dict[str, Hasher] = {a: new_hasher(a) for a in algorithms}

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.data += chunk
        self.md5.update(chunk)
        for hasher in self.hashers.values():
            hasher.update(chunk)


async def receive(
    body: AsyncIterable[bytes | bytearray],
    volume: Volume,
    *,
    algorithms: Sequence[str],
    size_hint: int | None,
    size_max: int,
    checks: Verifier | None = None,
    inline_allowed: bool = True,
    disk: DiskGuard | None = None,
    data_key: bytes | None = None,
) -> Received:
    """Stream ``body`` into ``volume`` (or inline), verified, sealed with ``data_key`` if
    given, and durable; see the module."""
    inline_max = limits.inline_object_bytes_max if inline_allowed else -1
    small: _Inline | None = None
    writer: ExtentWriter | None = None
    if size_hint is None or size_hint <= inline_max:
        small = _Inline(algorithms)
    else:
        writer = _writer(volume, algorithms, size_hint, disk, data_key)
    size = 0
    try:
        async for chunk in body:
            size += len(chunk)
            if size > size_max:
                raise BodyTooLarge()
            if small is not None and size > inline_max:
                writer = _writer(volume, algorithms, None, disk, data_key)
                await writer.write(small.data)
                small = None
            if small is not None:
                small.write(chunk)
            else:
                assert writer is not None
                await writer.write(chunk)
        if small is not None:
            md5 = small.md5.digest()
            sums = {n: h.digest() for n, h in small.hashers.items()}
            if checks is not None:
                checks.verify(md5, sums)
            inline = bytes(small.data)
            if data_key is not None:
                inline = seal(inline_cipher(data_key), inline)
            return Received(size, md5, sums, inline=inline)
        assert writer is not None
        md5, sums = await writer.received()
        if checks is not None:
            checks.verify(md5, sums)
        extent = await writer.durable()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return Received(size, md5, sums, created=[(writer.extent_id, extent)])


def _writer(
    volume: Volume,
    algorithms: Sequence[str],
    size_hint: int | None,
    disk: DiskGuard | None,
    data_key: bytes | None,
) -> ExtentWriter:
    if disk is not None:
        disk.require_room()  # DiskFull before touching a file
    return ExtentWriter(volume, algorithms, size_hint, data_key)
