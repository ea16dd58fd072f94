"""Named checkpoints of the live store, for table backups: ``data-dir/backups/<name>/``.

A checkpoint is taken in one synchronous step (RocksDB flushes its memtables and hard-
links every SST file, which never changes once written), so it holds exactly what was
applied at that instant and costs links, not copies: it shares its files with the live
store until compaction rewrites them. It is opened read-only to be read, and outlives
anything later done to the live store (a table dropped, the server killed).

A checkpoint is built under ``.<name>`` and renamed into place once fsynced, so a name
that exists is complete; ``names`` never lists a partial one and ``discard_partial``
removes what an interrupted take left.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Final

from strata.engine.rocksdb import RocksReader
from strata.storage.blobs import fsync_dir
from strata.storage.snapshots import remove_later
from strata.storage.store import LocalStore

BACKUPS_DIR: Final = "backups"
NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class CheckpointReader:
    """Scans of one checkpoint; ``close`` when done."""

    def __init__(self, path: str) -> None:
        self._reader = RocksReader(path)

    def scan(
        self, space: str, start: bytes, end: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._reader.scan(space, start, end)

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> CheckpointReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Checkpoints:
    def __init__(self, data_dir: str, store: LocalStore) -> None:
        self.root = os.path.join(data_dir, BACKUPS_DIR)
        self.store = store

    def _path(self, name: str) -> str:
        assert NAME_RE.fullmatch(name), name
        return os.path.join(self.root, name)

    def take(self, name: str) -> None:
        """Checkpoint everything applied so far as ``name``: complete and durable on return."""
        os.makedirs(self.root, exist_ok=True)
        final = self._path(name)
        partial = os.path.join(self.root, "." + name)
        self.store.checkpoint(partial)
        for entry in os.listdir(partial):
            if not entry.endswith(".sst"):  # linked SST files are durable already
                fd = os.open(os.path.join(partial, entry), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(partial)
        os.rename(partial, final)
        fsync_dir(self.root)

    def open(self, name: str) -> CheckpointReader:
        return CheckpointReader(self._path(name))

    def exists(self, name: str) -> bool:
        return os.path.isdir(self._path(name))

    def remove(self, name: str) -> None:
        """Delete ``name`` (in the background: renamed away first, so it is gone at once)."""
        path = self._path(name)
        if not os.path.isdir(path):
            return
        doomed = os.path.join(self.root, ".deleted-" + name)
        os.rename(path, doomed)
        remove_later(doomed)

    def names(self) -> list[str]:
        if not os.path.isdir(self.root):
            return []
        return sorted(n for n in os.listdir(self.root) if not n.startswith("."))

    def discard_partial(self) -> None:
        """At start-up: what an interrupted take or remove left."""
        if os.path.isdir(self.root):
            for name in os.listdir(self.root):
                if name.startswith("."):
                    remove_later(os.path.join(self.root, name))
