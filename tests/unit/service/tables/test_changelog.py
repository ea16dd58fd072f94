"""The change log's layout: records of the layout before (per stream) are moved once to
the per-table layout and read as before; shards of a window; trim bookkeeping."""

from __future__ import annotations

from pathlib import Path

from strata.service.tables import changelog
from strata.service.tables.changelog import ChangeRecord, generation_start, shards
from strata.storage import keys, records, spaces
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore, WriteBatch


def old_key(table_id: int, stream: int, shard: int, stamp: int) -> bytes:
    body = table_id.to_bytes(8, "big") + stream.to_bytes(8, "big") + shard.to_bytes(2, "big")
    return keys.encode_bytes(body) + stamp.to_bytes(8, "big")


def test_records_of_the_layout_before_are_moved_once(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    try:
        batch = WriteBatch()
        written = []
        for n in range(10):
            stamp = (1_700_000_000_000 + n) << 16
            record = ChangeRecord(changelog.INSERT, stamp, b'{"pk":{"S":"%d"}}' % n)
            batch.put(
                spaces.STREAMS, old_key(7, 1_699_999_999_000, n % 4, stamp), records.encode(record)
            )
            written.append((n % 4, record))
        store.commit_blocking(batch)
        assert changelog.migrate(store) == 10
        assert changelog.migrate(store) == 0  # done: a no-op
        for partition in range(changelog.PARTITIONS):
            read = list(changelog.read(store, 7, partition, 0, changelog.STAMP_MAX + 1))
            assert read == [r for p, r in written if p == partition]
        held, count = changelog.size(store, 7)
        assert count == 10
        meta = changelog.partition_prefix(7, changelog.META_PARTITION)
        assert held == sum(
            len(k) + len(v) for k, v in store.scan(spaces.STREAMS, b"") if not k.startswith(meta)
        )
    finally:
        store.close()


def test_trim_removes_the_oldest_and_keeps_the_books(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    try:
        batch = WriteBatch()
        for n in range(10):
            record = records.encode(ChangeRecord(changelog.INSERT, n + 1, b"{}"))
            key = changelog.partition_prefix(3, 1) + (n + 1).to_bytes(8, "big")
            batch.put(spaces.STREAMS, key, record)
        store.commit_blocking(batch)
        batch = WriteBatch()
        count, removed, more = changelog.stage_trim(store, batch, 3, 1, 8, 4)
        store.commit_blocking(batch)
        assert (count, more) == (4, True)
        assert changelog.trimmed_to(store, 3, 1) == 4
        assert changelog.size(store, 3) == (-removed, -4)  # written without the counters
        batch = WriteBatch()
        count, _, more = changelog.stage_trim(store, batch, 3, 1, 8, 4)
        store.commit_blocking(batch)
        assert (count, more) == (3, False)
        assert [r.stamp for r in changelog.read(store, 3, 1, 0, 100)] == [8, 9, 10]
        assert changelog.trimmed_to(store, 3, 1) == 7
        assert changelog.trimmed_to(store, 3, 0) == 0
    finally:
        store.close()


def test_shards_of_a_window() -> None:
    g = 100
    start = generation_start(g) + 5
    now = generation_start(g + 2) + 1
    found = shards(start, changelog.STAMP_MAX + 1, 0, now)
    assert [(s.generation, s.partition) for s in found] == [
        (gen, p) for gen in (g, g + 1, g + 2) for p in range(changelog.PARTITIONS)
    ]
    assert found[0].start == start  # the stream began mid-generation
    assert found[-1].end == generation_start(g + 3)  # the open one ends in the future
    # a closed window: nothing after its end; the horizon drops ended generations
    closed = shards(start, generation_start(g + 1) + 9, generation_start(g + 1), now)
    assert {s.generation for s in closed} == {g + 1}
    assert closed[0].end == generation_start(g + 1) + 9
