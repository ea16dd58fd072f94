"""The s3fs Python filesystem (fsspec, aiobotocore) reading and writing through Strata."""

from __future__ import annotations

import os
from typing import Any

import pytest
import s3fs

from tests.server import RunningServer

MIB = 1024 * 1024


@pytest.fixture
def fs(server: RunningServer) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        key=server.access_key,
        secret=server.secret_key,
        endpoint_url=server.endpoint,
        client_kwargs={"region_name": "us-east-1"},
        use_listings_cache=False,
        skip_instance_cache=True,
    )


def test_write_and_read_small(fs: s3fs.S3FileSystem, bucket: str) -> None:
    with fs.open(f"{bucket}/notes/hello.txt", "wb") as handle:
        handle.write(b"hello from s3fs")
    assert fs.cat(f"{bucket}/notes/hello.txt") == b"hello from s3fs"
    assert fs.exists(f"{bucket}/notes/hello.txt")
    assert fs.info(f"{bucket}/notes/hello.txt")["size"] == 15


def test_multipart_write_and_ranged_read(fs: s3fs.S3FileSystem, s3: Any, bucket: str) -> None:
    data = os.urandom(12 * MIB + 17)
    path = f"{bucket}/big.bin"
    with fs.open(path, "wb", block_size=5 * MIB) as handle:
        for start in range(0, len(data), MIB):
            handle.write(data[start : start + MIB])
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"].endswith('-3"')
    with fs.open(path, "rb", block_size=MIB) as handle:
        handle.seek(6 * MIB)
        assert handle.read(100) == data[6 * MIB : 6 * MIB + 100]
        handle.seek(0)
        assert handle.read() == data


def test_listing_copy_and_delete(fs: s3fs.S3FileSystem, bucket: str) -> None:
    for name in ["a/1.txt", "a/2.txt", "a/b/3.txt", "top.txt"]:
        fs.pipe(f"{bucket}/{name}", name.encode())
    assert sorted(fs.ls(f"{bucket}/a", detail=False)) == [
        f"{bucket}/a/1.txt",
        f"{bucket}/a/2.txt",
        f"{bucket}/a/b",
    ]
    assert sorted(fs.find(f"{bucket}")) == sorted(
        f"{bucket}/{n}" for n in ["a/1.txt", "a/2.txt", "a/b/3.txt", "top.txt"]
    )
    assert fs.glob(f"{bucket}/a/*.txt") == [f"{bucket}/a/1.txt", f"{bucket}/a/2.txt"]
    fs.copy(f"{bucket}/top.txt", f"{bucket}/copied.txt")
    assert fs.cat(f"{bucket}/copied.txt") == b"top.txt"
    fs.rm(f"{bucket}/a", recursive=True)
    assert sorted(fs.find(bucket)) == [f"{bucket}/copied.txt", f"{bucket}/top.txt"]


def test_put_and_get_files(fs: s3fs.S3FileSystem, bucket: str, tmp_path: Any) -> None:
    local = tmp_path / "local.bin"
    data = os.urandom(3 * MIB)
    local.write_bytes(data)
    fs.put(str(local), f"{bucket}/uploaded.bin")
    back = tmp_path / "back.bin"
    fs.get(f"{bucket}/uploaded.bin", str(back))
    assert back.read_bytes() == data
