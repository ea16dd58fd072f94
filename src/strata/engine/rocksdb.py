"""RocksDB through rocksdict: the one module that imports it.

One database per data directory, one column family per record kind ("space"). Writes
go to the memtable and the WAL file without an fsync; ``sync_wal`` makes everything
written so far durable. The storage core's group commit builds on exactly that pair.

Damage is an error, never an absence: reads verify block checksums, an iterator that
stops early because of an error raises (a listing is never silently short), and a WAL
that lost acknowledged writes stops start-up (see ``WalDamaged`` and the WAL mark).
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Final, Literal

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    Cache,
    Checkpoint,
    DBCompressionType,
    DBRecoveryMode,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
    WriteBufferManager,
    WriteOptions,
)

from strata.errors import DataCorruption, DiskFull, StorageFault

log = logging.getLogger("strata.engine")

# An operation in a batch: (space, key, value); value None deletes the key.
Op = tuple[str, bytes, bytes | None]
# A range deletion: (space, start, end) removes every key in [start, end) with one tombstone.
RangeOp = tuple[str, bytes, bytes]


# Memory: one budget for the whole database. The block cache holds data, index and filter
# blocks, and the memtables of every space are charged to the same cache through one write
# buffer manager, so RocksDB stays near its budget however many spaces are written.
# Measured (benchmarks/scale.py): resident memory is about 1.6x the cache's own account
# (allocator rounding and per-block overhead), so 64 MiB here is ~100 MB of RSS at most.
# Data blocks evicted from the cache are still in the OS page cache: a miss costs a copy
# and an LZ4 decompression, not a disk read.
MEMORY_BYTES = 64 * 1024 * 1024
MEMTABLES_BYTES = 32 * 1024 * 1024  # of which memtables, over every space together
WRITE_BUFFER_BYTES = 16 * 1024 * 1024  # one space's memtable, before it is switched
# The WAL is replayed at open. Past this total, the spaces that keep the oldest WAL file
# alive are flushed, so a crash never leaves more than this to replay (restart time).
WAL_BYTES_MAX = 64 * 1024 * 1024

# WAL recovery. RocksDB replays the WAL up to its first damaged record ("point in time"):
# a torn tail left by kill -9 mid-write is dropped, as it must be (it was never
# acknowledged), but so is everything after a truncation or a flipped byte, silently.
# To tell the two apart, every group-commit fsync records the last sequence number it
# covered in WAL_MARK (one pwrite, no fsync: it survives a process crash; after a power
# loss it can only be older than the WAL, never newer). At open, a WAL that recovers to
# a sequence below the mark has lost acknowledged writes:
#   "strict"          refuse to start (WalDamaged), before anything on disk is changed;
#   "point-in-time"   start anyway with what precedes the damage, log the loss at ERROR;
#   "skip-corrupted"  start anyway, replaying every intact record past the damage too
#                     (salvages more, but later writes may survive without earlier ones).
WalRecovery = Literal["strict", "point-in-time", "skip-corrupted"]
WAL_RECOVERY_MODES: Final = ("strict", "point-in-time", "skip-corrupted")
WAL_MARK = "STRATA-WAL-MARK"


class WalDamaged(Exception):
    """The WAL lost writes that were acknowledged; start-up refuses to hide it."""


def _recovery_mode(wal_recovery: WalRecovery) -> DBRecoveryMode:
    if wal_recovery == "skip-corrupted":
        return DBRecoveryMode.skip_any_corrupted_record()
    return DBRecoveryMode.point_in_time()


def _read_failed(space: str, exc: Exception) -> StorageFault:
    """A RocksDB error on a read, as the error the client sees; logged with its file."""
    message = str(exc)
    log.error("RocksDB read failed in space %s: %s", space, message)
    if message.startswith("Corruption"):
        return DataCorruption(f"space {space}: {message}")
    return StorageFault(f"space {space}: {message}")


def _read_mark(path: str) -> int | None:
    try:
        with open(os.path.join(path, WAL_MARK), "rb") as mark:
            raw = mark.read(8)
    except FileNotFoundError:
        return None
    return int.from_bytes(raw, "big") if len(raw) == 8 else None


def wal_bytes(path: str) -> int:
    """Bytes in the database's WAL files: what the next open replays."""
    return sum(os.path.getsize(name) for name in glob.glob(os.path.join(path, "*.log")))


def _options(block_cache: Cache, memtables: WriteBufferManager) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES)
    opts.set_write_buffer_manager(memtables)
    opts.set_max_background_jobs(2)
    opts.set_compression_type(DBCompressionType.lz4())
    # Check what RocksDB reads of its own files (MANIFEST, SST footers, WAL records) and
    # stop on damage rather than carry on with less.
    opts.set_paranoid_checks(True)
    # Overwrites and deletes leave tombstones that every scan must step over: compact an
    # SST file early once half of any 1024 consecutive entries are deletions.
    opts.add_compact_on_deletion_collector_factory(1024, 512, 0.5)
    table = BlockBasedOptions()
    table.set_block_cache(block_cache)
    table.set_bloom_filter(10, False)
    table.set_cache_index_and_filter_blocks(True)
    opts.set_block_based_table_factory(table)
    return opts


def _is_no_space(exc: Exception) -> bool:
    """RocksDB's ENOSPC: rocksdict raises a bare Exception with RocksDB's status text."""
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def _scan(
    family: Rdict, space: str, start: bytes, end: bytes | None, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    opts = ReadOptions()
    opts.set_verify_checksums(True)
    if end is not None:
        opts.set_iterate_upper_bound(end)
    # rocksdict's lower-bound setter does not honour raw mode: bound by hand instead.
    it = family.iter(opts)
    if reverse:
        it.seek_to_last()
        while it.valid():
            key = it.key()
            if key < start:
                return
            yield key, it.value()
            it.prev()
    else:
        it.seek(start)
        while it.valid():
            yield it.key(), it.value()
            it.next()
    # An iterator also stops being valid on an error (a bad block): only its status
    # tells that apart from the end of the range.
    try:
        it.status()
    except Exception as exc:
        raise _read_failed(space, exc) from exc


READER_MEMORY_BYTES: Final = 8 * 1024 * 1024


class RocksReader:
    """A checkpoint (``RocksEngine.checkpoint``) opened read-only, with a small cache of
    its own: scans of a frozen database, for as long as it is open."""

    def __init__(self, path: str, memory_bytes: int = READER_MEMORY_BYTES) -> None:
        cache = Cache(memory_bytes)
        memtables = WriteBufferManager.new_write_buffer_manager_with_cache(
            memory_bytes // 4, False, cache
        )
        names = [n for n in Rdict.list_cf(path, Options(raw_mode=True)) if n != "default"]
        families = {name: _options(cache, memtables) for name in names}
        self._db = Rdict(
            path,
            _options(cache, memtables),
            column_families=families,
            access_type=AccessType.read_only(),
        )
        self._cfs = {name: self._db.get_column_family(name) for name in names}

    def scan(
        self, space: str, start: bytes, end: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, end), ascending (none if the checkpoint has no such space)."""
        family = self._cfs.get(space)
        if family is None:
            return iter(())
        return _scan(family, space, start, end, False)

    def close(self) -> None:
        self._cfs.clear()
        self._db.close()


class RocksEngine:
    """A RocksDB database with named column families, raw bytes in and out."""

    def __init__(
        self,
        path: str,
        spaces: Sequence[str],
        memory_bytes: int = MEMORY_BYTES,
        memtables_bytes: int = MEMTABLES_BYTES,
        wal_recovery: WalRecovery = "strict",
    ) -> None:
        assert memtables_bytes < memory_bytes, "memtables are charged to the block cache"
        os.makedirs(path, exist_ok=True)
        self.path = path
        cache = Cache(memory_bytes)
        memtables = WriteBufferManager.new_write_buffer_manager_with_cache(
            memtables_bytes, False, cache
        )
        db_opts = _options(cache, memtables)
        db_opts.set_max_total_wal_size(WAL_BYTES_MAX)
        db_opts.set_wal_recovery_mode(_recovery_mode(wal_recovery))
        existing: list[str] = []
        if os.path.exists(os.path.join(path, "CURRENT")):
            existing = Rdict.list_cf(path, Options(raw_mode=True))
        names = sorted(set(spaces) | set(existing) - {"default"})
        families = {name: _options(cache, memtables) for name in names}
        mark = _read_mark(path)
        probed = False
        if mark is not None and wal_bytes(path) > 0:
            probed = True
            # Replay read-only, to the first damage, before anything on disk changes:
            # refusing must leave the damaged WAL as it was, for whoever salvages it.
            probe_opts = _options(cache, memtables)
            probe = Rdict(
                path, probe_opts, column_families=families, access_type=AccessType.read_only()
            )
            recovered = probe.latest_sequence_number()
            probe.close()
            self._check_recovered(mark, recovered, wal_recovery)
        self._db = Rdict(
            path, db_opts, column_families=families, access_type=AccessType.read_write()
        )
        if mark is not None and not probed:  # no WAL at all: the check cannot change a thing
            try:
                self._check_recovered(mark, self._db.latest_sequence_number(), wal_recovery)
            except WalDamaged:
                self._db.close()
                raise
        self._cfs = {name: self._db.get_column_family(name) for name in names}
        self._handles = {name: self._db.get_column_family_handle(name) for name in names}
        verify = ReadOptions()
        verify.set_verify_checksums(True)  # RocksDB's default, made explicit: reads check
        for family in self._cfs.values():
            family.set_read_options(verify)
        self._nosync = WriteOptions()
        self._nosync.sync = False
        self._mark_fd = self._open_mark()
        self._out_of_space = False  # the last write error was ENOSPC

    def _raise_if_no_space(self, exc: Exception) -> None:
        """ENOSPC is ``DiskFull``, and so is every write error until a write succeeds.

        The write that failed was not applied. RocksDB then refuses writes (its WAL file
        writer answers "Writer has previous error") and resumes by itself, on a new WAL,
        once its SstFileManager (polling every few seconds) sees a write buffer's worth
        of free space: it flushes the memtables first."""
        if _is_no_space(exc):
            self._out_of_space = True
        if self._out_of_space:
            raise DiskFull() from exc

    def _check_recovered(self, mark: int, recovered: int, wal_recovery: WalRecovery) -> None:
        if recovered >= mark:
            return
        lost = mark - recovered
        where = f"{self.path}: the WAL replays to sequence {recovered}, but writes up to {mark}"
        if wal_recovery == "strict":
            raise WalDamaged(
                f"{where} were acknowledged: the WAL is damaged and {lost} acknowledged "
                "operations would be lost. Nothing was changed. Keep a copy of the data "
                'directory, then start with --recover-wal (wal_recovery = "point-in-time") '
                'to accept the loss, or wal_recovery = "skip-corrupted" to also replay '
                "intact records past the damage."
            )
        log.error(
            "%s were acknowledged: %d acknowledged operations (sequences %d-%d) are past "
            "the damage and dropped (wal_recovery = %s; skip-corrupted replays those intact)",
            where,
            lost,
            recovered + 1,
            mark,
            wal_recovery,
        )

    def _open_mark(self) -> int:
        """The WAL mark file, holding the sequence the last fsync covered (see WAL_MARK)."""
        mark_path = os.path.join(self.path, WAL_MARK)
        fd = os.open(mark_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._marked = self._db.latest_sequence_number()
        os.pwrite(fd, self._marked.to_bytes(8, "big"), 0)
        os.fsync(fd)
        return fd

    def close(self, *, flush: bool = True) -> None:
        """Flush every memtable, then close: the next open has no WAL to replay.

        Durability does not depend on it (the WAL already holds every write); it only
        makes a clean restart fast. ``flush=False`` for a database about to be discarded.
        On a full disk the flushes fail: close anyway, the next open replays the WAL
        (start-up first releases the disk reserve for that)."""
        if flush:
            try:
                for family in self._cfs.values():
                    family.flush(True)
            except Exception as exc:
                if not (_is_no_space(exc) or self._out_of_space):
                    raise
        self._cfs.clear()
        self._handles.clear()
        os.pwrite(self._mark_fd, self._db.latest_sequence_number().to_bytes(8, "big"), 0)
        os.close(self._mark_fd)
        try:
            self._db.close()  # flushes again what is left
        except Exception as exc:
            if not (_is_no_space(exc) or self._out_of_space):
                raise

    def get(self, space: str, key: bytes) -> bytes | None:
        try:
            value: bytes | None = self._cfs[space].get(key)
        except Exception as exc:
            if type(exc) is not Exception:  # rocksdict raises plain Exception: ours is a bug
                raise
            raise _read_failed(space, exc) from exc
        return value

    def get_many(self, space: str, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            values: list[bytes | None] = self._cfs[space].get(keys)  # type: ignore[arg-type,assignment]
        except Exception as exc:
            if type(exc) is not Exception:
                raise
            raise _read_failed(space, exc) from exc
        return values

    def write(self, ops: Iterable[Op], range_deletes: Iterable[RangeOp] = ()) -> None:
        """Apply ops atomically: visible at once, in the WAL file, not yet fsynced."""
        batch = WriteBatch(raw_mode=True)
        for space, key, value in ops:
            if value is None:
                batch.delete(key, self._handles[space])
            else:
                batch.put(key, value, self._handles[space])
        for space, start, end in range_deletes:
            batch.delete_range(start, end, self._handles[space])
        try:
            self._db.write(batch, self._nosync)
        except Exception as exc:
            self._raise_if_no_space(exc)
            raise
        self._out_of_space = False

    def checkpoint(self, path: str) -> None:
        """A consistent copy of the database in ``path`` (which must not exist): SST files
        hard-linked, the small rest (MANIFEST, WAL tail) copied. Every write applied so
        far is in it."""
        Checkpoint(self._db).create_checkpoint(path)

    def sync_wal(self) -> None:
        """Make every write so far durable (fsync of the WAL), then record how far in the
        WAL mark. Releases the GIL during the fsync."""
        covered = self._db.latest_sequence_number()  # every write published so far
        try:
            self._db.flush_wal(True)
        except Exception as exc:
            self._raise_if_no_space(exc)
            raise
        if covered > self._marked:
            os.pwrite(self._mark_fd, covered.to_bytes(8, "big"), 0)
            self._marked = covered

    def scan(
        self,
        space: str,
        start: bytes,
        end: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, end), ascending; or, with reverse, descending from below end."""
        return _scan(self._cfs[space], space, start, end, reverse)

    def check_records(self, space: str, start: bytes, records_max: int) -> bytes | None:
        """Read up to ``records_max`` records from ``start``, block checksums verified and
        the block cache left alone (a scrub must not evict what requests use). Returns
        the key to continue from, or None at the end of the space; DataCorruption on damage."""
        opts = ReadOptions()
        opts.set_verify_checksums(True)
        opts.fill_cache(False)  # type: ignore[call-arg]  # the stub lacks its argument
        it = self._cfs[space].iter(opts)
        it.seek(start)
        count = 0
        while it.valid():
            if count == records_max:
                return bytes(it.key())
            it.value()
            count += 1
            it.next()
        try:
            it.status()
        except Exception as exc:
            raise _read_failed(space, exc) from exc
        return None

    def property_int(self, space: str, name: str) -> int:
        value = self._cfs[space].property_int_value(name)
        return int(value or 0)

    def memory_bytes(self) -> dict[str, int]:
        """What RocksDB holds in memory, by kind: memtables (active and immutable, over
        every space), block cache (data, index and filter blocks), table readers."""
        spaces = list(self._cfs)
        return {
            "memtables": sum(self.property_int(s, "rocksdb.size-all-mem-tables") for s in spaces),
            "block_cache": self.property_int(spaces[0], "rocksdb.block-cache-usage"),
            "table_readers": sum(
                self.property_int(s, "rocksdb.estimate-table-readers-mem") for s in spaces
            ),
        }
