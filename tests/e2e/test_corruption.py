"""Damaged data is an error the client sees, never a short listing, a 404 or wrong bytes.

Each test writes through a real server, damages the data directory the way a disk or
an operator would (flipped SST bytes, truncated WAL, missing db/, flipped, truncated or
missing blob), restarts, and reads back with boto3.
"""

from __future__ import annotations

import glob
import http.client
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from strata.storage.volumes.cipher import sealed_size
from tests.conftest import client
from tests.e2e.dynamodb.conftest import make_table
from tests.server import RunningServer, start_server

BUCKET = "damaged"
OBJECTS = 40
ITEMS = 200
BLOB_BYTES = 300 * 1024  # past the inline limit: the bytes live in a blob file


def start_unaudited(data_dir: Path, env: dict[str, str] | None = None) -> RunningServer:
    """A server without the audit trail: these tests damage the files that hold the
    objects and items they wrote, chosen by size and position, which the trail's own
    records would otherwise share."""
    return start_server(data_dir, env={"STRATA_AUDIT": "false", **(env or {})})


def s3_client(server: RunningServer) -> Any:
    # The SDK's own response checksums are off: what is tested is what the server sends.
    return client(
        server,
        "s3",
        s3={"addressing_style": "path"},
        response_checksum_validation="when_required",
        request_checksum_calculation="when_required",
    )


def flip(path: str, offset: int, count: int = 256) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(count)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def largest(pattern: str) -> str:
    return max(glob.glob(pattern), key=os.path.getsize)


def extent_files(data_dir: Path) -> list[str]:
    return glob.glob(str(data_dir / "volumes" / "*" / "*.extents"))


def blob_path(data_dir: Path) -> str:
    """The one extent file of a store (writes of one run share a file, side by side in
    the order they were reserved: the first object's bytes start at 0)."""
    found = extent_files(data_dir)
    assert len(found) == 1, found
    return found[0]


def metrics(server: RunningServer) -> str:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        text: str = reply.read().decode()
    return text.replace(".0\n", "\n")


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def start_fails(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``strata server`` expecting it to refuse: it must exit, not serve."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "strata.cli",
            "server",
            "--port",
            "1",
            "--data-dir",
            str(data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def put_objects(server: RunningServer, size: int = 2000) -> Any:
    s3 = s3_client(server)
    s3.create_bucket(Bucket=BUCKET)
    for n in range(OBJECTS):
        s3.put_object(Bucket=BUCKET, Key=f"key-{n:03d}", Body=os.urandom(size))
    return s3


# ---- RocksDB: SST blocks -----------------------------------------------------------------


def objects_then_flipped_sst(data_dir: Path) -> str:
    """Objects written, the server stopped, then 256 bytes flipped in their SST file."""
    server = start_unaudited(data_dir)
    try:
        put_objects(server)
    finally:
        server.stop()  # a clean stop flushes the memtables: the objects are in an SST
    sst = largest(str(data_dir / "db" / "*.sst"))
    flip(sst, os.path.getsize(sst) // 3)
    return sst


def wait_for_scrub_pass(server: RunningServer) -> str:
    """The metrics once a scrub pass has completed (bounded: a small pass takes ms)."""
    text = ""
    for _ in range(100):
        text = metrics(server)
        if "strata_scrub_passes_total 0" not in text:
            break
        time.sleep(0.1)
    return text


def test_flipped_sst_bytes_fail_listing_and_reads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sst = objects_then_flipped_sst(data_dir)
    server = start_unaudited(data_dir)
    try:
        s3 = s3_client(server)
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket=BUCKET)
        assert error_code(caught) == ("InternalError", 500)
        outcomes = set()
        for n in range(OBJECTS):
            try:
                s3.head_object(Bucket=BUCKET, Key=f"key-{n:03d}")
                outcomes.add(200)
            except ClientError as exc:
                outcomes.add(exc.response["ResponseMetadata"]["HTTPStatusCode"])
        assert 404 not in outcomes
        assert 500 in outcomes
        log = server.log()
        assert "ERROR" in log
        assert "Corruption" in log
        assert os.path.basename(sst) in log
    finally:
        server.stop()


def test_flipped_sst_bytes_fail_dynamodb_scan(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    try:
        ddb = client(server, "dynamodb")
        make_table(ddb, "damaged")
        for n in range(ITEMS):
            ddb.put_item(
                TableName="damaged",
                Item={"pk": {"S": f"p{n % 7}"}, "sk": {"S": f"{n:05d}"}, "v": {"S": "x" * 400}},
            )
    finally:
        server.stop()
    sst = largest(str(data_dir / "db" / "*.sst"))
    flip(sst, os.path.getsize(sst) // 3)
    server = start_unaudited(data_dir)
    try:
        ddb = client(server, "dynamodb")
        with pytest.raises(ClientError) as caught:
            ddb.scan(TableName="damaged")
        assert error_code(caught) == ("InternalServerError", 500)
        outcomes = set()
        for n in range(ITEMS):  # each item is there or an error: never silently absent
            key = {"pk": {"S": f"p{n % 7}"}, "sk": {"S": f"{n:05d}"}}
            try:
                found = ddb.get_item(TableName="damaged", Key=key)
                outcomes.add("found" if "Item" in found else "absent")
            except ClientError as exc:
                outcomes.add(exc.response["Error"]["Code"])
        assert "absent" not in outcomes
        assert "InternalServerError" in outcomes
        assert "Corruption" in server.log()
    finally:
        server.stop()


# ---- RocksDB: WAL ------------------------------------------------------------------------


def test_truncated_wal_refuses_to_start_then_recovers_on_request(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    ddb = client(server, "dynamodb")
    make_table(ddb, "walled")
    put_objects(server)
    for n in range(ITEMS):
        ddb.put_item(TableName="walled", Item={"pk": {"S": f"p{n}"}, "sk": {"S": "s"}})
    server.kill()  # no flush: the acknowledged writes are only in the WAL
    wal = largest(str(data_dir / "db" / "*.log"))
    os.truncate(wal, os.path.getsize(wal) // 2)

    refused = start_fails(data_dir)
    assert refused.returncode == 1, refused
    assert "refusing to start" in refused.stderr
    assert "acknowledged" in refused.stderr
    assert "--recover-wal" in refused.stderr
    assert os.path.getsize(wal) > 0  # the damaged WAL is left for salvage

    server = start_unaudited(data_dir, env={"STRATA_WAL_RECOVERY": "point-in-time"})
    try:
        log = server.log()
        assert "ERROR" in log
        assert "acknowledged operations" in log
        s3 = s3_client(server)
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        assert len(listed) < OBJECTS  # the loss is real; it was said out loud
    finally:
        server.stop()
    # Accepted once, the next start is a normal one.
    server = start_unaudited(data_dir)
    server.stop()


def test_kill_without_damage_restarts_strict(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    put_objects(server)
    server.kill()
    server = start_unaudited(data_dir)  # strict mode: an intact WAL replays fully
    try:
        listed = s3_client(server).list_objects_v2(Bucket=BUCKET)
        assert listed["KeyCount"] == OBJECTS
    finally:
        server.stop()


# ---- data directory layout ---------------------------------------------------------------


def test_missing_db_with_blobs_refuses_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    try:
        s3_client(server).create_bucket(Bucket=BUCKET)
        s3_client(server).put_object(Bucket=BUCKET, Key="big", Body=os.urandom(BLOB_BYTES))
    finally:
        server.stop()
    blob = blob_path(data_dir)
    os.rename(data_dir / "db", tmp_path / "db-moved")
    refused = start_fails(data_dir)
    assert refused.returncode == 1, refused
    assert "no database in db/" in refused.stderr
    assert os.path.exists(blob)
    assert not (data_dir / "db" / "CURRENT").exists()


def test_data_files_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    try:
        s3_client(server).create_bucket(Bucket=BUCKET)
        s3_client(server).put_object(Bucket=BUCKET, Key="big", Body=os.urandom(BLOB_BYTES))
    finally:
        server.stop()
    assert os.stat(data_dir).st_mode & 0o777 == 0o700
    for root, dirs, files in os.walk(data_dir):
        for name in dirs:
            assert os.stat(os.path.join(root, name)).st_mode & 0o077 == 0, (root, name)
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o077 == 0, (root, name)


# ---- blobs -------------------------------------------------------------------------------


@pytest.fixture
def blob_server(tmp_path: Path) -> Any:
    server = start_unaudited(tmp_path / "data")
    s3 = s3_client(server)
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(BLOB_BYTES)
    s3.put_object(Bucket=BUCKET, Key="big", Body=body)
    yield server, s3, blob_path(tmp_path / "data"), body
    server.stop()


@pytest.mark.parametrize("sent", [None, "CRC32", "SHA256"])
def test_flipped_blob_breaks_the_response(blob_server: Any, sent: str | None) -> None:
    """Bytes are sealed (SSE-S3): the damaged chunk fails its authentication tag as it is
    decrypted, whatever checksum the object has, before any of its bytes is sent."""
    server, s3, blob, body = blob_server
    offset = 0
    if sent is not None:
        s3.put_object(Bucket=BUCKET, Key="big", Body=body, ChecksumAlgorithm=sent)
        offset = sealed_size(BLOB_BYTES)  # the new version's bytes follow the first one's
        assert blob_path(server.data_dir) == blob
    flip(blob, offset + BLOB_BYTES // 2)
    got = None
    with pytest.raises((BotoCoreError, ClientError, OSError)):
        got = s3.get_object(Bucket=BUCKET, Key="big")["Body"].read()
    assert got is None
    log = server.log()
    assert "ERROR" in log
    assert f"{BUCKET}/big" in log
    assert os.path.basename(blob) in log
    assert "fails its authentication tag" in log
    # A range is served (only its size is checked), and the object is still there.
    ranged = s3.get_object(Bucket=BUCKET, Key="big", Range="bytes=0-99")["Body"].read()
    assert ranged == body[:100]


def test_flipped_blob_breaks_the_response_to_a_plain_http_client(tmp_path: Path) -> None:
    server = start_unaudited(tmp_path / "data")
    try:
        s3 = s3_client(server)
        s3.create_bucket(Bucket=BUCKET)
        size = 3 * 1024 * 1024  # three 1 MiB chunks: two are sent before the damage shows
        s3.put_object(Bucket=BUCKET, Key="big", Body=os.urandom(size))
        flip(blob_path(tmp_path / "data"), size - 10, 4)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "big"})
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.status == 200
            with pytest.raises(http.client.IncompleteRead):
                reply.read()
    finally:
        server.stop()


def test_truncated_blob_is_internal_error_before_any_byte(blob_server: Any) -> None:
    server, s3, blob, _ = blob_server
    os.truncate(blob, BLOB_BYTES - 1000)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="big")
    assert error_code(caught) == ("InternalError", 500)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="big", Range="bytes=0-99")
    assert error_code(caught) == ("InternalError", 500)
    log = server.log()
    assert f"/{BUCKET}/big" in log
    assert os.path.basename(blob) in log
    assert "ERROR" in log


def test_missing_blob_is_internal_error(blob_server: Any) -> None:
    server, s3, blob, _ = blob_server
    os.unlink(blob)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="big")
    assert error_code(caught) == ("InternalError", 500)
    assert "is missing" in server.log()


def test_flipped_part_of_a_multipart_object_breaks_the_response(blob_server: Any) -> None:
    server, s3, _, _ = blob_server
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
    parts = []
    for number in (1, 2):
        body = os.urandom(5 * 1024 * 1024 if number == 1 else 100 * 1024)
        etag = s3.upload_part(
            Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="multi", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    whole = s3.get_object(Bucket=BUCKET, Key="multi")["Body"].read()
    assert len(whole) == 5 * 1024 * 1024 + 100 * 1024
    # "big" first, then part 1 then part 2, side by side in the one extent file.
    flip(blob_path(server.data_dir), BLOB_BYTES + 1000)
    with pytest.raises((BotoCoreError, ClientError, OSError)):
        s3.get_object(Bucket=BUCKET, Key="multi")["Body"].read()
    assert "multi" in server.log()


def test_scrub_finds_a_damaged_blob(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    try:
        s3 = s3_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="big", Body=os.urandom(BLOB_BYTES))
    finally:
        server.stop()
    flip(blob_path(data_dir), 10)
    server = start_unaudited(data_dir, env={"STRATA_SCRUB_INTERVAL_S": "0.2"})
    try:
        text = wait_for_scrub_pass(server)
        assert "strata_scrub_damaged_objects 1" in text
        assert "strata_scrub_damaged_spaces 0" in text
        assert f"scrub: damaged object {BUCKET}/big" in server.log()
    finally:
        server.stop()


def test_scrub_finds_a_damaged_space(tmp_path: Path) -> None:
    """The server starts on a flipped SST without a word; the scrub then says it."""
    data_dir = tmp_path / "data"
    objects_then_flipped_sst(data_dir)
    server = start_unaudited(data_dir, env={"STRATA_SCRUB_INTERVAL_S": "0.2"})
    try:
        text = wait_for_scrub_pass(server)
        assert "strata_scrub_damaged_spaces 1" in text
        assert "scrub: space objects is damaged" in server.log()
    finally:
        server.stop()


# ---- strata verify -----------------------------------------------------------------------


def run_verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strata.cli", "verify", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_reports_damage_and_a_running_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_unaudited(data_dir)
    try:
        s3 = put_objects(server)
        s3.put_object(Bucket=BUCKET, Key="big", Body=os.urandom(BLOB_BYTES))
        locked = run_verify(data_dir)
        assert locked.returncode == 2, locked
        assert "locked" in locked.stdout
        assert "Stop the server first" in locked.stdout
    finally:
        server.stop()
    clean = run_verify(data_dir)
    assert clean.returncode == 0, clean
    assert "OK: nothing damaged" in clean.stdout
    assert "blobs: 1 objects checked" in clean.stdout

    flip(blob_path(data_dir), 10)
    damaged = run_verify(data_dir)
    assert damaged.returncode == 1, damaged
    assert f"DAMAGED: {BUCKET}/big version null: " in damaged.stdout
    assert "fails its authentication tag" in damaged.stdout

    sst = largest(str(data_dir / "db" / "*.sst"))
    flip(sst, os.path.getsize(sst) // 3)
    damaged = run_verify(data_dir)
    assert damaged.returncode == 1, damaged
    assert "DAMAGED: space objects" in damaged.stdout
    assert "Corruption" in damaged.stdout


def test_copy_of_a_flipped_blob_is_refused(blob_server: Any) -> None:
    """A copy must not launder damaged bytes into new bytes with a fresh, matching MD5.

    CopyObject shares the source's extent: the copy has the source's ETag, so its GET
    finds the damage as the source's does. A part copy computes a new ETag from the bytes
    it reads, so a whole-object part copy is checked against the source's ETag first; a
    copy into another volume (another storage class) re-writes the bytes and is checked
    the same way."""
    server, s3, blob, _ = blob_server
    flip(blob, 100)
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "big"})
    with pytest.raises((BotoCoreError, ClientError, OSError)):
        s3.get_object(Bucket=BUCKET, Key="copy")["Body"].read()
    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket=BUCKET,
            Key="cold-copy",
            CopySource={"Bucket": BUCKET, "Key": "big"},
            StorageClass="STANDARD_IA",
        )
    assert error_code(caught) == ("InternalError", 500)
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="from-copy")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=BUCKET,
            Key="from-copy",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": BUCKET, "Key": "big"},
        )
    assert error_code(caught) == ("InternalError", 500)
    assert "fails its authentication tag" in server.log()
    listed = s3.list_objects_v2(Bucket=BUCKET)
    assert [o["Key"] for o in listed["Contents"]] == ["big", "copy"]
    assert len(extent_files(server.data_dir)) == 2  # hot's, and cold's (its bytes punched out)
