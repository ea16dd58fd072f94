"""Volumes on a real filesystem and RocksDB: extent writes, grouped syncs, reads, references."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import zlib
from pathlib import Path

import pytest

from strata.storage import records, spaces
from strata.storage.checksums import new_hasher
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore, WriteBatch
from strata.storage.volumes.codec import FRAME_BYTES
from strata.storage.volumes.extent import Extent, RefChanges, location_key, read_extent
from strata.storage.volumes.reader import BlobReader, extent_pieces
from strata.storage.volumes.volume import Volume, Volumes, VolumeSpec, default_specs
from strata.storage.volumes.writer import ExtentWriter

MIB = 1024 * 1024


def volume(tmp_path: Path, policy: str = "hot") -> Volume:
    return Volume(VolumeSpec(policy, policy, str(tmp_path / policy)), None)  # type: ignore[arg-type]


async def write(vol: Volume, data: bytes, size_hint: int | None, chunk: int = 100_000) -> Extent:
    writer = ExtentWriter(vol, ["CRC32"], size_hint)
    for start in range(0, len(data), chunk):
        await writer.write(data[start : start + chunk])
    md5, sums = await writer.received()
    assert md5 == hashlib.md5(data).digest()
    assert sums["CRC32"] == zlib.crc32(data).to_bytes(4, "big")
    return await writer.durable()


def read(vol: Volume, extent: Extent, start: int = 0, length: int | None = None) -> bytes:
    length = extent.size_bytes - start if length is None else length
    path = vol.files.path(extent.file)
    reader = BlobReader(extent_pieces(path, extent, start, length))
    reader.check()
    return b"".join(reader.chunks())


def logs(size: int) -> bytes:
    lines = []
    n = 0
    while sum(len(line) for line in lines) < size:
        record = {"n": n, "level": "info", "path": f"/objects/{n % 97}", "ms": n * 7 % 1000}
        lines.append(json.dumps(record).encode() + b"\n")
        n += 1
    return b"".join(lines)[:size]


def test_hot_extent_round_trip_and_ranges(tmp_path: Path) -> None:
    vol = volume(tmp_path)
    data = os.urandom(3 * MIB + 12345)
    extent = asyncio.run(write(vol, data, len(data)))
    assert extent.frames == []
    assert extent.stored_bytes == len(data)
    assert read(vol, extent) == data
    assert read(vol, extent, MIB - 10, 20) == data[MIB - 10 : MIB + 10]
    plain = BlobReader(extent_pieces(vol.files.path(extent.file), extent, 5, 100)).plain()
    assert plain is not None
    assert plain[0].offset == extent.offset + 5


def test_cold_compresses_what_pays_and_reads_ranges_across_frames(tmp_path: Path) -> None:
    vol = volume(tmp_path, "cold")
    data = logs(3 * MIB + 777)
    extent = asyncio.run(write(vol, data, len(data)))
    assert len(extent.frames) == 4
    assert all(size > 0 for size in extent.frames)  # every frame compressed
    assert extent.stored_bytes < len(data) / 3
    assert read(vol, extent) == data
    for start, length in [(0, 1), (FRAME_BYTES - 3, 6), (FRAME_BYTES * 2 - 1, FRAME_BYTES + 2)]:
        assert read(vol, extent, start, length) == data[start : start + length]
    reader = BlobReader(extent_pieces(vol.files.path(extent.file), extent, 0, len(data)))
    assert reader.plain() is None


def test_cold_keeps_incompressible_bytes_plain_and_sendable(tmp_path: Path) -> None:
    vol = volume(tmp_path, "cold")
    data = os.urandom(4 * MIB)
    extent = asyncio.run(write(vol, data, len(data)))
    assert all(size < 0 for size in extent.frames)
    assert extent.stored_bytes == len(data)
    assert read(vol, extent, FRAME_BYTES - 5, 10) == data[FRAME_BYTES - 5 : FRAME_BYTES + 5]
    plain = BlobReader(extent_pieces(vol.files.path(extent.file), extent, 0, len(data))).plain()
    assert plain is not None
    assert len(plain) == 1


def test_concurrent_writers_share_a_file_and_its_syncs(tmp_path: Path) -> None:
    vol = volume(tmp_path)
    bodies = [os.urandom(200_000 + n) for n in range(8)]

    async def main() -> list[Extent]:
        return await asyncio.gather(*(write(vol, body, len(body)) for body in bodies))

    extents = asyncio.run(main())
    assert len({e.file for e in extents}) == 1
    assert len(vol.files.names()) == 1
    ranges = sorted((e.offset, e.offset + e.stored_bytes) for e in extents)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))  # no overlap
    assert vol.files.sync.rounds_total < len(bodies)
    for extent, body in zip(extents, bodies, strict=True):
        assert read(vol, extent) == body


def test_waiters_arriving_together_share_one_round(tmp_path: Path) -> None:
    """The first waiter starts a round; the others, queued while it runs, share the next."""
    vol = volume(tmp_path)
    reserved = [vol.files.reserve(4096) for _ in range(6)]
    for file, offset in reserved:
        os.pwrite(file.fd, b"x" * 4096, offset)

    async def main() -> None:
        await asyncio.gather(*(vol.files.sync.wait(file) for file, _ in reserved))

    asyncio.run(main())
    assert vol.files.sync.rounds_total == 2
    assert vol.files.sync.synced_files_total == 2


def test_more_bytes_than_declared_move_to_a_file_of_their_own(tmp_path: Path) -> None:
    vol = volume(tmp_path)
    data = os.urandom(700_000)

    async def main() -> tuple[Extent, Extent]:
        first = await write(vol, data, 300_000)  # declared too short
        second = await write(vol, b"y" * 300_000, 300_000)
        return first, second

    first, second = asyncio.run(main())
    assert first.file != second.file
    assert read(vol, first) == data
    assert read(vol, second) == b"y" * 300_000


def test_abort_gives_the_reserved_blocks_back(tmp_path: Path) -> None:
    vol = volume(tmp_path)

    async def main() -> str:
        writer = ExtentWriter(vol, [], 8 * MIB)
        for _ in range(8):
            await writer.write(os.urandom(MIB))
        await writer.received()
        writer.abort()
        return writer._file.path

    path = asyncio.run(main())
    assert os.stat(path).st_blocks * 512 < 64 * 1024


def test_private_file_of_an_aborted_write_is_removed(tmp_path: Path) -> None:
    vol = volume(tmp_path)

    async def main() -> None:
        writer = ExtentWriter(vol, [], None)
        await writer.write(os.urandom(MIB))
        writer.abort()
        await asyncio.sleep(0.2)  # the batch in its thread ends, then the file goes

    asyncio.run(main())
    assert vol.files.names() == []


def test_references_free_an_extent_with_its_last_owner(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    try:
        extent = Extent("hot", "f.extents", 0, 10, 10)
        first = RefChanges()
        first.created("e1", extent)
        first.add("e1", b"owner-a")
        batch = WriteBatch()
        assert first.stage(store, batch) == []
        store.commit_blocking(batch)
        assert read_extent(store, "e1") == extent

        shared = RefChanges()  # a copy: a second owner
        shared.add("e1", b"owner-b")
        batch = WriteBatch()
        shared.stage(store, batch)
        store.commit_blocking(batch)

        gone_a = RefChanges()
        gone_a.remove("e1", b"owner-a")
        batch = WriteBatch()
        assert gone_a.stage(store, batch) == []  # owner-b still holds it
        store.commit_blocking(batch)

        moved = RefChanges()  # one batch moving the reference: not freed
        moved.remove("e1", b"owner-b")
        moved.add("e1", b"owner-c")
        batch = WriteBatch()
        assert moved.stage(store, batch) == []
        store.commit_blocking(batch)

        last = RefChanges()
        last.remove("e1", b"owner-c")
        batch = WriteBatch()
        assert last.stage(store, batch) == [("e1", extent)]
        store.commit_blocking(batch)
        assert store.get(spaces.EXTENTS, location_key("e1")) is None
        assert list(store.scan(spaces.EXTENTS, b"")) == []
    finally:
        store.close()


def test_start_up_accounting_and_dead_files(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    try:
        volumes = Volumes(default_specs(str(tmp_path)))
        hot = volumes["hot"]
        live = asyncio.run(write(hot, os.urandom(100_000), 100_000))
        hot.files.close()  # a new run: the next write gets another file
        dead = asyncio.run(write(hot, os.urandom(100_000), 100_000))
        hot.files.close()
        batch = WriteBatch()
        batch.put(spaces.EXTENTS, location_key("live"), records.encode(live))
        store.commit_blocking(batch)
        volumes.load(store)
        assert hot.live_bytes == {live.file: 100_000}
        assert volumes.remove_dead_files() == 1
        assert hot.files.names() == [live.file]
        assert dead.file not in hot.files.names()
    finally:
        store.close()


def test_class_map_defaults_and_overrides(tmp_path: Path) -> None:
    volumes = Volumes(default_specs(str(tmp_path)), {"STANDARD_IA": "hot"})
    assert volumes.for_class("STANDARD").name == "hot"
    assert volumes.for_class("STANDARD_IA").name == "hot"
    assert volumes.for_class("GLACIER_IR").name == "cold"
    assert volumes.for_class("DEEP_ARCHIVE").name == "archive"
    with pytest.raises(ValueError, match="unknown volume"):
        Volumes(default_specs(str(tmp_path)), {"GLACIER": "tape"})


def test_hashers_match_the_one_receive_path(tmp_path: Path) -> None:
    """SHA256 and the CRT's CRCs in the writer's thread give what hashing inline gives."""
    vol = volume(tmp_path)
    data = os.urandom(MIB + 3)

    async def main() -> dict[str, bytes]:
        writer = ExtentWriter(vol, ["SHA256", "CRC64NVME", "CRC32C"], len(data))
        for start in range(0, len(data), 65536):
            await writer.write(data[start : start + 65536])
        _, sums = await writer.received()
        await writer.durable()
        return sums

    sums = asyncio.run(main())
    for name in ("SHA256", "CRC64NVME", "CRC32C"):
        hasher = new_hasher(name)
        hasher.update(data)
        assert sums[name] == hasher.digest(), name
