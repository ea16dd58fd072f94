"""The storage core's interface (``Store``) and its local implementation.

Reads and writes happen on the event-loop thread, so a read followed by a write with no
``await`` between them is atomic: that is how conditional writes stay correct. A
committed batch is visible at once (memtable and WAL file) and ``commit`` returns only
after the WAL has been fsynced. Concurrent committers share one fsync: the group commit.
A cluster later implements the same ``Store`` by routing each key's partition.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Protocol

from strata.engine.rocksdb import Op, RangeOp, RocksEngine
from strata.storage import spaces
from strata.storage.clock import Clock, HybridClock


class WriteBatch:
    """Operations committed atomically: a write and all its side effects, together."""

    __slots__ = ("ops", "range_deletes")

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.range_deletes: list[RangeOp] = []

    def put(self, space: str, key: bytes, value: bytes) -> None:
        self.ops.append((space, key, value))

    def delete(self, space: str, key: bytes) -> None:
        self.ops.append((space, key, None))

    def delete_range(self, space: str, start: bytes, end: bytes) -> None:
        """Remove every key in [start, end): one range tombstone, however many keys."""
        assert start < end, "empty or inverted range"
        self.range_deletes.append((space, start, end))

    def __len__(self) -> int:
        return len(self.ops) + len(self.range_deletes)


class Store(Protocol):
    """What services see of storage: typed spaces, ordered keys, atomic durable batches."""

    clock: Clock
    hlc: HybridClock

    def get(self, space: str, key: bytes) -> bytes | None: ...

    def get_many(self, space: str, keys: list[bytes]) -> list[bytes | None]: ...

    def scan(
        self, space: str, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]: ...

    def apply(self, batch: WriteBatch) -> int:
        """Make the batch visible now; return the sequence to pass to ``durable``."""
        ...

    async def durable(self, sequence: int) -> None:
        """Return once every write up to ``sequence`` is fsynced."""
        ...

    async def commit(self, batch: WriteBatch) -> None:
        """``apply`` then ``durable``: visible at once, acknowledged only when on disk."""
        ...

    def commit_blocking(self, batch: WriteBatch) -> None:
        """Apply and fsync from a thread with no event loop (CLI, start-up)."""
        ...


class GroupCommit:
    """One thread fsyncs the WAL for everyone who is waiting, as often as the disk allows."""

    def __init__(self, engine: RocksEngine) -> None:
        self._engine = engine
        self._written = 0
        self._synced = 0
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self.syncs = 0  # fsyncs done: with many writers, far fewer than writes
        self._thread = threading.Thread(target=self._run, name="strata-group-commit", daemon=True)
        self._thread.start()

    def note_write(self) -> int:
        """Called after each engine write, on the writer's thread; returns its sequence."""
        with self._cond:
            self._written += 1
            return self._written

    async def wait(self, sequence: int) -> None:
        if self._synced >= sequence:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._synced >= sequence:
                return
            self._waiters.append((sequence, loop, future))
            self._cond.notify()
        await future

    def sync_now(self) -> None:
        with self._cond:
            target = self._written
        self._engine.sync_wal()
        with self._cond:
            self._synced = max(self._synced, target)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiters and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._waiters:
                    return
                target = self._written
            error: BaseException | None = None
            try:
                self._engine.sync_wal()
                self.syncs += 1
            except BaseException as exc:  # the waiters must hear of it, not hang
                error = exc
            with self._cond:
                if error is None:
                    self._synced = max(self._synced, target)
                done = [w for w in self._waiters if error is not None or w[0] <= target]
                self._waiters = [w for w in self._waiters if w not in done]
            for _, loop, future in done:
                loop.call_soon_threadsafe(_settle, future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class LocalStore:
    """``Store`` on one RocksDB database in this process."""

    def __init__(self, path: str, clock: Clock) -> None:
        self.engine = RocksEngine(path, spaces.ALL)
        self.clock = clock
        self.hlc = HybridClock(clock)
        self._group = GroupCommit(self.engine)
        self.closed = False

    @property
    def fsyncs(self) -> int:
        return self._group.syncs

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._group.sync_now()
        self._group.stop()
        self.engine.close()

    def get(self, space: str, key: bytes) -> bytes | None:
        return self.engine.get(space, key)

    def get_many(self, space: str, keys: list[bytes]) -> list[bytes | None]:
        return self.engine.get_many(space, keys)

    def scan(
        self, space: str, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return self.engine.scan(space, start, end, reverse=reverse)

    def apply(self, batch: WriteBatch) -> int:
        self.engine.write(batch.ops, batch.range_deletes)
        return self._group.note_write()

    async def durable(self, sequence: int) -> None:
        await self._group.wait(sequence)

    async def commit(self, batch: WriteBatch) -> None:
        await self._group.wait(self.apply(batch))

    def commit_blocking(self, batch: WriteBatch) -> None:
        self.apply(batch)
        self._group.sync_now()
