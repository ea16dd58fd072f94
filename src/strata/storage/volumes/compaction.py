"""Space reclamation: paced background compaction of extent files.

An extent file's bytes that no record references (freed extents, writes a crash or an
abort cut short) are reclaimed by rewriting the file's live extents elsewhere, then
removing the file. A pass takes, per volume, each file this run no longer writes to
whose garbage (allocated bytes no live extent holds) is at least ``garbage_fraction_min``
of it (half, by default) and more than ``GARBAGE_BYTES_MIN``, and for
each of its extents, in this durable order:
  1. the stored bytes are copied as they are (still compressed) into a range reserved in
     the volume's active file, and synced (the grouped fdatasync of writers);
  2. with no ``await`` after: if the extent's location record is unchanged (not freed
     or moved meanwhile), one batch re-points it at the copy; else the copy's range is
     punched out;
  3. once the file holds no live extent it is removed after ``grace_s`` (a GET may still
     be reading it); a file that is already dead goes the same way.
A crash before 2 leaves the copy as garbage in a file the next run compacts; after it,
the old bytes are garbage of a file that is dead once its last extent moved. Nothing a
record references is ever rewritten. Reads are paced to ``bytes_per_s``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Final

import msgspec

from strata.storage import records, spaces
from strata.storage.store import Store, WriteBatch
from strata.storage.volumes.extent import Extent, all_extents, location_key, read_extent
from strata.storage.volumes.files import ExtentFile, punch_hole, raise_if_no_space
from strata.storage.volumes.volume import Volume, Volumes

log = logging.getLogger("strata.compaction")

GARBAGE_BYTES_MIN: Final = 256 * 1024  # below this a file is never worth rewriting
_COPY_BYTES: Final = 1024 * 1024


class Compactor:
    """Compaction passes over every volume; ``run`` is the background task's body."""

    def __init__(
        self,
        store: Store,
        volumes: Volumes,
        interval_s: float,
        bytes_per_s: float,
        garbage_fraction_min: float = 0.5,
        grace_s: float = 300.0,
    ) -> None:
        self.store = store
        self.volumes = volumes
        self.interval_s = interval_s
        self.bytes_per_s = bytes_per_s
        self.grace_s = grace_s
        self.garbage_fraction_min = garbage_fraction_min
        self.passes_total = 0
        self.moved_extents_total = 0
        self.moved_bytes_total = 0
        self.removed_files_total = 0
        self._pending_removal: set[tuple[str, str]] = set()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.compact()
            except Exception:  # a disk error or a bug: say so, go on next time
                log.exception("compaction pass failed")

    async def compact(self) -> int:
        """One pass; returns how many files it emptied (removed after the grace)."""
        emptied = 0
        for volume in list(self.volumes.by_name.values()):
            for name in self._candidates(volume):
                if volume.live_bytes.get(name):
                    await self._compact_file(volume, name)
                if not volume.live_bytes.get(name):
                    self._remove_later(volume, name)
                    emptied += 1
        self.passes_total += 1
        return emptied

    def _candidates(self, volume: Volume) -> list[str]:
        in_use = volume.files.in_use()
        chosen = []
        for name, allocated in volume.file_bytes().items():
            if name in in_use or (volume.name, name) in self._pending_removal:
                continue
            live = volume.live_bytes.get(name, 0)
            garbage = allocated - live
            if live == 0 or (
                garbage >= self.garbage_fraction_min * allocated and garbage > GARBAGE_BYTES_MIN
            ):
                chosen.append(name)
        return chosen

    async def _compact_file(self, volume: Volume, name: str) -> None:
        generation = volume.generation
        extents = [
            (extent_id, extent)
            for extent_id, extent in all_extents(self.store)
            if extent.volume == volume.name and extent.file == name
        ]
        log.info(
            "compaction: %s/%s, %d live extents (%d bytes)",
            volume.name,
            name,
            len(extents),
            sum(e.stored_bytes for _, e in extents),
        )
        source = os.open(volume.files.path(name), os.O_RDONLY)
        try:
            for extent_id, extent in extents:
                if generation != volume.generation:
                    return  # the store was replaced (restore): these files are gone
                started = time.monotonic()
                await self._move_extent(volume, source, extent_id, extent)
                budget_s = extent.stored_bytes / self.bytes_per_s
                await asyncio.sleep(max(0.0, budget_s - (time.monotonic() - started)))
        finally:
            os.close(source)

    async def _move_extent(self, volume: Volume, source: int, extent_id: str, old: Extent) -> None:
        target, offset = volume.files.reserve(old.stored_bytes)
        try:
            await asyncio.to_thread(_copy, source, old.offset, old.stored_bytes, target, offset)
            await volume.files.sync.wait(target)
        except OSError as exc:
            _give_back(volume, target, offset, old.stored_bytes)
            raise_if_no_space(exc, volume.files.disk)
            raise
        except BaseException:
            _give_back(volume, target, offset, old.stored_bytes)
            raise
        # From here to the apply: no await, so the location checked is the one replaced.
        if read_extent(self.store, extent_id) != old:
            _give_back(volume, target, offset, old.stored_bytes)  # freed or moved meanwhile
            return
        new = msgspec.structs.replace(old, file=target.name, offset=offset)
        batch = WriteBatch()
        batch.put(spaces.EXTENTS, location_key(extent_id), records.encode(new))
        sequence = self.store.apply(batch)
        volume.freed(old)
        volume.added(new)
        volume.files.done(target)
        self.moved_extents_total += 1
        self.moved_bytes_total += old.stored_bytes
        await self.store.durable(sequence)

    def _remove_later(self, volume: Volume, name: str) -> None:
        key = (volume.name, name)
        self._pending_removal.add(key)
        generation = volume.generation

        def remove() -> None:
            self._pending_removal.discard(key)
            if generation == volume.generation and not volume.live_bytes.get(name):
                volume.files.remove(name)
                self.removed_files_total += 1
                log.info("compaction: removed %s/%s (no live extent)", volume.name, name)

        asyncio.get_running_loop().call_later(self.grace_s, remove)


def _give_back(volume: Volume, target: ExtentFile, offset: int, length: int) -> None:
    if target.fd >= 0:
        punch_hole(target.fd, offset, length)
    volume.files.done(target)


def _copy(source: int, start: int, length: int, target: ExtentFile, offset: int) -> None:
    """In a worker thread: stored bytes as they are, from one extent file to another."""
    position = 0
    while position < length:
        data = os.pread(source, min(_COPY_BYTES, length - position), start + position)
        if not data:
            raise OSError(f"extent file ended early at {start + position} while compacted")
        view = memoryview(data)
        while view:
            written = os.pwrite(target.fd, view, offset + position)
            view = view[written:]
            position += written
