"""kill -9 during concurrent PutObjects and multipart completes, then restart.

Every acknowledged object must be there with its bytes and checksum, nothing half-written
may be visible, and the extents must be consistent: every reference has a location in an
existing file long enough for it, and every location is referenced.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from strata.storage import keys, spaces
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore
from strata.storage.volumes.extent import ID_BYTES, REFERENCE, all_extents
from tests.server import RunningServer, start_server

MIB = 1024 * 1024
WRITERS = 6
UPLOADS = 8
ACKS_BEFORE_KILL = 40


def client(server: RunningServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=WRITERS + 4,
        ),
    )


class Ledger:
    """What each key was attempted with, and what was acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempted: dict[str, bytes] = {}  # key -> sha256 of the body sent
        self.acked: dict[str, bytes] = {}
        self.enough = threading.Event()

    def attempt(self, key: str, digest: bytes) -> None:
        with self.lock:
            self.attempted[key] = digest

    def ack(self, key: str, digest: bytes) -> None:
        with self.lock:
            self.acked[key] = digest
            if len(self.acked) >= ACKS_BEFORE_KILL:
                self.enough.set()


def body_for(n: int) -> bytes:
    # Mix inline-sized and blob-sized objects.
    size = 1000 if n % 2 else 300 * 1024 + n
    return os.urandom(size)


def writer(s3: Any, bucket: str, name: int, ledger: Ledger) -> None:
    n = 0
    while True:
        key = f"put/{name}/{n}"
        body = body_for(n)
        digest = hashlib.sha256(body).digest()
        ledger.attempt(key, digest)
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except (ClientError, BotoCoreError):
            return
        ledger.ack(key, digest)
        n += 1


def completer(
    s3: Any, bucket: str, uploads: list[tuple[str, str, Any, bytes]], ledger: Ledger
) -> None:
    for key, upload_id, parts, digest in uploads:
        ledger.attempt(key, digest)
        try:
            s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except (ClientError, BotoCoreError):
            return
        ledger.ack(key, digest)


def part_uploader(s3: Any, bucket: str) -> None:
    """Keeps uploading parts of one more upload: in-flight blobs at the moment of the kill."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="inflight")["UploadId"]
    number = 1
    while number <= 10_000:
        try:
            s3.upload_part(
                Bucket=bucket, Key="inflight", UploadId=upload_id, PartNumber=number,
                Body=os.urandom(512 * 1024),
            )  # fmt: skip
        except (ClientError, BotoCoreError):
            return
        number += 1


def prepare_uploads(s3: Any, bucket: str) -> list[tuple[str, str, Any, bytes]]:
    prepared = []
    for i in range(UPLOADS):
        key = f"mp/{i}"
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        datas = [os.urandom(5 * MIB), os.urandom(1000 + i)]
        parts = []
        for number, data in enumerate(datas, start=1):
            reply = s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": reply["ETag"]})
        prepared.append((key, upload_id, parts, hashlib.sha256(b"".join(datas)).digest()))
    return prepared


def check_extents(data_dir: Path) -> None:
    """With the server stopped: references, locations and extent files agree."""
    store = LocalStore(str(data_dir / "db"), SystemClock())
    try:
        assert list(store.scan(spaces.BLOB_REFS, b"")) == []  # no blob files any more
        located = dict(all_extents(store))
        referenced = {key[1 : 1 + ID_BYTES].decode() for key, _ in store.scan(
            spaces.EXTENTS, REFERENCE, keys.prefix_end(REFERENCE)
        )}  # fmt: skip
    finally:
        store.close()
    assert referenced == set(located)
    for extent in located.values():
        path = data_dir / "volumes" / extent.volume / extent.file
        assert path.stat().st_size >= extent.offset + extent.stored_bytes


def test_kill_during_writes_and_completes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = client(server)
        bucket = "crash-bucket"
        s3.create_bucket(Bucket=bucket)
        uploads = prepare_uploads(s3, bucket)
        ledger = Ledger()
        threads = [
            threading.Thread(target=writer, args=(s3, bucket, i, ledger)) for i in range(WRITERS)
        ]
        threads.append(threading.Thread(target=completer, args=(s3, bucket, uploads, ledger)))
        threads.append(threading.Thread(target=part_uploader, args=(s3, bucket)))
        for thread in threads:
            thread.start()
        ledger.enough.wait()
        server.kill()
        for thread in threads:
            thread.join()
    finally:
        server.kill()

    server = start_server(data_dir)
    try:
        s3 = client(server)
        # Every acknowledged object: right bytes, and the stored checksum validates
        # (botocore checks the full-object CRC it is given against what it receives).
        for key, digest in ledger.acked.items():
            got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            assert hashlib.sha256(got["Body"].read()).digest() == digest, key
            assert got["ChecksumType"] == "FULL_OBJECT", key
        # Nothing half-written: whatever is visible is exactly what was sent for it.
        visible = [
            obj["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        ]
        assert set(ledger.acked) <= set(visible)
        for key in visible:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert hashlib.sha256(body).digest() == ledger.attempted[key], key
    finally:
        server.stop()

    assert list((data_dir / "blobs" / "tmp").iterdir()) == []
    check_extents(data_dir)
