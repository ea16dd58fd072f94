"""Snapshots of the whole store, and replacing the live store (restore, reset).

Layout of a data directory::

    db/ blobs/ volumes/          the live store
    snapshots/NAME/              db/ (a RocksDB checkpoint), blobs/, volumes/, snapshot.json
    snapshots/.NAME.<id>/        a save in progress (renamed to NAME when complete)
    .restore/                    the next store, being staged; READY once complete
    .trash/<id>/                 replaced stores and deleted snapshots, removed in the background

Nothing is copied that can be linked: SST files and blob files never change once
written, so a snapshot and the live store share them through hard links (a save of
10,000 blobs is 10,000 ``link`` calls). Extent files (``volumes/<name>/``) only grow, and
no byte a record references is ever rewritten (compaction writes new files), so they
are linked whole: bytes appended after the save are garbage the snapshot's records
never reference. Volumes configured outside the data directory are not in snapshots.
A save is consistent because its checkpoint and its list of referenced blobs (and
extent files) are taken in one synchronous step of the event loop; bytes are durable
before the records that reference them commit, so every referenced byte exists then.

Replacing the store is crash-safe through ``.restore/READY``: the staged store is
complete and fsynced before READY is written; ``finish_swap`` then renames the live
``db``/``blobs`` into the trash and the staged ones into place. It is idempotent, so a
crash anywhere after READY is completed at the next start, and a crash before it leaves
the live store as it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Final

import msgspec

from strata.errors import StrataError
from strata.storage import spaces
from strata.storage.blobs import BlobStore
from strata.storage.blobs import fsync_dir as _fsync
from strata.storage.store import LocalStore
from strata.storage.volumes.volume import Volumes

log = logging.getLogger("strata.snapshots")

SNAPSHOTS_DIR: Final = "snapshots"
STAGING_DIR: Final = ".restore"
TRASH_DIR: Final = ".trash"
READY_FILE: Final = "READY"
INFO_FILE: Final = "snapshot.json"
PARTS: Final = ("db", "blobs", "volumes")
NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SHARED_SUFFIXES: Final = (".sst", ".blob")  # RocksDB files that never change: linked


class InvalidSnapshotName(StrataError):
    default_message = (
        "Snapshot names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )


class NoSuchSnapshot(StrataError):
    default_message = "The snapshot does not exist"


class SnapshotExists(StrataError):
    default_message = "A snapshot of that name exists (save with replace to overwrite it)"


class SnapshotInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    created_s: float
    blobs: int  # files of object bytes it holds: blob files and extent files
    blob_bytes: int
    db_bytes: int  # its RocksDB checkpoint


@dataclass(frozen=True, slots=True)
class PendingSave:
    """A snapshot captured in ``work``, not yet synced and named."""

    name: str
    work: str
    target: str
    started_s: float
    linked: int


def _tree_bytes(path: str) -> tuple[int, int]:
    """(files, bytes) under ``path``."""
    files = size = 0
    for folder, _, names in os.walk(path):
        for name in names:
            files += 1
            size += os.stat(os.path.join(folder, name)).st_size
    return files, size


def _link_tree(source: str, target: str) -> None:
    """Hard-link every file of ``source`` (blob shards, one level deep) under ``target``."""
    os.makedirs(target, exist_ok=True)
    for shard in os.listdir(source):
        if shard == "tmp":
            continue
        shard_dir = os.path.join(source, shard)
        if not os.path.isdir(shard_dir):
            continue
        into = os.path.join(target, shard)
        os.makedirs(into, exist_ok=True)
        for name in os.listdir(shard_dir):
            os.link(os.path.join(shard_dir, name), os.path.join(into, name))
        _fsync(into)
    _fsync(target)


def _stage_db(source: str, target: str) -> None:
    """A database the live store may open read-write without touching the snapshot: its
    immutable files hard-linked, the ones RocksDB appends to or rewrites copied."""
    os.makedirs(target)
    for name in os.listdir(source):
        path = os.path.join(source, name)
        if name.endswith(_SHARED_SUFFIXES):
            os.link(path, os.path.join(target, name))
        else:
            shutil.copy2(path, os.path.join(target, name))
            _fsync(os.path.join(target, name))
    _fsync(target)


def finish_swap(data_dir: str) -> str | None:
    """Put a completely staged store in place (restore, reset, or a start after a crash
    during one); returns the trash folder holding what it replaced, None if nothing was
    staged. A staging folder without READY is an interrupted restore: removed."""
    staging = os.path.join(data_dir, STAGING_DIR)
    if not os.path.isdir(staging):
        return None
    if not os.path.exists(os.path.join(staging, READY_FILE)):
        shutil.rmtree(staging)
        return None
    trash = os.path.join(data_dir, TRASH_DIR, uuid.uuid4().hex)
    os.makedirs(trash)
    for part in PARTS:
        staged = os.path.join(staging, part)
        if not os.path.isdir(staged):
            continue  # put in place before a crash
        live = os.path.join(data_dir, part)
        if os.path.exists(live):
            os.rename(live, os.path.join(trash, part))
        os.rename(staged, live)
    _fsync(data_dir)
    os.unlink(os.path.join(staging, READY_FILE))
    os.rmdir(staging)
    _fsync(data_dir)
    return trash


def remove_later(path: str) -> None:
    """Delete a folder in a background thread (a replaced store can be big)."""
    threading.Thread(
        target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, daemon=True
    ).start()


def clean_up(data_dir: str) -> None:
    """At start-up: leftovers of interrupted saves and of the trash go."""
    trash = os.path.join(data_dir, TRASH_DIR)
    if os.path.isdir(trash):
        for name in os.listdir(trash):
            remove_later(os.path.join(trash, name))
    root = os.path.join(data_dir, SNAPSHOTS_DIR)
    if os.path.isdir(root):
        for name in os.listdir(root):
            if name.startswith("."):
                remove_later(os.path.join(root, name))


class Snapshots:
    """Save, list, delete snapshots of a running store; stage and swap in another store."""

    def __init__(
        self, data_dir: str, store: LocalStore, blobs: BlobStore, volumes: Volumes
    ) -> None:
        self.data_dir = data_dir
        self.root = os.path.join(data_dir, SNAPSHOTS_DIR)
        self.store = store
        self.blobs = blobs
        self.volumes = volumes
        self.lock = asyncio.Lock()  # one save, restore or reset at a time

    def path(self, name: str) -> str:
        if not NAME_RE.fullmatch(name):
            raise InvalidSnapshotName()
        return os.path.join(self.root, name)

    def info(self, name: str) -> SnapshotInfo:
        try:
            with open(os.path.join(self.path(name), INFO_FILE), "rb") as handle:
                return msgspec.json.decode(handle.read(), type=SnapshotInfo)
        except FileNotFoundError:
            raise NoSuchSnapshot(name=name)

    def list_all(self) -> list[SnapshotInfo]:
        if not os.path.isdir(self.root):
            return []
        found = []
        for name in sorted(os.listdir(self.root)):
            if NAME_RE.fullmatch(name):
                try:
                    found.append(self.info(name))
                except NoSuchSnapshot:
                    continue
        return found

    def capture(self, name: str, *, replace: bool = False) -> PendingSave:
        """Snapshot the store as it is now, in one synchronous step on the event loop: the
        checkpoint and the blobs it references, linked. ``finish_save`` (in a thread, while
        requests go on) syncs the files and names the snapshot."""
        target = self.path(name)
        if os.path.exists(target) and not replace:
            raise SnapshotExists(name=name)
        work = os.path.join(self.root, f".{name}.{uuid.uuid4().hex}")
        os.makedirs(work)
        started = time.time()
        self.store.checkpoint(os.path.join(work, "db"))
        linked, missing = self._link_referenced(os.path.join(work, "blobs"))
        linked += self._link_volumes(os.path.join(work, "volumes"))
        if missing:
            log.warning("snapshot %s: %d referenced blob files are missing", name, missing)
        return PendingSave(name, work, target, started, linked)

    def _link_referenced(self, target: str) -> tuple[int, int]:
        linked = missing = 0
        made: set[str] = set()
        for key, _ in self.store.scan(spaces.BLOB_REFS, b""):
            blob_id = key.decode()
            shard = os.path.join(target, blob_id[:2])
            if shard not in made:
                os.makedirs(shard, exist_ok=True)
                made.add(shard)
            try:
                os.link(self.blobs.path(blob_id), os.path.join(shard, blob_id))
                linked += 1
            except FileNotFoundError:
                missing += 1
        os.makedirs(target, exist_ok=True)
        return linked, missing

    def _link_volumes(self, target: str) -> int:
        """Every extent file of the volumes inside the data directory, linked whole."""
        os.makedirs(target)
        linked = 0
        inside = os.path.join(self.data_dir, "volumes")
        for name, volume in self.volumes.by_name.items():
            directory = volume.files.directory
            if os.path.dirname(os.path.abspath(directory)) != inside:
                log.warning(
                    "snapshot: volume %s (%s) is outside the data directory", name, directory
                )
                continue
            into = os.path.join(target, name)
            os.makedirs(into)
            for file_name in volume.files.names():
                try:
                    os.link(os.path.join(directory, file_name), os.path.join(into, file_name))
                    linked += 1
                except FileNotFoundError:
                    continue  # removed by compaction: no live extent was in it
        return linked

    def finish_save(self, pending: PendingSave) -> SnapshotInfo:
        name, work, target = pending.name, pending.work, pending.target
        for part in ("blobs", "volumes"):
            part_dir = os.path.join(work, part)
            for shard in os.listdir(part_dir):
                _fsync(os.path.join(part_dir, shard))
            _fsync(part_dir)
        _, blob_bytes = _tree_bytes(os.path.join(work, "blobs"))
        _, extent_bytes = _tree_bytes(os.path.join(work, "volumes"))
        _, db_bytes = _tree_bytes(os.path.join(work, "db"))
        info = SnapshotInfo(
            name=name,
            created_s=pending.started_s,
            blobs=pending.linked,
            blob_bytes=blob_bytes + extent_bytes,
            db_bytes=db_bytes,
        )
        with open(os.path.join(work, INFO_FILE), "wb") as handle:
            handle.write(msgspec.json.encode(info))
            handle.flush()
            os.fsync(handle.fileno())
        _fsync(work)
        if os.path.exists(target):  # replace: the old one goes to the trash first
            self._discard(target)
        os.rename(work, target)
        _fsync(self.root)
        return info

    def _discard(self, path: str) -> None:
        trash = os.path.join(self.data_dir, TRASH_DIR, uuid.uuid4().hex)
        os.makedirs(os.path.dirname(trash), exist_ok=True)
        os.rename(path, trash)
        remove_later(trash)

    def delete(self, name: str) -> None:
        target = self.path(name)
        if not os.path.isdir(target):
            raise NoSuchSnapshot(name=name)
        self._discard(target)

    def stage(self, name: str | None) -> None:
        """Build the next store in ``.restore`` from snapshot ``name`` (None: an empty
        store), then mark it READY. Touches nothing live: runs in a thread."""
        staging = os.path.join(self.data_dir, STAGING_DIR)
        if os.path.exists(staging):
            shutil.rmtree(staging)
        os.makedirs(staging)
        if name is None:
            os.makedirs(os.path.join(staging, "db"))
            os.makedirs(os.path.join(staging, "blobs"))
            os.makedirs(os.path.join(staging, "volumes"))
        else:
            source = self.path(name)
            if not os.path.isfile(os.path.join(source, INFO_FILE)):
                shutil.rmtree(staging)
                raise NoSuchSnapshot(name=name)
            _stage_db(os.path.join(source, "db"), os.path.join(staging, "db"))
            _link_tree(os.path.join(source, "blobs"), os.path.join(staging, "blobs"))
            if os.path.isdir(os.path.join(source, "volumes")):  # saved before volumes: none
                _link_tree(os.path.join(source, "volumes"), os.path.join(staging, "volumes"))
            else:
                os.makedirs(os.path.join(staging, "volumes"))
        os.makedirs(os.path.join(staging, "blobs", "tmp"), exist_ok=True)
        _fsync(staging)
        with open(os.path.join(staging, READY_FILE), "wb") as handle:
            os.fsync(handle.fileno())
        _fsync(staging)

    def swap(self) -> None:
        """Replace the live store by the staged one (synchronous, on the event loop)."""
        trash: list[str | None] = []
        self.store.replace(lambda: trash.append(finish_swap(self.data_dir)))
        self.blobs.replaced()
        if trash and trash[0] is not None:
            remove_later(trash[0])
