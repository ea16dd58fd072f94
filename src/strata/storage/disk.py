"""Space on the data directory's filesystem: what the metrics show, and the full-disk guard.

A full disk must not lose or corrupt anything, and must not need an operator to restart
the server once space is back. So:

- ``headroom`` is the free space the server may use: what the filesystem reports, minus
  the reserve when the reserve file is not on disk (its space is promised back to it).
  Below ``free_min_bytes`` of headroom the disk is "full": writes that add data raise
  ``DiskFull`` (503) before they touch a file; reads and deletes go on.
- An ``ENOSPC`` from a blob file or from RocksDB marks the disk full at once; the next
  reading (at most ``CHECK_INTERVAL_S`` later) decides again from the filesystem, so
  writing resumes by itself once space is freed.
- The reserve is a preallocated file of ``reserve_bytes`` in the data directory. It is
  released at every start-up, before RocksDB opens (so on a full disk RocksDB can still
  replay its WAL and the blob GC can run), and when RocksDB itself hits ``ENOSPC``
  (RocksDB's own recovery flushes its memtables, and only starts once a write buffer's
  worth is free). It is created again when the headroom allows, which leaves the
  headroom as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import NamedTuple

from strata.errors import DiskFull

log = logging.getLogger("strata.disk")

RESERVE_FILE = "reserve"
CHECK_INTERVAL_S = 1.0  # a statvfs at most this often on the write path


class DiskSpace(NamedTuple):
    size_bytes: int  # the filesystem's capacity
    used_bytes: int  # used by anyone (not only Strata)
    free_bytes: int  # available to this (unprivileged) process: what writes can still use


def disk_space(path: str) -> DiskSpace:
    """One ``statvfs``: cheap enough for every scrape."""
    stat = os.statvfs(path)
    return DiskSpace(
        size_bytes=stat.f_blocks * stat.f_frsize,
        used_bytes=(stat.f_blocks - stat.f_bfree) * stat.f_frsize,
        free_bytes=stat.f_bavail * stat.f_frsize,
    )


class DiskGuard:
    """The data directory's filesystem, read at most once a second by the write path."""

    def __init__(
        self,
        data_dir: str,
        *,
        reserve_bytes: int,
        free_min_bytes: int,
        free_warn_bytes: int,
    ) -> None:
        self.data_dir = data_dir
        self.reserve_path = os.path.join(data_dir, RESERVE_FILE)
        self.reserve_bytes = reserve_bytes
        self.free_min_bytes = free_min_bytes
        self.free_warn_bytes = free_warn_bytes
        self.full = False
        self.free_bytes = 0
        # RocksDB met ENOSPC and has not written since: the reserve stays released, its
        # room is RocksDB's to recover with.
        self.engine_stalled = False
        self._warned = False
        self._next_check_s = 0.0  # the first write reads the filesystem
        self._task: asyncio.Task[None] | None = None

    # ---- readings -------------------------------------------------------------------

    def _reserve_held(self) -> bool:
        try:
            return os.stat(self.reserve_path).st_size >= self.reserve_bytes
        except FileNotFoundError:
            return False

    def _read_filesystem(self) -> None:
        self.free_bytes = disk_space(self.data_dir).free_bytes

    def headroom_bytes(self) -> int:
        """Free bytes the server may fill (the reserve's share never counts)."""
        owed = 0 if self.reserve_bytes == 0 or self._reserve_held() else self.reserve_bytes
        return self.free_bytes - owed

    def refresh(self) -> None:
        """Read the filesystem; decide "full"; warn; put the reserve back if there is room."""
        self._read_filesystem()
        self._next_check_s = time.monotonic() + CHECK_INTERVAL_S
        headroom = self.headroom_bytes()
        was_full, self.full = self.full, headroom < self.free_min_bytes
        if self.full and not was_full:
            log.error(
                "disk full: %d bytes free for %s (minimum %d); writes are refused until "
                "space is freed",
                headroom,
                self.data_dir,
                self.free_min_bytes,
            )
        elif was_full and not self.full:
            log.warning("disk space is back (%d bytes free): writes resume", headroom)
        if headroom < self.free_warn_bytes:
            if not self._warned:
                log.warning(
                    "low disk space: %d bytes free for %s (warning below %d)",
                    headroom,
                    self.data_dir,
                    self.free_warn_bytes,
                )
            self._warned = True
        else:
            self._warned = False
        if (
            not self.full
            and not self.engine_stalled
            and self.reserve_bytes
            and not self._reserve_held()
        ):
            self._create_reserve()

    # ---- the watch: readings with or without writes (warning, reserve) ------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="strata-disk")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            try:
                self.refresh()
            except OSError:  # the data directory unreadable: say so, keep watching
                log.exception("reading the free space of %s failed", self.data_dir)

    # ---- the write gate ---------------------------------------------------------------

    def refusing(self) -> bool:
        """Whether data may not be added now (cheap: a clock read, a statvfs each second)."""
        if time.monotonic() >= self._next_check_s:
            self.refresh()
        return self.full

    def require_room(self) -> None:
        if self.refusing():
            raise DiskFull()

    def note_no_space(self, *, engine: bool) -> None:
        """A write met ENOSPC: full until the next reading says otherwise.

        When RocksDB met it, it stops writing until it can flush: give it the reserve."""
        self.full = True
        self._next_check_s = time.monotonic() + CHECK_INTERVAL_S
        if engine:
            self.engine_stalled = True
            self.release_reserve()

    # ---- the reserve ------------------------------------------------------------------

    def release_reserve(self) -> None:
        try:
            os.unlink(self.reserve_path)
        except FileNotFoundError:
            return
        log.warning("released the %d-byte disk reserve %s", self.reserve_bytes, self.reserve_path)

    def release_for_start(self) -> None:
        """Before RocksDB opens: give the reserve's room to the WAL replay and the blob GC.

        Always, not only when the disk reads as full: a start needs room whatever the
        minimum is set to. The ``refresh`` after start-up creates it again if it fits."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.reserve_path)

    def _create_reserve(self) -> None:
        tmp = self.reserve_path + ".tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.reserve_path)
        except OSError as exc:
            log.warning("could not create the disk reserve %s: %s", self.reserve_path, exc)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            return
        self._read_filesystem()  # taken from the free space, not from the headroom
