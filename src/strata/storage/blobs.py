"""Object bytes in files: streamed in while hashing, fsynced, renamed, then referenced.

Durable order of a blob write:
  1. bytes stream into ``tmp/<id>`` while MD5 and the requested checksums are computed;
  2. the file is fsynced, renamed to ``<id[:2]>/<id>`` and the directory is fsynced;
  3. only then does the caller commit the record that references it, in the same batch as
     a ``BLOB_REFS`` entry for the blob.
A crash before 3 leaves an unreferenced file; ``collect_garbage`` at start-up removes it,
unless unreferenced files are so many that the database, not the blobs, looks damaged.
A write that fails (ENOSPC is ``DiskFull``) is aborted by its caller: nothing is left.
No blob file is ever rewritten: a blob id names fixed bytes.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field

from strata.errors import DataCorruption, DiskFull, StoreReplaced
from strata.storage.checksums import Hasher, new_hasher
from strata.storage.disk import DiskGuard

log = logging.getLogger("strata.blobs")

# Unreferenced blobs start-up GC may always remove, whatever their share: what a crash
# leaves behind (PUTs in flight, blobs freed within their grace period).
GC_ALWAYS_ALLOWED = 64


def blob_files_present(root: str) -> bool:
    """Whether ``root`` holds any published blob file (start-up checks, before opening)."""
    if not os.path.isdir(root):
        return False
    for shard in os.listdir(root):
        shard_dir = os.path.join(root, shard)
        if shard != "tmp" and os.path.isdir(shard_dir) and os.listdir(shard_dir):
            return True
    return False


@dataclass(frozen=True, slots=True)
class BlobInfo:
    blob_id: str
    size_bytes: int
    md5: bytes
    checksums: dict[str, bytes] = field(default_factory=dict)


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob being written. ``write`` chunks, then ``finish`` (durable) or ``abort``."""

    def __init__(self, store: BlobStore, checksums: Sequence[str]) -> None:
        self._store = store
        self._generation = store.generation
        self.blob_id = uuid.uuid4().hex
        self._tmp_path = os.path.join(store.tmp_dir, self.blob_id)
        self._published_path: str | None = None
        try:
            self._fd = os.open(self._tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            store.raise_if_no_space(exc)
            raise
        self._md5 = hashlib.md5()
        self._hashers: dict[str, Hasher] = {name: new_hasher(name) for name in checksums}
        self.size_bytes = 0
        self._closed = False

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append a chunk, every byte of it: a page-cache write, cheap enough for the loop.

        A raw write may take fewer bytes than it was given (a filling disk): write the
        rest until done or until the OS refuses (ENOSPC becomes ``DiskFull``)."""
        view = memoryview(chunk)
        done, total = 0, view.nbytes
        try:
            while done < total:
                written = os.write(self._fd, view[done:])
                if written <= 0:  # never for a regular file; do not spin if it happens
                    raise OSError(errno.EIO, "write wrote nothing", self._tmp_path)
                done += written
        except OSError as exc:
            self._store.raise_if_no_space(exc)
            raise
        self._md5.update(view)
        for hasher in self._hashers.values():
            hasher.update(view)
        self.size_bytes += total

    def digests(self) -> tuple[bytes, dict[str, bytes]]:
        return self._md5.digest(), {n: h.digest() for n, h in self._hashers.items()}

    async def finish(self) -> BlobInfo:
        """Fsync and publish the blob; it still needs a reference to survive a restart."""
        md5, checksums = self.digests()
        final_path = self._store.path(self.blob_id)
        try:
            await asyncio.to_thread(self._publish, final_path)
        except FileNotFoundError:
            if self._generation != self._store.generation:
                raise StoreReplaced()  # its directory went with the replaced store
            raise
        return BlobInfo(self.blob_id, self.size_bytes, md5, checksums)

    def _publish(self, final_path: str) -> None:
        try:
            os.fsync(self._fd)  # ENOSPC can surface here (delayed allocation, NFS)
            self._close()
            directory = os.path.dirname(final_path)
            os.makedirs(directory, exist_ok=True)
            os.rename(self._tmp_path, final_path)
            self._published_path = final_path
            fsync_dir(directory)
        except OSError as exc:
            self._store.raise_if_no_space(exc)
            raise

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def abort(self) -> None:
        """Remove whatever this writer put on disk (after a failure, before any reference)."""
        self._close()
        for path in (self._tmp_path, self._published_path):
            if path is not None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


class BlobStore:
    """A directory of immutable blob files named by random ids."""

    def __init__(self, root: str, disk: DiskGuard | None = None) -> None:
        self.root = root
        self.disk = disk
        self.tmp_dir = os.path.join(root, "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)
        self.generation = 0  # bumped when the directory is replaced (restore, reset)

    def replaced(self) -> None:
        """The directory now holds another store's blobs: deletes scheduled before are void."""
        os.makedirs(self.tmp_dir, exist_ok=True)
        self.generation += 1

    def path(self, blob_id: str) -> str:
        return os.path.join(self.root, blob_id[:2], blob_id)

    def writer(self, checksums: Sequence[str] = ()) -> BlobWriter:
        """A new blob; ``DiskFull`` first if the disk has no room for new data."""
        if self.disk is not None:
            self.disk.require_room()
        return BlobWriter(self, checksums)

    def check_size(self, blob_id: str, size_bytes: int) -> None:
        """DataCorruption unless the blob exists with at least ``size_bytes``: checked
        before a response's headers go out, so a damaged blob is a clean 500."""
        try:
            actual = os.stat(self.path(blob_id)).st_size
        except FileNotFoundError:
            raise DataCorruption(f"blob {blob_id} is missing ({self.path(blob_id)})") from None
        if actual < size_bytes:
            raise DataCorruption(
                f"blob {blob_id} is {actual} bytes, its record needs {size_bytes} "
                f"({self.path(blob_id)})"
            )

    def raise_if_no_space(self, exc: OSError) -> None:
        """A blob write's ENOSPC is ``DiskFull`` (503), and the disk is full from now."""
        if DiskFull.is_cause(exc):
            if self.disk is not None:
                self.disk.note_no_space(engine=False)
            raise DiskFull() from exc

    def open(self, blob_id: str) -> int:
        """An OS file descriptor for reading; the caller closes it."""
        return os.open(self.path(blob_id), os.O_RDONLY)

    def delete(self, blob_ids: Iterable[str], generation: int | None = None) -> None:
        """Remove blobs whose references were committed away (in ``generation``: a delete
        scheduled before a restore must not remove the restored store's blob of that id)."""
        if generation is not None and generation != self.generation:
            return
        for blob_id in blob_ids:
            try:
                os.unlink(self.path(blob_id))
            except FileNotFoundError:
                pass

    def collect_garbage(
        self, referenced: Callable[[str], Container[str]], fraction_max: float = 1.0
    ) -> int:
        """At start-up: remove partial writes and blobs no record references; each removal
        is logged. Returns how many files went.

        ``referenced(prefix)`` gives the referenced blob ids beginning with ``prefix`` (a
        shard's name): one ordered scan of the references per shard, not one lookup per
        blob, so 100,000 blobs cost about a tenth of a second of the restart.

        When more than ``fraction_max`` of all blobs (and more than ``GC_ALWAYS_ALLOWED``)
        are unreferenced, the records are more likely lost than the blobs orphaned: none
        is removed and the count is logged at ERROR."""
        removed = 0
        for name in os.listdir(self.tmp_dir):
            os.unlink(os.path.join(self.tmp_dir, name))
            log.info("start-up GC: removed partial blob write tmp/%s", name)
            removed += 1
        total = 0
        unreferenced: list[str] = []
        for shard in os.listdir(self.root):
            shard_dir = os.path.join(self.root, shard)
            if shard == "tmp" or not os.path.isdir(shard_dir):
                continue
            blob_ids = os.listdir(shard_dir)
            if not blob_ids:
                continue
            total += len(blob_ids)
            keep = referenced(shard)
            unreferenced += [blob_id for blob_id in blob_ids if blob_id not in keep]
        allowed = max(GC_ALWAYS_ALLOWED, int(fraction_max * total))
        if len(unreferenced) > allowed:
            log.error(
                "start-up GC: %d of %d blob files in %s are unreferenced, more than "
                "startup_gc_fraction_max = %g allows: none removed. If the database lost "
                "records, these files still hold their bytes; once that is settled, "
                "startup_gc_fraction_max = 1 removes them at the next start",
                len(unreferenced),
                total,
                self.root,
                fraction_max,
            )
            return removed
        for blob_id in unreferenced:
            os.unlink(self.path(blob_id))
            log.info("start-up GC: removed unreferenced blob %s", blob_id)
            removed += 1
        return removed
