"""Object bytes in files: streamed in while hashing, fsynced, renamed, then referenced.

Durable order of a blob write:
  1. bytes stream into ``tmp/<id>`` while MD5 and the requested checksums are computed;
  2. the file is fsynced, renamed to ``<id[:2]>/<id>`` and the directory is fsynced;
  3. only then does the caller commit the record that references it, in the same batch as
     a ``BLOB_REFS`` entry for the blob.
A crash before 3 leaves an unreferenced file; ``collect_garbage`` at start-up removes it.
No blob file is ever rewritten: a blob id names fixed bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field

from strata.storage.checksums import Hasher, new_hasher


@dataclass(frozen=True, slots=True)
class BlobInfo:
    blob_id: str
    size_bytes: int
    md5: bytes
    checksums: dict[str, bytes] = field(default_factory=dict)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob being written. ``write`` chunks, then ``finish`` (durable) or ``abort``."""

    def __init__(self, store: BlobStore, checksums: Sequence[str]) -> None:
        self._store = store
        self.blob_id = uuid.uuid4().hex
        self._tmp_path = os.path.join(store.tmp_dir, self.blob_id)
        self._file = open(self._tmp_path, "wb", buffering=0)  # noqa: SIM115 - closed in finish/abort
        self._md5 = hashlib.md5()
        self._hashers: dict[str, Hasher] = {name: new_hasher(name) for name in checksums}
        self.size_bytes = 0
        self._closed = False

    def write(self, chunk: bytes | memoryview) -> None:
        """Append a chunk: a page-cache write, cheap enough for the event loop."""
        self._file.write(chunk)
        self._md5.update(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)
        self.size_bytes += len(chunk)

    def digests(self) -> tuple[bytes, dict[str, bytes]]:
        return self._md5.digest(), {n: h.digest() for n, h in self._hashers.items()}

    async def finish(self) -> BlobInfo:
        """Fsync and publish the blob; it still needs a reference to survive a restart."""
        md5, checksums = self.digests()
        final_path = self._store.path(self.blob_id)
        await asyncio.to_thread(self._publish, final_path)
        return BlobInfo(self.blob_id, self.size_bytes, md5, checksums)

    def _publish(self, final_path: str) -> None:
        os.fsync(self._file.fileno())
        self._file.close()
        self._closed = True
        directory = os.path.dirname(final_path)
        os.makedirs(directory, exist_ok=True)
        os.rename(self._tmp_path, final_path)
        _fsync_dir(directory)

    def abort(self) -> None:
        if not self._closed:
            self._file.close()
            self._closed = True
        try:
            os.unlink(self._tmp_path)
        except FileNotFoundError:
            pass


class BlobStore:
    """A directory of immutable blob files named by random ids."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.tmp_dir = os.path.join(root, "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)

    def path(self, blob_id: str) -> str:
        return os.path.join(self.root, blob_id[:2], blob_id)

    def writer(self, checksums: Sequence[str] = ()) -> BlobWriter:
        return BlobWriter(self, checksums)

    def open(self, blob_id: str) -> int:
        """An OS file descriptor for reading; the caller closes it."""
        return os.open(self.path(blob_id), os.O_RDONLY)

    def delete(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs whose references were already committed away."""
        for blob_id in blob_ids:
            try:
                os.unlink(self.path(blob_id))
            except FileNotFoundError:
                pass

    def collect_garbage(self, referenced: Callable[[str], Container[str]]) -> int:
        """At start-up: remove partial writes and blobs no record references.

        ``referenced(prefix)`` gives the referenced blob ids beginning with ``prefix`` (a
        shard's name): one ordered scan of the references per shard, not one lookup per
        blob, so 100,000 blobs cost about a tenth of a second of the restart."""
        removed = 0
        for name in os.listdir(self.tmp_dir):
            os.unlink(os.path.join(self.tmp_dir, name))
            removed += 1
        for shard in os.listdir(self.root):
            shard_dir = os.path.join(self.root, shard)
            if shard == "tmp" or not os.path.isdir(shard_dir):
                continue
            blob_ids = os.listdir(shard_dir)
            if not blob_ids:
                continue
            keep = referenced(shard)
            for blob_id in blob_ids:
                if blob_id not in keep:
                    os.unlink(os.path.join(shard_dir, blob_id))
                    removed += 1
        return removed
