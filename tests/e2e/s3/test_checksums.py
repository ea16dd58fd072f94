"""Checksums on PutObject (header and trailer), Content-MD5, and checksum mode on GET."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_trailer_checksum_roundtrip(s3: Any, bucket: str, algorithm: str) -> None:
    data = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got[f"Checksum{algorithm}"] == value
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value


def test_default_crc32_matches(s3: Any, bucket: str) -> None:
    data = b"hello world"
    put = s3.put_object(Bucket=bucket, Key="k", Body=data)
    expected = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert put["ChecksumCRC32"] == expected


def test_header_checksum_mismatch(s3: Any, bucket: str) -> None:
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumSHA256=wrong)
    assert error_of(caught) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_header_checksum_invalid(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumCRC32="notvalid")
    assert error_of(caught) == ("InvalidRequest", 400)


def test_header_checksum_ok(s3: Any, bucket: str) -> None:
    value = base64.b64encode(hashlib.sha1(b"data").digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumSHA1=value)
    assert put["ChecksumSHA1"] == value


def test_content_md5(s3: Any, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"data", ContentMD5=bad)
    assert error_of(caught) == ("BadDigest", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"data", ContentMD5="xx")
    assert error_of(caught) == ("InvalidDigest", 400)
