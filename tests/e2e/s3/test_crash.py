"""kill -9 during concurrent uploads: acknowledged objects survive, nothing half-written shows."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.server import RunningServer, start_server


def client(server: RunningServer) -> object:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def blob_files(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return [p for p in root.glob("*/*") if p.parent.name != "tmp"]


@pytest.mark.slow
def test_kill_during_uploads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    s3 = client(server)
    s3.create_bucket(Bucket="crash")  # type: ignore[attr-defined]
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker: int) -> None:
        s3w = client(server)
        n = 0
        while not stop.is_set():
            key = f"w{worker}/{n}"
            data = os.urandom(100_000 + n)
            try:
                s3w.put_object(Bucket="crash", Key=key, Body=data)  # type: ignore[attr-defined]
            except (ClientError, BotoCoreError, OSError):
                return
            with lock:
                acknowledged[key] = hashlib.md5(data).hexdigest()
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert acknowledged

    server = start_server(data_dir)
    try:
        s3 = client(server)
        listed = {
            o["Key"]: o["ETag"].strip('"')
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash")  # type: ignore[attr-defined]
            for o in page.get("Contents", [])
        }
        for key, md5 in acknowledged.items():
            assert listed.get(key) == md5, key
        for key in listed:
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()  # type: ignore[attr-defined]
            assert hashlib.md5(body).hexdigest() == listed[key]
        # Every remaining blob belongs to a listed object: partial and orphan blobs are gone.
        assert len(blob_files(data_dir)) == len(listed)
        assert not list((data_dir / "blobs" / "tmp").iterdir())
    finally:
        server.stop()
