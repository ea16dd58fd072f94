"""RocksDB through rocksdict: the one module that imports it.

One database per data directory, one column family per record kind ("space"). Writes
go to the memtable and the WAL file without an fsync; ``sync_wal`` makes everything
written so far durable. The storage core's group commit builds on exactly that pair.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    Cache,
    DBCompressionType,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
    WriteBufferManager,
    WriteOptions,
)

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


def _options(block_cache: Cache, memtables: WriteBufferManager) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES)
    opts.set_write_buffer_manager(memtables)
    opts.set_max_background_jobs(2)
    opts.set_compression_type(DBCompressionType.lz4())
    # Overwrites and deletes leave tombstones that every scan must step over: compact an
    # SST file early once half of any 1024 consecutive entries are deletions.
    opts.add_compact_on_deletion_collector_factory(1024, 512, 0.5)
    table = BlockBasedOptions()
    table.set_block_cache(block_cache)
    table.set_bloom_filter(10, False)
    table.set_cache_index_and_filter_blocks(True)
    opts.set_block_based_table_factory(table)
    return opts


class RocksEngine:
    """A RocksDB database with named column families, raw bytes in and out."""

    def __init__(
        self,
        path: str,
        spaces: Sequence[str],
        memory_bytes: int = MEMORY_BYTES,
        memtables_bytes: int = MEMTABLES_BYTES,
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
        existing: list[str] = []
        if os.path.exists(os.path.join(path, "CURRENT")):
            existing = Rdict.list_cf(path, Options(raw_mode=True))
        names = sorted(set(spaces) | set(existing) - {"default"})
        families = {name: _options(cache, memtables) for name in names}
        self._db = Rdict(
            path, db_opts, column_families=families, access_type=AccessType.read_write()
        )
        self._cfs = {name: self._db.get_column_family(name) for name in names}
        self._handles = {name: self._db.get_column_family_handle(name) for name in names}
        self._nosync = WriteOptions()
        self._nosync.sync = False

    def close(self) -> None:
        """Flush every memtable, then close: the next open has no WAL to replay.

        Durability does not depend on it (the WAL already holds every write); it only
        makes a clean restart fast."""
        for family in self._cfs.values():
            family.flush(True)
        self._cfs.clear()
        self._handles.clear()
        self._db.close()

    def get(self, space: str, key: bytes) -> bytes | None:
        value: bytes | None = self._cfs[space].get(key)
        return value

    def get_many(self, space: str, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = self._cfs[space].get(keys)  # type: ignore[arg-type,assignment]
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
        self._db.write(batch, self._nosync)

    def sync_wal(self) -> None:
        """Make every write so far durable (fsync of the WAL). Releases the GIL."""
        self._db.flush_wal(True)

    def scan(
        self,
        space: str,
        start: bytes,
        end: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, end), ascending; or, with reverse, descending from below end."""
        opts = ReadOptions()
        if end is not None:
            opts.set_iterate_upper_bound(end)
        # rocksdict's lower-bound setter does not honour raw mode: bound by hand instead.
        it = self._cfs[space].iter(opts)
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
