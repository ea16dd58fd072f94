"""Object bytes in volumes, end to end with boto3: extents shared by copies, ranges across
extent and frame boundaries, cold (compressed) and archive classes, older blob stores."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from strata.service.objects import statistics
from strata.service.objects.records import BucketRecord, ObjectVersion, Segment, object_key
from strata.storage import keys, records, spaces
from strata.storage.blobs import BlobStore
from strata.storage.checksums import new_hasher
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore, WriteBatch
from strata.storage.volumes.cipher import sealed_size
from tests.conftest import client
from tests.e2e.s3.conftest import error_of
from tests.server import RunningServer, start_server

MIB = 1024 * 1024


def metric(server: RunningServer, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics")


def live(server: RunningServer, volume: str) -> float:
    return metric(server, f'strata_volume_live_bytes{{volume="{volume}"}}')


def logs(size: int) -> bytes:
    out = bytearray()
    n = 0
    while len(out) < size:
        out += json.dumps({"n": n, "level": "info", "msg": f"request {n % 113} done"}).encode()
        out += b"\n"
        n += 1
    return bytes(out[:size])


def test_copies_of_copies_share_one_extent(s3: Any, server: RunningServer, bucket: str) -> None:
    body = os.urandom(MIB + 17)
    before = live(server, "hot")
    s3.put_object(Bucket=bucket, Key="a", Body=body)
    assert live(server, "hot") == before + sealed_size(len(body))
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "b"})
    assert live(server, "hot") == before + sealed_size(len(body))  # no byte copied
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_object(Bucket=bucket, Key="b")
    got = s3.get_object(Bucket=bucket, Key="c", Range="bytes=1000-1999")["Body"].read()
    assert got == body[1000:2000]
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == body
    assert live(server, "hot") == before + sealed_size(len(body))  # c still holds it
    s3.delete_object(Bucket=bucket, Key="c")
    assert live(server, "hot") == before  # freed with its last reference


def multipart(s3: Any, bucket: str, key: str, parts: list[bytes]) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )


def test_ranges_across_extent_boundaries_and_part_copies(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(300_000)]
    whole = b"".join(parts)
    multipart(s3, bucket, "mp", parts)
    for start, end in [(5 * MIB - 10, 5 * MIB + 9), (MIB, 10 * MIB + 5), (0, len(whole) - 1)]:
        got = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={start}-{end}")
        assert got["Body"].read() == whole[start : end + 1], (start, end)
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == parts[1]

    # Part copies of ranges that straddle the source's extents share them.
    before = live(server, "hot")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    ranges = [(4 * MIB, 9 * MIB - 1), (9 * MIB, len(whole) - 1)]
    done = []
    for number, (start, end) in enumerate(ranges, start=1):
        reply = s3.upload_part_copy(
            Bucket=bucket,
            Key="copied",
            UploadId=upload,
            PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "mp"},
            CopySourceRange=f"bytes={start}-{end}",
        )
        expected = hashlib.md5(whole[start : end + 1]).hexdigest()
        assert reply["CopyPartResult"]["ETag"].strip('"') == expected
        done.append({"PartNumber": number, "ETag": reply["CopyPartResult"]["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="copied", UploadId=upload, MultipartUpload={"Parts": done}
    )
    assert live(server, "hot") == before
    expected_copy = whole[4 * MIB :]
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == expected_copy
    got = s3.get_object(Bucket=bucket, Key="copied", Range=f"bytes={MIB - 1}-{MIB * 5}")
    assert got["Body"].read() == expected_copy[MIB - 1 : MIB * 5 + 1]
    # The source goes; the copy keeps the bytes it shares.
    s3.delete_object(Bucket=bucket, Key="mp")
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == expected_copy


def test_cold_class_is_compressed_and_reads_back(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    text = logs(3 * MIB + 5)
    noise = os.urandom(2 * MIB)
    before = live(server, "cold")
    s3.put_object(Bucket=bucket, Key="logs", Body=text, StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="noise", Body=noise, StorageClass="ONEZONE_IA")
    stored = live(server, "cold") - before
    assert stored < len(text) / 3 + len(noise) + 4096  # logs shrink, noise stays plain
    assert stored >= len(noise)
    got = s3.get_object(Bucket=bucket, Key="logs")
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["Body"].read() == text
    assert got["ETag"].strip('"') == hashlib.md5(text).hexdigest()
    for start, end in [(MIB - 5, MIB + 5), (0, 0), (2 * MIB - 1, 3 * MIB + 4)]:
        ranged = s3.get_object(Bucket=bucket, Key="logs", Range=f"bytes={start}-{end}")
        assert ranged["Body"].read() == text[start : end + 1]
    assert s3.get_object(Bucket=bucket, Key="noise")["Body"].read() == noise
    # A copy into another class's volume writes the bytes there; back again too.
    s3.copy_object(
        Bucket=bucket, Key="hot-logs", CopySource={"Bucket": bucket, "Key": "logs"},
        StorageClass="STANDARD",
    )  # fmt: skip
    s3.copy_object(
        Bucket=bucket, Key="cold-again", CopySource={"Bucket": bucket, "Key": "hot-logs"},
        StorageClass="GLACIER_IR",
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="hot-logs")["Body"].read() == text
    assert s3.get_object(Bucket=bucket, Key="cold-again")["Body"].read() == text


def test_cold_multipart_with_checksums(s3: Any, bucket: str) -> None:
    parts = [logs(5 * MIB), os.urandom(MIB)]
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key="cold-mp", StorageClass="STANDARD_IA", ChecksumAlgorithm="CRC32C"
    )["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket, Key="cold-mp", UploadId=upload, PartNumber=number, Body=data,
            ChecksumAlgorithm="CRC32C",
        )  # fmt: skip
        done.append(
            {"PartNumber": number, "ETag": reply["ETag"], "ChecksumCRC32C": reply["ChecksumCRC32C"]}
        )
    s3.complete_multipart_upload(
        Bucket=bucket, Key="cold-mp", UploadId=upload, MultipartUpload={"Parts": done}
    )
    got = s3.get_object(Bucket=bucket, Key="cold-mp", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    part = s3.get_object(Bucket=bucket, Key="cold-mp", PartNumber=1)["Body"].read()
    assert part == parts[0]


def test_archive_class_needs_a_restore(s3: Any, server: RunningServer, bucket: str) -> None:
    text = logs(MIB)
    before = live(server, "archive")
    s3.put_object(Bucket=bucket, Key="old", Body=text, StorageClass="DEEP_ARCHIVE")
    assert 0 < live(server, "archive") - before < len(text) / 3
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="old")
    assert error_of(caught) == ("InvalidObjectState", 403)
    s3.restore_object(Bucket=bucket, Key="old", RestoreRequest={"Days": 1})
    # The restore completes hours later by the store clock: test_restore.py reads it then.
    assert s3.head_object(Bucket=bucket, Key="old")["Restore"] == 'ongoing-request="true"'


def write_older_store(data_dir: Path, body: bytes) -> None:
    """A store as the version before volumes left it: a blob file and its BLOB_REFS."""
    store = LocalStore(str(data_dir / "db"), SystemClock())
    blobs = BlobStore(str(data_dir / "blobs"))
    try:
        blob_id = "ab" + os.urandom(15).hex()
        os.makedirs(os.path.dirname(blobs.path(blob_id)), exist_ok=True)
        with open(blobs.path(blob_id), "wb") as handle:
            handle.write(body)
        crc = new_hasher("CRC64NVME")
        crc.update(body)
        stamp = store.hlc.now()
        version = ObjectVersion(
            version_id="null",
            stamp=stamp,
            last_modified_ms=int(SystemClock().now_s() * 1000),
            size_bytes=len(body),
            etag=hashlib.md5(body).hexdigest(),
            segments=[Segment(blob_id, 0, len(body))],
            checksum_algorithm="CRC64NVME",
            checksum=crc.digest(),
        )
        batch = WriteBatch()
        batch.put(
            spaces.BUCKETS,
            keys.pack("older"),
            records.encode(BucketRecord("older", 1, "us-east-1")),
        )
        raw_key = object_key("older", "kept", stamp)
        batch.put(spaces.OBJECTS, raw_key, records.encode(version))
        batch.put(spaces.BLOB_REFS, blob_id.encode(), raw_key)
        store.commit_blocking(batch)
        statistics.ensure(store)
    finally:
        store.close()


def test_blob_files_of_an_older_store_stay_readable(tmp_path: Path) -> None:
    body = os.urandom(MIB + 3)
    data_dir = tmp_path / "data"
    write_older_store(data_dir, body)
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        got = s3.get_object(Bucket="older", Key="kept", ChecksumMode="ENABLED")
        assert got["Body"].read() == body
        ranged = s3.get_object(Bucket="older", Key="kept", Range="bytes=100-199")
        assert ranged["Body"].read() == body[100:200]
        s3.copy_object(Bucket="older", Key="copy", CopySource={"Bucket": "older", "Key": "kept"})
        assert s3.get_object(Bucket="older", Key="copy")["Body"].read() == body
        assert live(server, "hot") == sealed_size(len(body))  # the copy is an extent now
    finally:
        server.stop()


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(64)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def test_damaged_cold_bytes_break_the_response(tmp_path: Path) -> None:
    """A cold object is streamed decoded, not sent from its file: its bytes are sealed
    (SSE-S3), so damage to a frame kept plain or to a compressed one fails its chunk's
    authentication tag before it is decoded; either way the connection breaks short of
    Content-Length, never wrong bytes."""
    server = start_server(tmp_path / "data")
    try:
        s3 = client(
            server,
            "s3",
            s3={"addressing_style": "path"},
            response_checksum_validation="when_required",
        )
        s3.create_bucket(Bucket="damage")
        noise, text = os.urandom(3 * MIB), logs(3 * MIB)
        s3.put_object(Bucket="damage", Key="noise", Body=noise, StorageClass="STANDARD_IA")
        s3.put_object(Bucket="damage", Key="logs", Body=text, StorageClass="STANDARD_IA")
        [path] = list((tmp_path / "data" / "volumes" / "cold").glob("*.extents"))
        flip(path, 2 * MIB + 100)  # noise first (kept plain), at offset 0
        flip(path, sealed_size(len(noise)) + 100)  # then the logs' first compressed frame
        for key in ("noise", "logs"):
            with pytest.raises((BotoCoreError, ClientError, OSError)):
                s3.get_object(Bucket="damage", Key=key)["Body"].read()
        log = server.log()
        assert log.count("fails its authentication tag") >= 2
    finally:
        server.stop()
