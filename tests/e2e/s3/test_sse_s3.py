"""SSE-S3 for real: every new object's bytes are sealed (AES-256-GCM in 64 KiB chunks) with
a data key of its own, wrapped by the master key; reads decrypt through the one read path.

The scan tests write random-looking markers and then look for them in every file under
the data directory (WAL, SST files, extent files): none may appear, after a kill -9 (the
WAL holds the last writes) nor after a clean stop (memtables flushed to SST files).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.service.objects.records import ObjectVersion, key_prefix
from strata.storage import keys, records, spaces
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore
from strata.storage.volumes.cipher import CHUNK_BYTES
from tests.conftest import client
from tests.e2e.s3.conftest import error_of
from tests.server import start_server

MIB = 1024 * 1024
SSE = "x-amz-server-side-encryption"


def headers_of(reply: dict[str, Any]) -> dict[str, str]:
    return reply["ResponseMetadata"]["HTTPHeaders"]


def test_put_and_get_say_aes256_and_round_trip(s3: Any, bucket: str) -> None:
    for size in (0, 1, 5000, 64 * 1024 + 1, 3 * MIB + 5):
        body = os.urandom(size)
        put = s3.put_object(Bucket=bucket, Key=f"k{size}", Body=body)
        assert put["ServerSideEncryption"] == "AES256"
        assert put["ETag"].strip('"') == hashlib.md5(body).hexdigest()  # SSE-S3: the MD5
        got = s3.get_object(Bucket=bucket, Key=f"k{size}")
        assert got["ServerSideEncryption"] == "AES256"
        assert got["Body"].read() == body
        assert s3.head_object(Bucket=bucket, Key=f"k{size}")["ServerSideEncryption"] == "AES256"


def test_explicit_aes256_and_bad_algorithm(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="b",
            Body=b"x",
            ServerSideEncryption="AES256",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=os.urandom(32),
        )
    # Over plain HTTP the customer key is refused first (as S3 refuses it).
    assert error_of(caught) == ("InvalidRequest", 400)


def test_ranges_across_chunk_and_part_boundaries(s3: Any, bucket: str) -> None:
    body = os.urandom(2 * MIB + 12345)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    edges = [
        (0, 0),
        (CHUNK_BYTES - 1, CHUNK_BYTES),
        (CHUNK_BYTES - 5, 3 * CHUNK_BYTES + 7),
        (MIB - 3, MIB + 3),
        (len(body) - 1, len(body) - 1),
        (17, len(body) - 1),
    ]
    for start, end in edges:
        got = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={start}-{end}")
        assert got["Body"].read() == body[start : end + 1], (start, end)
    suffix = s3.get_object(Bucket=bucket, Key="big", Range="bytes=-100")["Body"].read()
    assert suffix == body[-100:]
    small = os.urandom(40_000)  # inline in its record, sealed there
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    got = s3.get_object(Bucket=bucket, Key="small", Range="bytes=1000-30000")
    assert got["Body"].read() == small[1000:30001]


def test_multipart_is_sealed_with_the_uploads_key(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB + 11), os.urandom(5 * MIB), os.urandom(777)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert created["ServerSideEncryption"] == "AES256"
    upload = created["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data
        )
        assert reply["ServerSideEncryption"] == "AES256"
        assert reply["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        done.append({"PartNumber": number, "ETag": reply["ETag"]})
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": done}
    )
    assert completed["ServerSideEncryption"] == "AES256"
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    boundary = len(parts[0])
    got = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={boundary - 70}-{boundary + 70}")
    assert got["Body"].read() == whole[boundary - 70 : boundary + 71]
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read()
    assert part2 == parts[1]


def test_copies_and_part_copies_read_back(s3: Any, bucket: str) -> None:
    body = os.urandom(MIB + 99)
    s3.put_object(Bucket=bucket, Key="src", Body=body)
    s3.put_object(Bucket=bucket, Key="tiny", Body=b"tiny bytes")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body
    s3.copy_object(Bucket=bucket, Key="tiny2", CopySource={"Bucket": bucket, "Key": "tiny"})
    assert s3.get_object(Bucket=bucket, Key="tiny2")["Body"].read() == b"tiny bytes"
    # Into a compressing volume: decrypted, compressed, sealed again.
    s3.copy_object(
        Bucket=bucket, Key="cold", CopySource={"Bucket": bucket, "Key": "src"},
        StorageClass="STANDARD_IA",
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == body
    upload = s3.create_multipart_upload(Bucket=bucket, Key="pc")["UploadId"]
    reply = s3.upload_part_copy(
        Bucket=bucket, Key="pc", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=5-70004",
    )  # fmt: skip
    etag = reply["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="pc", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="pc")["Body"].read() == body[5:70005]
    s3.delete_object(Bucket=bucket, Key="src")  # the copies keep the shared bytes
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="pc")["Body"].read() == body[5:70005]


def test_cold_objects_are_compressed_then_sealed(s3: Any, bucket: str) -> None:
    text = b"".join(b"line %08d of a very compressible log\n" % i for i in range(60_000))
    s3.put_object(Bucket=bucket, Key="logs", Body=text, StorageClass="STANDARD_IA")
    assert s3.get_object(Bucket=bucket, Key="logs")["Body"].read() == text
    got = s3.get_object(Bucket=bucket, Key="logs", Range=f"bytes={MIB - 9}-{MIB + 9}")
    assert got["Body"].read() == text[MIB - 9 : MIB + 10]


# ---- the data directory holds no plaintext ----------------------------------------------


def markers(count: int) -> list[bytes]:
    return [os.urandom(24) for _ in range(count)]


def with_markers(size: int, marks: list[bytes]) -> bytes:
    """Random bytes of ``size`` with the markers spread through them."""
    body = bytearray(os.urandom(size))
    step = max(1, size // (len(marks) + 1))
    for index, mark in enumerate(marks):
        position = min(step * (index + 1), size - len(mark))
        body[position : position + len(mark)] = mark
    return bytes(body)


def plaintext_found(data_dir: Path, marks: list[bytes]) -> list[tuple[str, int]]:
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        for index, mark in enumerate(marks):
            if mark in content:
                found.append((str(path.relative_to(data_dir)), index))
    return found


def write_marked_objects(s3: Any) -> tuple[list[bytes], dict[str, bytes]]:
    s3.create_bucket(Bucket="scan")
    marks = markers(12)
    bodies = {
        "inline": with_markers(3000, marks[0:2]),
        "extent": with_markers(3 * MIB + 1, marks[2:5]),
        "cold": with_markers(2 * MIB, marks[5:7]) + b"a" * MIB,
        "copy-source": with_markers(200_000, marks[7:9]),
    }
    for key, body in bodies.items():
        storage_class = "STANDARD_IA" if key == "cold" else "STANDARD"
        s3.put_object(Bucket="scan", Key=key, Body=body, StorageClass=storage_class)
    s3.copy_object(
        Bucket="scan", Key="copy-cold", CopySource={"Bucket": "scan", "Key": "copy-source"},
        StorageClass="STANDARD_IA",
    )  # fmt: skip
    bodies["copy-cold"] = bodies["copy-source"]
    part = with_markers(5 * MIB, marks[9:11])
    last = with_markers(1000, marks[11:12])
    upload = s3.create_multipart_upload(Bucket="scan", Key="multipart")["UploadId"]
    etags = []
    for number, data in enumerate((part, last), start=1):
        reply = s3.upload_part(
            Bucket="scan", Key="multipart", UploadId=upload, PartNumber=number, Body=data
        )
        etags.append({"PartNumber": number, "ETag": reply["ETag"]})
    s3.complete_multipart_upload(
        Bucket="scan", Key="multipart", UploadId=upload, MultipartUpload={"Parts": etags}
    )
    bodies["multipart"] = part + last
    return marks, bodies


def test_no_plaintext_under_the_data_dir_after_kill_and_after_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        marks, bodies = write_marked_objects(s3)
        # The scan looks for the markers themselves: prove it would find one in plain.
        assert plaintext_found(tmp_path, [marks[0]]) == []
    finally:
        server.kill()  # the last writes are in the WAL only
    assert plaintext_found(data_dir, marks) == []
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for key, body in bodies.items():
            assert s3.get_object(Bucket="scan", Key=key)["Body"].read() == body, key
    finally:
        server.stop()  # memtables flushed: the records are in SST files now
    assert plaintext_found(data_dir, marks) == []
    # The scan can fail: the same bytes written to a file under the data dir are found.
    (data_dir / "probe").write_bytes(b"..." + marks[3] + b"...")
    assert plaintext_found(data_dir, marks) == [("probe", 3)]


def test_master_key_file_is_private_and_a_wrong_key_refuses(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="keys")
        body = os.urandom(100_000)
        s3.put_object(Bucket="keys", Key="big", Body=body)
        s3.put_object(Bucket="keys", Key="small", Body=b"small secret")
    finally:
        server.kill()
    key_file = data_dir / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_bytes())) == 32
    # The same data dir with another master key: refused as damage, never garbage.
    other = base64.b64encode(os.urandom(32)).decode()
    server = start_server(data_dir, env={"STRATA_MASTER_KEY": other})
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for key in ("big", "small"):
            with pytest.raises(ClientError) as caught:
                s3.get_object(Bucket="keys", Key=key)
            assert error_of(caught) == ("InternalError", 500)
        assert "encrypted under master key" in server.log()
    finally:
        server.stop()
    # And with its own key again, everything acknowledged reads back.
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        assert s3.get_object(Bucket="keys", Key="big")["Body"].read() == body
        assert s3.get_object(Bucket="keys", Key="small")["Body"].read() == b"small secret"
    finally:
        server.stop()


def test_records_keep_the_envelope_never_the_data_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="env")
        s3.put_object(Bucket="env", Key="a", Body=os.urandom(70_000))
        s3.put_object(Bucket="env", Key="b", Body=os.urandom(70_000))
    finally:
        server.stop()
    store = LocalStore(str(data_dir / "db"), SystemClock())
    try:
        envelopes = []
        for key in ("a", "b"):
            prefix = key_prefix("env", key)
            [(_, raw)] = list(store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)))
            envelope = records.decode(raw, ObjectVersion).encryption
            assert envelope is not None
            assert envelope.algorithm == "AES256"
            assert not envelope.customer
            assert len(envelope.wrapped_key) == 12 + 32 + 16  # nonce, key, tag
            envelopes.append(envelope)
        assert envelopes[0].key_id == envelopes[1].key_id  # one master key
        assert envelopes[0].wrapped_key != envelopes[1].wrapped_key  # a data key each
    finally:
        store.close()


def test_older_plain_objects_stay_readable(tmp_path: Path) -> None:
    from tests.e2e.s3.test_volumes import write_older_store

    body = os.urandom(MIB + 3)
    data_dir = tmp_path / "data"
    write_older_store(data_dir, body)
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        got = s3.get_object(Bucket="older", Key="kept")
        assert got["Body"].read() == body
        assert "ServerSideEncryption" not in got  # stored plain: Strata does not claim it
        copied = s3.copy_object(
            Bucket="older", Key="copy", CopySource={"Bucket": "older", "Key": "kept"}
        )
        assert copied["ServerSideEncryption"] == "AES256"  # the copy is sealed
        assert s3.get_object(Bucket="older", Key="copy")["Body"].read() == body
    finally:
        server.stop()


def test_acknowledged_encrypted_writes_survive_kill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    bodies = {f"k{i}": os.urandom(size) for i, size in enumerate((10, 70_000, 2 * MIB + 1))}
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="durable")
        for key, body in bodies.items():
            s3.put_object(Bucket="durable", Key=key, Body=body)
    finally:
        server.kill()
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for key, body in bodies.items():
            got = s3.get_object(Bucket="durable", Key=key)
            assert got["Body"].read() == body
            assert headers_of(got)[SSE] == "AES256"
    finally:
        server.stop()
