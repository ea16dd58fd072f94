"""RocksDB damage is an error: flipped SST blocks fail reads and scans, a WAL that lost
acknowledged writes stops the open unless recovery is asked for."""

from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from strata.engine.rocksdb import WAL_MARK, RocksEngine, WalDamaged
from strata.errors import DataCorruption

SPACES = ["one"]


def fill(path: str, count: int) -> None:
    engine = RocksEngine(path, SPACES)
    engine.write(("one", b"k%05d" % n, os.urandom(200)) for n in range(count))
    engine.sync_wal()
    engine.close()


def test_flipped_sst_fails_scan_and_get(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = str(tmp_path / "db")
    fill(path, 2000)
    sst = max(glob.glob(f"{path}/*.sst"), key=os.path.getsize)
    with open(sst, "r+b") as handle:
        handle.seek(os.path.getsize(sst) // 3)
        handle.write(b"\xff" * 256)
    engine = RocksEngine(path, SPACES)
    try:
        with caplog.at_level(logging.ERROR, "strata.engine"):
            seen: list[bytes] = []
            with pytest.raises(DataCorruption) as caught:
                seen.extend(key for key, _ in engine.scan("one", b""))
            assert 0 < len(seen) < 2000
            assert os.path.basename(sst) in caught.value.detail
            with pytest.raises(DataCorruption):
                engine.get_many("one", [b"k%05d" % n for n in range(2000)])
        assert os.path.basename(sst) in caplog.text
    finally:
        engine.close()


def crash_after_writes(path: str, count: int) -> None:
    """Write and fsync ``count`` keys in a child that then dies without closing."""
    code = textwrap.dedent(
        f"""
        import os
        from strata.engine.rocksdb import RocksEngine
        engine = RocksEngine({path!r}, {SPACES!r})
        for n in range({count}):
            engine.write([("one", b"k%05d" % n, os.urandom(300))])
            engine.sync_wal()
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_truncated_wal_refuses_then_opens_point_in_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "db")
    crash_after_writes(path, 200)
    wal = max(glob.glob(f"{path}/*.log"), key=os.path.getsize)
    os.truncate(wal, os.path.getsize(wal) // 2)
    size = os.path.getsize(wal)
    with pytest.raises(WalDamaged, match="acknowledged"):
        RocksEngine(path, SPACES)
    assert os.path.getsize(wal) == size  # refused before touching anything
    with caplog.at_level(logging.ERROR, "strata.engine"):
        engine = RocksEngine(path, SPACES, wal_recovery="point-in-time")
    kept = sum(1 for _ in engine.scan("one", b""))
    engine.close()
    assert 0 < kept < 200
    assert "acknowledged operations" in caplog.text
    engine = RocksEngine(path, SPACES)  # the loss was accepted: strict opens again
    engine.close()


def test_kill_after_fsync_opens_strict(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    crash_after_writes(path, 50)
    engine = RocksEngine(path, SPACES)
    assert sum(1 for _ in engine.scan("one", b"")) == 50
    engine.close()


def test_torn_unacknowledged_tail_opens_strict(tmp_path: Path) -> None:
    """Bytes past the last fsync (a write never acknowledged) may be torn by a crash."""
    path = str(tmp_path / "db")
    crash_after_writes(path, 50)
    # An unacknowledged write after the last mark, then torn: the mark does not cover it.
    code = textwrap.dedent(
        f"""
        import os
        from strata.engine.rocksdb import RocksEngine
        engine = RocksEngine({path!r}, {SPACES!r})
        engine.write([("one", b"tail", os.urandom(5000))])
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    wal = max(glob.glob(f"{path}/*.log"), key=os.path.getmtime)
    os.truncate(wal, os.path.getsize(wal) - 100)
    engine = RocksEngine(path, SPACES)
    keys = [k for k, _ in engine.scan("one", b"")]
    engine.close()
    assert len(keys) == 50
    assert b"tail" not in keys


def test_missing_wal_refuses(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    crash_after_writes(path, 20)
    for wal in glob.glob(f"{path}/*.log"):
        os.unlink(wal)
    with pytest.raises(WalDamaged):
        RocksEngine(path, SPACES)
    assert os.path.exists(os.path.join(path, WAL_MARK))


def test_check_records_pages_and_finds_damage(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    fill(path, 2000)
    engine = RocksEngine(path, SPACES)
    position: bytes | None = b""
    chunks = 0
    while position is not None:
        position = engine.check_records("one", position, 300)
        chunks += 1
    assert chunks == 7  # 2000 records, 300 a chunk
    engine.close()
    sst = max(glob.glob(f"{path}/*.sst"), key=os.path.getsize)
    with open(sst, "r+b") as handle:
        handle.seek(os.path.getsize(sst) // 2)
        handle.write(b"\xff" * 256)
    engine = RocksEngine(path, SPACES)
    try:
        with pytest.raises(DataCorruption):
            engine.check_records("one", b"", 10_000)
    finally:
        engine.close()
