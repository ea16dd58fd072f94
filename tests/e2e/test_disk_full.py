"""A full disk, end to end: a real server on a small tmpfs, filled by a filler file.

While full, writes fail with 503 ServiceUnavailable and leave nothing behind, reads go on,
deletes go on; writing resumes by itself once space is freed; the server restarts on the
full disk (its reserve file gives RocksDB and the blob GC room); every acknowledged object
is whole afterwards.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.server import RunningServer, start_server
from tests.smallfs import fill, free_bytes, mounted_tmpfs

MiB = 1024 * 1024
RESERVE_BYTES = 4 * MiB
FREE_MIN_BYTES = 2 * MiB


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    # 64 MiB: RocksDB resumes from its own ENOSPC only with a write buffer (16 MiB) free,
    # besides the database and the reserve.
    with mounted_tmpfs(tmp_path / "fs", 64 * MiB) as where:
        yield where


def _data_dir(tmp_path: Path, small_fs: Path) -> Path:
    """The data dir on the small filesystem, through a symlink: the server's log (written
    next to the data dir) stays on the real disk."""
    (small_fs / "data").mkdir()
    link = tmp_path / "data"
    link.symlink_to(small_fs / "data")
    return link


def _start(data_dir: Path, free_min_bytes: int) -> RunningServer:
    return start_server(
        data_dir,
        env={
            "STRATA_DISK_RESERVE_BYTES": str(RESERVE_BYTES),
            "STRATA_DISK_FREE_MIN_BYTES": str(free_min_bytes),
            "STRATA_DISK_FREE_WARN_BYTES": str(8 * MiB),
        },
    )


def _clients(server: RunningServer) -> tuple[Any, Any]:
    return client(server, "s3", s3={"addressing_style": "path"}), client(server, "dynamodb")


def _error(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _eventually(what: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll until ``what()`` holds (the disk is read once a second), or fail."""
    deadline = time.monotonic() + timeout_s
    while not what():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


def _put_ok(s3: Any, bucket: str, key: str, body: bytes, acknowledged: dict[str, str]) -> bool:
    """One PUT: acknowledged (and so recorded), or refused with 503 ServiceUnavailable."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ServiceUnavailable":
            raise
        return False
    acknowledged[key] = hashlib.md5(body).hexdigest()
    return True


def _blob_files(data_dir: Path) -> list[str]:
    """Files of object bytes: blob files (older stores) and the volumes' extent files."""
    found = [p for part in ("blobs", "volumes") for p in (data_dir / part).rglob("*")]
    return sorted(p.name for p in found if p.is_file())


def _check_whole(s3: Any, bucket: str, acknowledged: dict[str, str]) -> None:
    for key, md5 in acknowledged.items():
        reply = s3.get_object(Bucket=bucket, Key=key)
        body = reply["Body"].read()
        assert hashlib.md5(body).hexdigest() == md5, key
        assert reply["ETag"].strip('"') == md5, key


def _metric(server: RunningServer, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics")


def _assert_no_tracebacks(tmp_path: Path) -> None:
    """No server of the test logged an unexpected error (a 500, a failed shutdown)."""
    for log in tmp_path.glob("*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()


def _make_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_full_disk_refuses_writes_keeps_reads_restarts_and_resumes(
    tmp_path: Path, small_fs: Path
) -> None:
    data_dir = _data_dir(tmp_path, small_fs)
    filler = small_fs / "filler"
    server = _start(data_dir, FREE_MIN_BYTES)
    try:
        s3, dynamodb = _clients(server)
        assert (data_dir / "reserve").stat().st_size == RESERVE_BYTES
        s3.create_bucket(Bucket="full")
        _make_table(dynamodb, "full")
        acknowledged: dict[str, str] = {}
        for i, size in enumerate((1000, 300_000, 1_500_000)):
            body = os.urandom(size)
            s3.put_object(Bucket="full", Key=f"before-{i}", Body=body)
            acknowledged[f"before-{i}"] = hashlib.md5(body).hexdigest()
        dynamodb.put_item(TableName="full", Item={"pk": {"S": "before"}, "v": {"S": "x" * 1000}})

        # 1. Room above the minimum, but not for this object: its blob meets ENOSPC.
        fill(filler, FREE_MIN_BYTES + MiB)
        blobs_before = _blob_files(data_dir)
        free_before = free_bytes(small_fs)
        too_big = os.urandom(5 * MiB)
        assert _error(lambda: s3.put_object(Bucket="full", Key="too-big", Body=too_big)) == (
            "ServiceUnavailable",
            503,
        )
        assert _blob_files(data_dir) == blobs_before  # nothing left: no tmp file, no blob
        assert free_bytes(small_fs) >= free_before - 256 * 1024
        _eventually(lambda: "low disk space" in server.log())  # the watch reads each second

        # 2. Below the minimum: writes are refused before they touch a file.
        fill(filler, FREE_MIN_BYTES // 2)
        _eventually(lambda: not _put_ok(s3, "full", "small", b"tiny", acknowledged))
        assert _error(lambda: s3.put_object(Bucket="full", Key="big", Body=too_big[:MiB])) == (
            "ServiceUnavailable",
            503,
        )
        assert _error(
            lambda: dynamodb.put_item(TableName="full", Item={"pk": {"S": "during"}})
        ) == ("ServiceUnavailable", 503)
        item = dynamodb.get_item(TableName="full", Key={"pk": {"S": "before"}})["Item"]
        assert item["v"]["S"] == "x" * 1000
        _check_whole(s3, "full", acknowledged)
        assert _metric(server, "strata_disk_free_bytes") < FREE_MIN_BYTES
        assert _metric(server, "strata_disk_used_bytes") > 30 * MiB
        # Deletes still go: they are how space comes back.
        s3.delete_object(Bucket="full", Key="before-0")
        del acknowledged["before-0"]

        # 3. Killed on the full disk, it starts again: the reserve makes the room.
        server.kill()
        server = _start(data_dir, FREE_MIN_BYTES)
        s3, dynamodb = _clients(server)
        assert not (data_dir / "reserve").exists()  # released for the start, not back yet
        assert "disk full" in server.log()
        _check_whole(s3, "full", acknowledged)
        assert _error(lambda: s3.put_object(Bucket="full", Key="small", Body=b"tiny")) == (
            "ServiceUnavailable",
            503,
        )

        # 4. Space freed: writes resume by themselves and the reserve comes back.
        filler.unlink()
        _eventually(lambda: _put_ok(s3, "full", "after", b"resumed", acknowledged))
        dynamodb.put_item(TableName="full", Item={"pk": {"S": "after"}})
        body = os.urandom(2 * MiB)
        s3.put_object(Bucket="full", Key="after-big", Body=body)
        acknowledged["after-big"] = hashlib.md5(body).hexdigest()
        _eventually(lambda: (data_dir / "reserve").exists())
        assert (data_dir / "reserve").stat().st_size == RESERVE_BYTES

        # 5. After a restart every acknowledged object is whole; no blob is left over.
        server.stop()
        server = _start(data_dir, FREE_MIN_BYTES)
        s3, dynamodb = _clients(server)
        _check_whole(s3, "full", acknowledged)
        listed = s3.list_objects_v2(Bucket="full")["Contents"]
        assert sorted(o["Key"] for o in listed) == sorted(acknowledged)
        # One extent file per run that wrote: before-1 and before-2 (the aborted too-big's
        # range punched out), then after-big; the rest inline. Nothing reclaimable.
        assert len(_blob_files(data_dir)) == 2
        assert _metric(server, 'strata_volume_reclaimable_bytes{volume="hot"}') < 64 * 1024
        assert "Item" in dynamodb.get_item(TableName="full", Key={"pk": {"S": "after"}})
    finally:
        server.stop()
    _assert_no_tracebacks(tmp_path)


def test_rocksdb_enospc_resumes_by_itself(tmp_path: Path, small_fs: Path) -> None:
    """No minimum: RocksDB's own WAL write meets ENOSPC. Writes fail with 503 until space
    is back, then RocksDB resumes by itself (no restart); a stop on the full disk and the
    restart after it lose nothing acknowledged."""
    data_dir = _data_dir(tmp_path, small_fs)
    filler = small_fs / "filler"
    server = _start(data_dir, 0)
    try:
        s3, dynamodb = _clients(server)
        s3.create_bucket(Bucket="wal")
        _make_table(dynamodb, "wal")
        acknowledged: dict[str, str] = {}
        for i in range(3):
            _put_ok(s3, "wal", f"k{i}", os.urandom(40_000), acknowledged)  # inline: in RocksDB
        assert len(acknowledged) == 3
        big = {"pk": {"S": "big"}, "v": {"B": os.urandom(390_000)}}

        def refused_by_rocksdb() -> None:
            fill(filler, 64 * 1024)
            assert _error(lambda: dynamodb.put_item(TableName="wal", Item=big)) == (
                "ServiceUnavailable",
                503,
            )
            assert not (data_dir / "reserve").exists()  # given to RocksDB to recover with
            # Past the next reading of the disk (1 s), RocksDB itself still refuses, and the
            # reserve stays released for it.
            time.sleep(1.5)
            assert not _put_ok(s3, "wal", "x", b"tiny", acknowledged)
            assert not (data_dir / "reserve").exists()
            _check_whole(s3, "wal", acknowledged)

        refused_by_rocksdb()
        filler.unlink()
        _eventually(lambda: _put_ok(s3, "wal", "after", b"resumed", acknowledged))
        # Writes resumed without a restart. (Since the merge with the WAL probe at open, RocksDB's
        # LOG records a background error right after open and never "Successfully resumed DB",
        # yet writes come back: which path recovers them is still to be pinned down.)
        dynamodb.put_item(TableName="wal", Item=big)
        _eventually(lambda: (data_dir / "reserve").exists())  # back once RocksDB writes

        # Full again, stopped on the full disk (its memtable flush fails), started again.
        dynamodb.delete_item(TableName="wal", Key={"pk": {"S": "big"}})
        refused_by_rocksdb()
        server.stop()
        server = _start(data_dir, 0)
        s3, dynamodb = _clients(server)
        _check_whole(s3, "wal", acknowledged)
        filler.unlink()
        _eventually(lambda: _put_ok(s3, "wal", "again", b"resumed", acknowledged))
        dynamodb.put_item(TableName="wal", Item=big)
        server.kill()
        server = _start(data_dir, 0)
        s3, dynamodb = _clients(server)
        _check_whole(s3, "wal", acknowledged)
        got = dynamodb.get_item(TableName="wal", Key={"pk": {"S": "big"}})["Item"]
        assert got["v"]["B"] == big["v"]["B"]
    finally:
        server.stop()
    _assert_no_tracebacks(tmp_path)
