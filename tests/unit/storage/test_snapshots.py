"""Snapshots and store replacement on a real RocksDB: capture, stage, crash-safe swap."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from strata.errors import StoreReplaced
from strata.storage import spaces
from strata.storage.blobs import BlobStore
from strata.storage.clock import ManualClock
from strata.storage.snapshots import (
    READY_FILE,
    STAGING_DIR,
    InvalidSnapshotName,
    NoSuchSnapshot,
    SnapshotExists,
    Snapshots,
    finish_swap,
)
from strata.storage.store import LocalStore, WriteBatch, request_generation
from strata.storage.volumes.volume import Volumes, default_specs


def open_store(data_dir: Path) -> tuple[LocalStore, BlobStore, Snapshots]:
    store = LocalStore(str(data_dir / "db"), ManualClock())
    blobs = BlobStore(str(data_dir / "blobs"))
    volumes = Volumes(default_specs(str(data_dir)))
    return store, blobs, Snapshots(str(data_dir), store, blobs, volumes)


def put(store: LocalStore, key: bytes, value: bytes) -> None:
    batch = WriteBatch()
    batch.put(spaces.ITEMS, key, value)
    store.commit_blocking(batch)


def add_blob(store: LocalStore, blobs: BlobStore, content: bytes) -> str:
    async def write() -> str:
        writer = blobs.writer()
        writer.write(content)
        info = await writer.finish()
        return info.blob_id

    blob_id = asyncio.run(write())
    batch = WriteBatch()
    batch.put(spaces.BLOB_REFS, blob_id.encode(), b"owner")
    store.commit_blocking(batch)
    return blob_id


def test_save_links_files_and_restore_brings_back_the_saved_state(tmp_path: Path) -> None:
    store, blobs, snapshots = open_store(tmp_path)
    put(store, b"k1", b"v1")
    kept = add_blob(store, blobs, b"kept bytes")
    unreferenced = blobs.writer()  # published but never referenced: not in the snapshot
    unreferenced.write(b"orphan")
    orphan_id = asyncio.run(unreferenced.finish()).blob_id
    info = snapshots.finish_save(snapshots.capture("one"))
    assert (info.name, info.blobs) == ("one", 1)
    saved_blob = tmp_path / "snapshots" / "one" / "blobs" / kept[:2] / kept
    assert os.stat(saved_blob).st_ino == os.stat(blobs.path(kept)).st_ino  # a hard link
    assert not (tmp_path / "snapshots" / "one" / "blobs" / orphan_id[:2] / orphan_id).exists()

    put(store, b"k1", b"changed")
    put(store, b"k2", b"new")
    blobs.delete([kept])
    snapshots.stage("one")
    generation = store.generation
    snapshots.swap()
    assert store.generation == generation + 1
    assert store.get(spaces.ITEMS, b"k1") == b"v1"
    assert store.get(spaces.ITEMS, b"k2") is None
    with open(blobs.path(kept), "rb") as handle:
        assert handle.read() == b"kept bytes"
    # the live store writes through its own files: the snapshot is unchanged
    put(store, b"k1", b"after restore")
    snapshots.stage("one")
    snapshots.swap()
    assert store.get(spaces.ITEMS, b"k1") == b"v1"
    store.close()


def test_reset_stages_an_empty_store(tmp_path: Path) -> None:
    store, blobs, snapshots = open_store(tmp_path)
    put(store, b"k", b"v")
    blob_id = add_blob(store, blobs, b"bytes")
    snapshots.stage(None)
    snapshots.swap()
    assert list(store.scan(spaces.ITEMS, b"")) == []
    assert not os.path.exists(blobs.path(blob_id))
    assert os.path.isdir(blobs.tmp_dir)
    put(store, b"k", b"again")
    assert store.get(spaces.ITEMS, b"k") == b"again"
    store.close()


def test_names_exists_and_missing(tmp_path: Path) -> None:
    store, _, snapshots = open_store(tmp_path)
    for bad in ["", ".hidden", "a/b", "x" * 65, "..", "sp ace"]:
        with pytest.raises(InvalidSnapshotName):
            snapshots.capture(bad)
    snapshots.finish_save(snapshots.capture("a.b_c-1"))
    with pytest.raises(SnapshotExists):
        snapshots.capture("a.b_c-1")
    snapshots.finish_save(snapshots.capture("a.b_c-1", replace=True))
    assert [i.name for i in snapshots.list_all()] == ["a.b_c-1"]
    with pytest.raises(NoSuchSnapshot):
        snapshots.stage("missing")
    assert not (tmp_path / STAGING_DIR).exists()
    snapshots.delete("a.b_c-1")
    assert snapshots.list_all() == []
    with pytest.raises(NoSuchSnapshot):
        snapshots.delete("a.b_c-1")
    store.close()


def test_a_swap_interrupted_anywhere_after_ready_completes_at_the_next_start(
    tmp_path: Path,
) -> None:
    store, _, snapshots = open_store(tmp_path)
    put(store, b"k", b"saved")
    snapshots.finish_save(snapshots.capture("s"))
    put(store, b"k", b"live")
    store.close()
    staging = tmp_path / STAGING_DIR

    # staged but not READY: the live store stands
    snapshots.stage("s")
    (staging / READY_FILE).unlink()
    assert finish_swap(str(tmp_path)) is None
    assert not staging.exists()
    reopened = LocalStore(str(tmp_path / "db"), ManualClock())
    assert reopened.get(spaces.ITEMS, b"k") == b"live"
    reopened.close()

    # READY, and the crash came after db was moved away but before the staged one moved in
    snapshots.stage("s")
    (tmp_path / "db").rename(tmp_path / "db-moved-to-trash")
    assert finish_swap(str(tmp_path)) is not None
    assert not staging.exists()
    reopened = LocalStore(str(tmp_path / "db"), ManualClock())
    assert reopened.get(spaces.ITEMS, b"k") == b"saved"
    reopened.close()

    # READY, db already in place, blobs still staged
    snapshots.stage("s")
    (tmp_path / "db").rename(tmp_path / "old-db")
    (staging / "db").rename(tmp_path / "db")
    assert finish_swap(str(tmp_path)) is not None
    assert (tmp_path / "blobs" / "tmp").is_dir()
    assert not staging.exists()


def test_a_request_that_straddles_a_swap_cannot_write(tmp_path: Path) -> None:
    store, _, snapshots = open_store(tmp_path)
    token = request_generation.set(store.generation)
    try:
        put(store, b"before", b"ok")
        snapshots.stage(None)
        snapshots.swap()
        with pytest.raises(StoreReplaced):
            put(store, b"after", b"refused")
        assert store.get(spaces.ITEMS, b"after") is None
        request_generation.set(store.generation)  # a request that began after the swap
        put(store, b"after", b"ok")
    finally:
        request_generation.reset(token)
    put(store, b"background", b"ok")  # outside requests: no check
    store.close()


def test_deletes_scheduled_before_a_swap_are_void(tmp_path: Path) -> None:
    store, blobs, snapshots = open_store(tmp_path)
    blob_id = add_blob(store, blobs, b"restored later")
    snapshots.finish_save(snapshots.capture("s"))
    scheduled_in = blobs.generation  # as ObjectService.release_blobs passes it
    snapshots.stage("s")
    snapshots.swap()
    blobs.delete([blob_id], scheduled_in)
    assert os.path.exists(blobs.path(blob_id))
    blobs.delete([blob_id], blobs.generation)
    assert not os.path.exists(blobs.path(blob_id))
    store.close()
