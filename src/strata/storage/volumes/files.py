"""Extent files of one volume: reserved ranges in a shared append-only file, grouped syncs.

A writer that knows its size reserves ``[offset, offset + size)`` at the end of the
volume's active file and ``pwrite``s its chunks there as they arrive, so concurrent
PUTs fill one file side by side and one ``fdatasync`` makes all of them durable: no
file create, directory fsync or rename per PUT. A writer of unknown size gets a file of
its own. A file takes reservations until ``FILE_BYTES_TARGET``, then the next one is
created; files of an earlier run of the server are never appended to (their tails may
hold what a crash left half-written), only read, compacted and removed.

Durable order (``SyncGroup``):
  1. a writer's ``pwrite``s complete (in a worker thread);
  2. it waits for a sync round that *starts* after that: the round fdatasyncs every file
     with a waiter, then fsyncs the directory if one of them is new (its name must
     survive a crash as much as its bytes);
  3. only then may the record referencing the extent commit. Bytes written but never
     referenced (a crash between 2 and 3, an aborted write) are garbage that compaction
     reclaims; nothing ever rewrites bytes a record references.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import uuid
from typing import Final

from strata.errors import DiskFull
from strata.storage.blobs import fsync_dir
from strata.storage.disk import DiskGuard

log = logging.getLogger("strata.volumes")

FILE_BYTES_TARGET: Final = 256 * 1024 * 1024  # a file takes reservations until this big
SUFFIX: Final = ".extents"


_FALLOC_FL_KEEP_SIZE: Final = 0x01
_FALLOC_FL_PUNCH_HOLE: Final = 0x02
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def punch_hole(fd: int, offset: int, length: int) -> bool:
    """Give the blocks of [offset, offset + length) back to the filesystem (an aborted
    write's range: nothing references it). False where the filesystem cannot."""
    if length <= 0:
        return True
    result = _libc.fallocate(
        fd,
        _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE,
        ctypes.c_long(offset),
        ctypes.c_long(length),
    )
    return bool(result == 0)


def extent_files_present(root: str) -> bool:
    """Whether ``root`` (a data directory's ``volumes/``) holds any extent file."""
    if not os.path.isdir(root):
        return False
    for name in os.listdir(root):
        directory = os.path.join(root, name)
        if os.path.isdir(directory) and any(f.endswith(SUFFIX) for f in os.listdir(directory)):
            return True
    return False


class ExtentFile:
    """One open extent file: where the next reservation starts, who still writes to it."""

    __slots__ = ("broken", "end", "fd", "name", "new", "path", "sealed", "writers")

    def __init__(self, directory: str) -> None:
        self.name = uuid.uuid4().hex + SUFFIX
        self.path = os.path.join(directory, self.name)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        self.end = 0
        self.writers = 0
        self.new = True  # its directory entry is not yet synced
        self.sealed = False  # takes no more reservations; closed once its writers are done
        self.broken = False  # a sync failed: its page cache can no longer be trusted


class ExtentFiles:
    """The extent files of one volume directory."""

    def __init__(self, directory: str, disk: DiskGuard | None = None) -> None:
        self.directory = directory
        self.disk = disk
        os.makedirs(directory, exist_ok=True)
        self._active: ExtentFile | None = None
        self.sync = SyncGroup(directory)

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def names(self) -> list[str]:
        """Every extent file on disk."""
        return [name for name in os.listdir(self.directory) if name.endswith(SUFFIX)]

    def in_use(self) -> set[str]:
        """Files this run writes to: never compacted or removed while open."""
        return {self._active.name} if self._active is not None else set()

    def reserve(self, size_bytes: int) -> tuple[ExtentFile, int]:
        """A range of ``size_bytes`` at the end of the active file, for one writer."""
        active = self._active
        if active is None or active.end >= FILE_BYTES_TARGET or active.broken:
            if active is not None:
                self._seal(active)
            active = self._active = self._create()
        offset = active.end
        active.end += size_bytes
        active.writers += 1
        return active, offset

    def private(self) -> ExtentFile:
        """A file for one writer of unknown size (sealed: no one else writes to it)."""
        file = self._create()
        file.sealed = True
        file.writers = 1
        return file

    def done(self, file: ExtentFile) -> None:
        """A writer of ``file`` finished (durable or aborted)."""
        file.writers -= 1
        if file.sealed and file.writers == 0 and file.fd >= 0:
            os.close(file.fd)
            file.fd = -1

    def close(self) -> None:
        """The server stops, or the directory was replaced (restore): new files from now."""
        if self._active is not None:
            self._seal(self._active)
            self._active = None

    def remove(self, name: str) -> None:
        try:
            os.unlink(self.path(name))
        except FileNotFoundError:
            pass

    def _seal(self, file: ExtentFile) -> None:
        file.sealed = True
        if file.writers == 0 and file.fd >= 0:
            os.close(file.fd)
            file.fd = -1

    def _create(self) -> ExtentFile:
        try:
            return ExtentFile(self.directory)
        except OSError as exc:
            raise_if_no_space(exc, self.disk)
            raise


def raise_if_no_space(exc: OSError, disk: DiskGuard | None) -> None:
    """An extent write's ENOSPC is ``DiskFull`` (503), and the disk is full from now."""
    if DiskFull.is_cause(exc):
        if disk is not None:
            disk.note_no_space(engine=False)
        raise DiskFull() from exc


class SyncGroup:
    """Writers wait here for their bytes to be durable; one round syncs for all of them.

    Per writer the loop parks a future; a round runs in a worker thread and fdatasyncs
    each file with a waiter once, however many writers share it. Writers that arrive
    while a round runs wait for the next one (their bytes may postdate its start)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._files: dict[ExtentFile, None] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._running = False
        self.rounds_total = 0  # for metrics and tests
        self.synced_files_total = 0

    async def wait(self, file: ExtentFile) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._files[file] = None
        self._waiters.append(waiter)
        if not self._running:
            self._start(loop)
        await waiter

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._running = True
        files, waiters = list(self._files), self._waiters
        self._files, self._waiters = {}, []
        round_ = loop.run_in_executor(None, self._sync, files)
        round_.add_done_callback(lambda done: self._finished(loop, done, waiters))

    def _finished(
        self,
        loop: asyncio.AbstractEventLoop,
        done: asyncio.Future[None],
        waiters: list[asyncio.Future[None]],
    ) -> None:
        self._running = False
        error = done.exception()
        for waiter in waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        if self._waiters:
            self._start(loop)

    def _sync(self, files: list[ExtentFile]) -> None:
        """One round, in a worker thread. A failed fdatasync breaks its file for good (the
        kernel may have dropped the dirty pages it could not write): it is sealed."""
        self.rounds_total += 1
        new = False
        for file in files:
            try:
                os.fdatasync(file.fd)
            except OSError:
                file.broken = True
                raise
            self.synced_files_total += 1
            new = new or file.new
        if new:
            fsync_dir(self.directory)
            for file in files:
                file.new = False
