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
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Final, Protocol

import msgspec

from strata.engine.rocksdb import Op, RangeOp, RocksEngine, WalRecovery
from strata.errors import DiskFull, StoreReplaced
from strata.storage import keys, records, spaces
from strata.storage.clock import Clock, HybridClock
from strata.storage.disk import DiskGuard

# The store generation a request began under, set by the ASGI app per request (None
# outside requests). A request still running when the store is replaced (snapshot
# restore, reset) must not write into a store it never read: ``apply`` refuses it.
request_generation: ContextVar[int | None] = ContextVar("strata_request_generation", default=None)


_STAMP_FLOOR_KEY: Final = keys.pack("hlc-stamp-floor")
_STAMP_FLOOR_LEAD: Final = 1000 << 16  # one second of HLC stamps


class Counters(msgspec.Struct, frozen=True):
    """A stored set of named integers that batches add to (``WriteBatch.add``)."""

    values: dict[str, int]


class WriteBatch:
    """Operations committed atomically: a write and all its side effects, together."""

    __slots__ = ("counters", "ops", "range_deletes")

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.range_deletes: list[RangeOp] = []
        self.counters: dict[tuple[str, bytes], dict[str, int]] | None = None

    def add(self, space: str, key: bytes, deltas: dict[str, int]) -> None:
        """Add ``deltas`` to the ``Counters`` at ``key`` when the batch is applied.

        The read-modify-write happens inside ``apply``, on the loop thread, so batches
        that add to the same counters never lose each other's updates; counters that
        reach zero are dropped, and an empty record is deleted."""
        if self.counters is None:
            self.counters = {}
        current = self.counters.setdefault((space, key), {})
        for name, delta in deltas.items():
            current[name] = current.get(name, 0) + delta

    def put(self, space: str, key: bytes, value: bytes) -> None:
        self.ops.append((space, key, value))

    def delete(self, space: str, key: bytes) -> None:
        self.ops.append((space, key, None))

    def delete_range(self, space: str, start: bytes, end: bytes) -> None:
        """Remove every key in [start, end): one range tombstone, however many keys."""
        assert start < end, "empty or inverted range"
        self.range_deletes.append((space, start, end))

    def __len__(self) -> int:
        return len(self.ops) + len(self.range_deletes) + len(self.counters or ())


def read_counters(raw: bytes | None) -> dict[str, int]:
    return {} if raw is None else dict(records.decode(raw, Counters).values)


def _counter_ops(
    engine: RocksEngine, counters: dict[tuple[str, bytes], dict[str, int]]
) -> list[Op]:
    ops: list[Op] = []
    for (space, key), deltas in counters.items():
        values = read_counters(engine.get(space, key))
        for name, delta in deltas.items():
            values[name] = values.get(name, 0) + delta
        kept = {name: value for name, value in values.items() if value}
        ops.append((space, key, records.encode(Counters(kept)) if kept else None))
    return ops


class Store(Protocol):
    """What services see of storage: typed spaces, ordered keys, atomic durable batches."""

    clock: Clock
    hlc: HybridClock

    def get(self, space: str, key: bytes) -> bytes | None: ...

    def get_many(self, space: str, keys: list[bytes]) -> list[bytes | None]: ...

    def scan(
        self, space: str, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]: ...

    def check_records(self, space: str, start: bytes, records_max: int) -> bytes | None:
        """Verify up to ``records_max`` stored records from ``start`` (the scrub); returns
        where to go on, None at the end; ``DataCorruption`` on damage."""
        ...

    def apply(self, batch: WriteBatch) -> int:
        """Make the batch visible now; return the sequence to pass to ``durable``.

        If it raises, nothing of the batch was applied (``DiskFull`` on a full disk)."""
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
    """One thread fsyncs the WAL for everyone who is waiting, as often as the disk allows.

    Per write the event loop only bumps a counter and, when it must wait, parks a future;
    the sync thread is woken through an ``Event`` (set only when it is not set already)
    and, after each fsync, hands the whole group back to the loop with one
    ``call_soon_threadsafe`` — one cross-thread wake-up per fsync, not per write.
    """

    def __init__(self, engine: RocksEngine) -> None:
        self._engine = engine
        self._written = 0  # bumped on the loop thread after each engine write
        self._synced = 0  # every write up to here is fsynced
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self.syncs = 0  # fsyncs done: with many writers, far fewer than writes
        self._thread = threading.Thread(target=self._run, name="strata-group-commit", daemon=True)
        self._thread.start()

    def note_write(self) -> int:
        """Called right after each engine write; returns its sequence.

        No lock: the sync thread reads the counter before it fsyncs, so any sequence it
        sees belongs to a write already in the WAL file.
        """
        self._written += 1
        return self._written

    async def wait(self, sequence: int) -> None:
        if self._synced >= sequence:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._waiters_lock:
            self._waiters.append((sequence, future))
        if not self._wake.is_set():
            self._wake.set()
        await future

    def sync_now(self) -> None:
        target = self._written
        self._engine.sync_wal()
        self._synced = max(self._synced, target)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            if not self._stopping:
                self._wake.wait()
            self._wake.clear()
            with self._waiters_lock:
                loops = {future.get_loop() for _, future in self._waiters}
            if self._stopping and not loops:
                return
            target = self._written
            error: BaseException | None = None
            try:
                self._engine.sync_wal()
                self.syncs += 1
                self._synced = max(self._synced, target)
            except BaseException as exc:  # the waiters must hear of it, not hang
                error = exc
            for loop in loops:
                try:
                    loop.call_soon_threadsafe(self._release, loop, target, error)
                except RuntimeError:  # that loop is closed: nobody is left to tell
                    pass
            if self._stopping:
                return  # the last sync is done; close() synced once more before stopping

    def _release(
        self, loop: asyncio.AbstractEventLoop, target: int, error: BaseException | None
    ) -> None:
        """On ``loop``: settle its waiters covered by the fsync up to ``target``."""
        settled: list[asyncio.Future[None]] = []
        with self._waiters_lock:
            remaining = []
            for sequence, future in self._waiters:
                if future.get_loop() is loop and (error is not None or sequence <= target):
                    settled.append(future)
                else:
                    remaining.append((sequence, future))
            self._waiters = remaining
            more = bool(remaining)
        if more and not self._wake.is_set():
            self._wake.set()  # written after that fsync started: they need the next one
        for future in settled:
            if not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)


class LocalStore:
    """``Store`` on one RocksDB database in this process."""

    def __init__(
        self,
        path: str,
        clock: Clock,
        wal_recovery: WalRecovery = "strict",
        disk: DiskGuard | None = None,
    ) -> None:
        self.path = path
        self.wal_recovery: WalRecovery = wal_recovery
        self.engine = RocksEngine(path, spaces.ALL, wal_recovery=wal_recovery)
        self.disk = disk
        self.clock = clock
        self.hlc = HybridClock(clock)
        self._stamp_floor = self._restore_stamps()
        self._group = GroupCommit(self.engine)
        self.closed = False
        self.generation = 0  # bumped each time ``replace`` swaps the database

    def replace(self, swap: Callable[[], None]) -> None:
        """Close the database, let ``swap`` exchange its directory, open it again.

        One synchronous step on the event loop: no request runs in between, so none sees
        a half-replaced store. Writers still waiting for an fsync of the old database are
        released by its last sync (their writes go with it)."""
        self._group.stop()
        self.engine.close(flush=False)
        try:
            swap()
        finally:  # swapped or not, the store is open again
            self.engine = RocksEngine(self.path, spaces.ALL, wal_recovery=self.wal_recovery)
            self._stamp_floor = self._restore_stamps()
            self._group = GroupCommit(self.engine)
            self.generation += 1

    def _restore_stamps(self) -> int:
        """Stamps only grow, across restarts too: start above the floor the last run
        wrote (see ``apply``), even when the wall clock now reads earlier (an NTP step
        back while stopped). Without it, a PUT after such a restart would sort as an
        older version than the one before, and stream records out of order."""
        raw = self.engine.get(spaces.META, _STAMP_FLOOR_KEY)
        floor = int.from_bytes(raw, "big") if raw is not None and len(raw) == 8 else 0
        self.hlc.observe(floor)
        return floor

    def checkpoint(self, path: str) -> None:
        """A consistent copy of everything applied so far, in ``path`` (hard links)."""
        self.engine.checkpoint(path)

    @property
    def fsyncs(self) -> int:
        return self._group.syncs

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._group.sync_now()
        except DiskFull:
            pass  # not one write since the last fsync was acknowledged: nothing to lose
        finally:
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

    def check_records(self, space: str, start: bytes, records_max: int) -> bytes | None:
        return self.engine.check_records(space, start, records_max)

    def apply(self, batch: WriteBatch) -> int:
        started = request_generation.get()
        if started is not None and started != self.generation:
            raise StoreReplaced()
        disk = self.disk
        if disk is not None and disk.refusing() and _adds_data(batch):
            raise DiskFull()  # deletes still go through: they are how space comes back
        ops = batch.ops
        if batch.counters:  # read-modify-write, with no await before the write
            ops = ops + _counter_ops(self.engine, batch.counters)
        if self.hlc.last >= self._stamp_floor:
            # Every stamp in this batch is at most hlc.last: a floor above it, written
            # in the same atomic batch, bounds every stamp ever stored (one extra put a
            # second of stamps, at most).
            self._stamp_floor = self.hlc.last + _STAMP_FLOOR_LEAD
            ops = [*ops, (spaces.META, _STAMP_FLOOR_KEY, self._stamp_floor.to_bytes(8, "big"))]
        try:
            self.engine.write(ops, batch.range_deletes)
        except DiskFull:
            if disk is not None:
                disk.note_no_space(engine=True)
            raise
        if disk is not None and disk.engine_stalled:
            disk.engine_stalled = False  # RocksDB resumed: the reserve may come back
        return self._group.note_write()

    async def durable(self, sequence: int) -> None:
        try:
            await self._group.wait(sequence)
        except DiskFull:
            if self.disk is not None:
                self.disk.note_no_space(engine=True)
            raise

    async def commit(self, batch: WriteBatch) -> None:
        await self._group.wait(self.apply(batch))

    def commit_blocking(self, batch: WriteBatch) -> None:
        self.apply(batch)
        self._group.sync_now()


def _adds_data(batch: WriteBatch) -> bool:
    return any(value is not None for _, _, value in batch.ops)
