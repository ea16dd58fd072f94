"""The local store: atomic batches, ordered scans, group commit, durability across kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from strata.storage import spaces
from strata.storage.clock import ManualClock
from strata.storage.keys import pack
from strata.storage.store import LocalStore, WriteBatch


def test_batch_is_atomic_and_scans_are_ordered(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    batch = WriteBatch()
    for name in ["b", "a", "c"]:
        batch.put(spaces.OBJECTS, pack("bucket", name), name.encode())
    batch.put(spaces.BUCKETS, pack("bucket"), b"record")
    store.commit_blocking(batch)
    keys = [v for _, v in store.scan(spaces.OBJECTS, pack("bucket"))]
    assert keys == [b"a", b"b", b"c"]
    reverse = [
        v for _, v in store.scan(spaces.OBJECTS, pack("bucket"), pack("bucket", "c"), reverse=True)
    ]
    assert reverse == [b"b", b"a"]
    delete = WriteBatch()
    delete.delete(spaces.OBJECTS, pack("bucket", "b"))
    store.commit_blocking(delete)
    assert store.get(spaces.OBJECTS, pack("bucket", "b")) is None
    assert store.get_many(spaces.OBJECTS, [pack("bucket", "a"), pack("bucket", "b")]) == [
        b"a",
        None,
    ]
    store.close()


def test_concurrent_commits_share_fsyncs(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())

    async def writer(n: int) -> None:
        for i in range(20):
            batch = WriteBatch()
            batch.put(spaces.ITEMS, pack("t", f"{n}-{i}"), b"x")
            await store.commit(batch)

    async def main() -> None:
        await asyncio.gather(*(writer(n) for n in range(50)))

    asyncio.run(main())
    assert len(list(store.scan(spaces.ITEMS, b""))) == 1000
    # 1000 acknowledged writes from 50 concurrent writers: far fewer fsyncs than writes.
    assert 0 < store.fsyncs < 1000
    store.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from strata.storage import spaces
    from strata.storage.clock import SystemClock
    from strata.storage.keys import pack
    from strata.storage.store import LocalStore, WriteBatch

    store = LocalStore(sys.argv[1], SystemClock())

    async def writer(n):
        i = 0
        while True:
            batch = WriteBatch()
            batch.put(spaces.ITEMS, pack("t", f"{n:02d}-{i:08d}"), b"v" * 100)
            await store.commit(batch)
            print(f"{n:02d}-{i:08d}", flush=True)  # acknowledged only after the commit
            i += 1

    async def main():
        await asyncio.gather(*(writer(n) for n in range(8)))

    asyncio.run(main())
    """
)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, text=True
    )
    acknowledged: list[str] = []
    assert process.stdout is not None
    while len(acknowledged) < 2000:
        line = process.stdout.readline()
        assert line, "writer died"
        acknowledged.append(line.strip())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    store = LocalStore(path, ManualClock())
    missing = [k for k in acknowledged if store.get(spaces.ITEMS, pack("t", k)) is None]
    assert missing == []
    store.close()


def test_delete_range_removes_exactly_the_range(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    batch = WriteBatch()
    for name in ["a", "b", "c", "d"]:
        batch.put(spaces.ITEMS, pack("t", name), b"x")
    store.commit_blocking(batch)
    drop = WriteBatch()
    drop.delete_range(spaces.ITEMS, pack("t", "b"), pack("t", "d"))
    drop.put(spaces.ITEMS, pack("t", "e"), b"y")  # atomic with ordinary ops
    store.commit_blocking(drop)
    assert [k for k, _ in store.scan(spaces.ITEMS, b"")] == [pack("t", n) for n in "ade"]
    store.close()


def test_close_returns_promptly_and_keeps_writes(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())

    async def write() -> None:
        batch = WriteBatch()
        batch.put(spaces.ITEMS, pack("t", "k"), b"v")
        await store.commit(batch)

    asyncio.run(write())
    store.close()
    assert not store._group._thread.is_alive()
    reopened = LocalStore(str(tmp_path / "db"), ManualClock())
    assert reopened.get(spaces.ITEMS, pack("t", "k")) == b"v"
    reopened.close()


def test_counters_add_up_across_batches_and_vanish_at_zero(tmp_path: Path) -> None:
    from strata.storage.store import read_counters

    store = LocalStore(str(tmp_path / "db"), ManualClock())
    key = pack("counters")

    async def add(deltas: dict[str, int]) -> None:
        batch = WriteBatch()
        batch.add(spaces.META, key, deltas)
        batch.add(spaces.META, key, deltas)  # twice in one batch: both count
        await store.commit(batch)

    async def main() -> None:
        # Concurrent committers: each read-modify-write happens inside apply.
        await asyncio.gather(*(add({"objects": 1, "bytes": 10}) for _ in range(20)))

    asyncio.run(main())
    assert read_counters(store.get(spaces.META, key)) == {"objects": 40, "bytes": 400}
    asyncio.run(add({"objects": -20, "bytes": -200}))
    assert store.get(spaces.META, key) is None  # every counter at zero: the record is gone
    store.close()


def test_stamps_keep_growing_across_a_restart_with_the_clock_set_back(tmp_path: Path) -> None:
    clock = ManualClock(1_800_000_000.0)
    store = LocalStore(str(tmp_path / "db"), clock)
    batch = WriteBatch()
    stamps = [store.hlc.now() for _ in range(3)]
    batch.put(spaces.ITEMS, b"k", stamps[-1].to_bytes(8, "big"))
    store.commit_blocking(batch)
    store.engine.close(flush=False)  # as a kill would leave it: WAL only
    store.closed = True
    store._group.stop()
    earlier = ManualClock(1_800_000_000.0 - 3600)  # the wall clock stepped back an hour
    reopened = LocalStore(str(tmp_path / "db"), earlier)
    try:
        assert reopened.hlc.now() > max(stamps)
        assert reopened.get(spaces.ITEMS, b"k") == stamps[-1].to_bytes(8, "big")
    finally:
        reopened.close()
