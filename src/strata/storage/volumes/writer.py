"""Writing one extent: bytes stored and hashed off the event loop while the next arrive.

The loop only gathers chunks; every ``BATCH_BYTES`` it hands the batch to a worker
thread that hashes it (MD5 and the requested checksums: hashlib and zlib release the
GIL on large buffers, as does the CRT's CRC), compresses it if the volume does, and
encrypts it if the object is (``cipher.py``: compression first, then encryption), and
``pwrite``s it. One batch is in the thread while the next is being received, so hashing
overlaps receiving. ``received`` waits for the last batch and gives the digests (the
caller verifies them); ``durable`` waits for a sync round (``files.SyncGroup``) and
returns the ``Extent``; ``abort`` gives up, at any point, leaving only garbage that no
record references.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import hashlib
import os
from collections.abc import Sequence
from typing import Final

from strata.errors import StoreReplaced
from strata.storage.checksums import Hasher, new_hasher
from strata.storage.volumes.cipher import Sealer, extent_cipher, sealed_size
from strata.storage.volumes.codec import FrameEncoder
from strata.storage.volumes.extent import Extent, new_extent_id
from strata.storage.volumes.files import punch_hole, raise_if_no_space
from strata.storage.volumes.volume import Volume

BATCH_BYTES: Final = 256 * 1024
_THREADS: Final = 4
_executor = concurrent.futures.ThreadPoolExecutor(_THREADS, thread_name_prefix="strata-receive")


class ExtentWriter:
    """One extent being written to ``volume``; ``size_hint`` (the declared length) lets it
    reserve a range in the volume's shared file, else it gets a file of its own; with a
    ``data_key`` the extent is sealed with that key's cipher for its id."""

    def __init__(
        self,
        volume: Volume,
        algorithms: Sequence[str],
        size_hint: int | None = None,
        data_key: bytes | None = None,
    ) -> None:
        self.volume = volume
        self.extent_id = new_extent_id()
        self._generation = volume.generation
        self._md5 = hashlib.md5()
        self._hashers: dict[str, Hasher] = {name: new_hasher(name) for name in algorithms}
        level = volume.compression_level
        self._encoder = FrameEncoder(level) if level is not None else None
        self._sealer = Sealer(extent_cipher(data_key, self.extent_id)) if data_key else None
        self._capacity: int | None  # object bytes the reserved range is for
        self._reserved = 0  # file bytes reserved
        if size_hint:
            self._reserved = sealed_size(size_hint) if self._sealer else size_hint
            self._file, self._start = volume.files.reserve(self._reserved)
            self._capacity = size_hint
        else:
            self._file, self._start = volume.files.private(), 0
            self._capacity = None
        self._stored = 0  # bytes written to the file
        self.size_bytes = 0  # object bytes received
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._inflight: asyncio.Future[None] | None = None
        self._released = False

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        data = chunk if isinstance(chunk, bytes) else bytes(chunk)
        if self._capacity is not None and self.size_bytes + len(data) > self._capacity:
            await self._relocate()
        self.size_bytes += len(data)
        self._batch.append(data)
        self._batch_bytes += len(data)
        if self._batch_bytes >= BATCH_BYTES:
            await self._hand_over(final=False)

    async def received(self) -> tuple[bytes, dict[str, bytes]]:
        """Every byte stored (not yet durable): the MD5 and checksums of the object bytes."""
        await self._hand_over(final=True)
        await self._drain()
        return self._md5.digest(), {n: h.digest() for n, h in self._hashers.items()}

    async def durable(self) -> Extent:
        """Fsynced (with whoever else waits): the extent may now be referenced."""
        await self._drain()
        try:
            await self.volume.files.sync.wait(self._file)
        except OSError as exc:
            raise_if_no_space(exc, self.volume.files.disk)
            raise
        if self._generation != self.volume.generation:
            raise StoreReplaced()  # its file went with the replaced store
        self._release()
        frames = self._encoder.frames if self._encoder is not None else []
        return Extent(
            self.volume.name,
            self._file.name,
            self._start,
            self._stored,
            self.size_bytes,
            frames,
            sealed=self._sealer is not None,
        )

    def abort(self) -> None:
        """Give up (callable from any ``except``): a file of its own is removed, a reserved
        range stays garbage until compaction. Waits for nothing: a batch still in its
        thread releases the file when it ends."""
        self._batch = []
        if self._inflight is not None and not self._inflight.done():
            self._inflight.add_done_callback(lambda _: self._discard())
        else:
            self._discard()

    # ---- internals ------------------------------------------------------------------

    def _discard(self) -> None:
        """A file of its own goes; a reserved range's blocks go back (punched out)."""
        if self._capacity is None:
            self._release()
            self.volume.files.remove(self._file.name)
            return
        if not self._released and self._file.fd >= 0:
            punch_hole(self._file.fd, self._start, self._reserved)
        self._release()

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self.volume.files.done(self._file)

    async def _drain(self) -> None:
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            await inflight

    async def _hand_over(self, final: bool) -> None:
        await self._drain()  # one batch in the thread at a time: order and backpressure
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if batch or final:
            loop = asyncio.get_running_loop()
            self._inflight = loop.run_in_executor(_executor, self._absorb, batch, final)

    async def _relocate(self) -> None:
        """More bytes than declared: move what is stored to a file of its own (rare: a
        declared length is what the transport enforces)."""
        await self._hand_over(final=False)
        await self._drain()
        old, old_start = self._file, self._start
        new = self.volume.files.private()
        await asyncio.get_running_loop().run_in_executor(
            _executor, _copy_range, old.fd, old_start, self._stored, new.fd
        )
        self._release()
        self._released = False
        self._file, self._start, self._capacity = new, 0, None

    def _absorb(self, batch: list[bytes], final: bool) -> None:
        """In a worker thread: hash, encode, seal and store one batch."""
        stored: list[bytes] = []
        for data in batch:
            self._md5.update(data)
            for hasher in self._hashers.values():
                hasher.update(data)
            if self._encoder is None:
                stored.append(data)
            else:
                stored += self._encoder.feed(data)
        if final and self._encoder is not None:
            stored += self._encoder.finish()
        if self._sealer is not None:
            sealed = self._sealer.seal_batch(stored, final)
            if sealed:  # one pwrite for the batch's chunks
                self._store(sealed)
            return
        for data in stored:
            self._store(data)

    def _store(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        done, total = 0, view.nbytes
        position = self._start + self._stored
        try:
            while done < total:
                written = os.pwrite(self._file.fd, view[done:], position + done)
                if written <= 0:  # never for a regular file; do not spin if it happens
                    raise OSError(errno.EIO, "write wrote nothing", self._file.path)
                done += written
        except OSError as exc:
            raise_if_no_space(exc, self.volume.files.disk)
            raise
        self._stored += total


def _copy_range(source_fd: int, start: int, length: int, target_fd: int) -> None:
    position = 0
    while position < length:
        data = os.pread(source_fd, min(BATCH_BYTES * 4, length - position), start + position)
        if not data:
            raise OSError(errno.EIO, "extent ended early while relocated")
        os.pwrite(target_fd, data, position)
        position += len(data)
