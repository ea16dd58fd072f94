"""The blob store: durable publish, hashing on the way in, start-up garbage collection."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from strata.storage.blobs import BlobStore


def test_write_hashes_and_publishes(tmp_path: Path) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    writer = blobs.writer(["CRC32", "SHA256"])
    data = os.urandom(300_000)
    for i in range(0, len(data), 65536):
        writer.write(data[i : i + 65536])
    info = asyncio.run(writer.finish())
    assert info.size_bytes == len(data)
    assert info.md5 == hashlib.md5(data).digest()
    assert info.checksums["SHA256"] == hashlib.sha256(data).digest()
    assert int.from_bytes(info.checksums["CRC32"], "big") == zlib.crc32(data)
    with open(blobs.path(info.blob_id), "rb") as handle:
        assert handle.read() == data
    assert os.listdir(blobs.tmp_dir) == []


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    writer = blobs.writer()
    writer.write(b"partial")
    writer.abort()
    assert os.listdir(blobs.tmp_dir) == []
    assert not os.path.exists(blobs.path(writer.blob_id))


def test_garbage_collection_keeps_only_referenced(tmp_path: Path) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    kept = asyncio.run(_write(blobs, b"kept"))
    dropped = asyncio.run(_write(blobs, b"dropped"))
    removed = blobs.collect_garbage(lambda prefix: {kept} if kept.startswith(prefix) else set())
    assert removed == 1
    assert os.path.exists(blobs.path(kept))
    assert not os.path.exists(blobs.path(dropped))


async def _write(blobs: BlobStore, data: bytes) -> str:
    writer = blobs.writer()
    writer.write(data)
    return (await writer.finish()).blob_id


SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from strata.storage.blobs import BlobStore
    writer = BlobStore(sys.argv[1]).writer(["CRC32"])
    print(writer.blob_id, flush=True)
    while True:
        writer.write(b"x" * 65536)
        time.sleep(0.001)
    """
)


def test_kill_during_write_leaves_no_visible_partial_blob(tmp_path: Path) -> None:
    root = str(tmp_path / "blobs")
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, root], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    blob_id = process.stdout.readline().strip()
    while (
        not os.listdir(os.path.join(root, "tmp"))
        or os.path.getsize(os.path.join(root, "tmp", blob_id)) < 1_000_000
    ):
        pass
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    blobs = BlobStore(root)
    assert not os.path.exists(blobs.path(blob_id))  # never published
    assert blobs.collect_garbage(lambda _: set()) == 1  # the partial temp file
    assert os.listdir(blobs.tmp_dir) == []


def fake_blobs(blobs: BlobStore, count: int) -> list[str]:
    ids = []
    for n in range(count):
        blob_id = f"{n:02x}" + "0" * 30
        os.makedirs(os.path.dirname(blobs.path(blob_id)), exist_ok=True)
        Path(blobs.path(blob_id)).write_bytes(b"x")
        ids.append(blob_id)
    return ids


def test_gc_removes_nothing_when_most_blobs_are_unreferenced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that lost its records must not take the blobs with it."""
    blobs = BlobStore(str(tmp_path / "blobs"))
    ids = fake_blobs(blobs, 200)
    with caplog.at_level(logging.INFO, "strata.blobs"):
        assert blobs.collect_garbage(lambda shard: set(), 0.05) == 0
    assert all(os.path.exists(blobs.path(b)) for b in ids)
    assert "200 of 200 blob files" in caplog.text
    assert "none removed" in caplog.text


def test_gc_removes_and_logs_a_few_orphans(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    ids = fake_blobs(blobs, 200)
    orphans = set(ids[:3])
    with caplog.at_level(logging.INFO, "strata.blobs"):
        removed = blobs.collect_garbage(lambda shard: {b for b in ids if b not in orphans}, 0.05)
    assert removed == 3
    assert [b for b in ids if not os.path.exists(blobs.path(b))] == ids[:3]
    assert all(f"removed unreferenced blob {b}" in caplog.text for b in orphans)
    # With the limit lifted, whatever is unreferenced goes.
    assert blobs.collect_garbage(lambda shard: set(), 1.0) == 197
