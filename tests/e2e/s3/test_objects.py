"""Object operations end to end: put, get, head, delete, metadata, ranges, conditions."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of


@pytest.mark.parametrize("size", [0, 1, 1000, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7])
def test_put_get_roundtrip(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key="obj", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="obj")
    assert got["Body"].read() == data
    assert got["ContentLength"] == size
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "binary/octet-stream"
    assert "ContentEncoding" not in got  # aws-chunked is transfer framing, not stored


def test_head_and_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket,
        Key="m",
        Body=b"hello",
        ContentType="text/plain",
        ContentDisposition="attachment",
        ContentLanguage="en",
        CacheControl="no-cache",
        ContentEncoding="identity",
        Metadata={"color": "blue", "Shape": "round"},
    )
    head = s3.head_object(Bucket=bucket, Key="m")
    assert head["ContentLength"] == 5
    assert head["ContentType"] == "text/plain"
    assert head["ContentDisposition"] == "attachment"
    assert head["ContentLanguage"] == "en"
    assert head["CacheControl"] == "no-cache"
    assert head["ContentEncoding"] == "identity"
    assert head["Metadata"] == {"color": "blue", "shape": "round"}
    assert head["LastModified"] is not None


def test_get_missing_key(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="missing")
    assert error_of(caught) == ("NoSuchKey", 404)
    assert caught.value.response["Error"]["Key"] == "missing"


def test_head_missing_key(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="missing")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_overwrite_and_delete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two" * 30000)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two" * 30000
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="k")
    # Deleting a missing key is not an error.
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "a//b", "/leading", "unicodé/ключ/鍵", "sp ace+plus%percent", "a?b#c&d=e"],
)
def test_keys_are_data(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [key]


def test_key_too_long(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"ok")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_of(caught) == ("KeyTooLongError", 400)


def test_metadata_too_large(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"big": "v" * 2100})
    assert error_of(caught) == ("MetadataTooLarge", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


@pytest.mark.parametrize(
    ("header", "expected", "status"),
    [
        ("bytes=0-9", b"0123456789", 206),
        ("bytes=90-", bytes(range(48, 58)), 206),
        ("bytes=-5", b"56789", 206),
        ("bytes=95-200", b"56789", 206),
    ],
)
def test_range(s3: Any, bucket: str, header: str, expected: bytes, status: int) -> None:
    data = b"0123456789" * 10
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == status
    assert got["Body"].read() == expected
    assert got["ContentRange"].endswith("/100")


def test_range_large_blob(s3: Any, bucket: str) -> None:
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=100000-199999")
    assert got["Body"].read() == data[100000:200000]
    assert got["ContentRange"] == "bytes 100000-199999/300000"


def test_invalid_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"abc")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert error_of(caught) == ("InvalidRange", 416)


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="max-age=5",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "max-age=5"


def test_get_conditions(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"data")
    etag = put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"other"')
    assert error_of(caught) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    last_modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=last_modified)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=last_modified.replace(year=2000))
    assert error_of(caught) == ("PreconditionFailed", 412)
    # If-Match true wins over a failing If-Unmodified-Since.
    got = s3.get_object(
        Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=last_modified.replace(year=2000)
    )
    assert got["Body"].read() == b"data"
    # If-None-Match false (other ETag) wins over If-Modified-Since: 200.
    got = s3.get_object(
        Bucket=bucket, Key="c", IfNoneMatch='"other"', IfModifiedSince=last_modified
    )
    assert got["Body"].read() == b"data"


def test_conditional_put(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error_of(caught) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch='"nope"')
    assert error_of(caught) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="once", Body=b"fourth", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"fourth"
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert error_of(caught) == ("NoSuchKey", 404)


def test_concurrent_creators_one_wins(s3: Any, bucket: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(i: int) -> str:
        try:
            s3.put_object(Bucket=bucket, Key="race", Body=os.urandom(100_000), IfNoneMatch="*")
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "created"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count("created") == 1
    assert results.count("PreconditionFailed") == 15


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert tags == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "x", "Value": "y"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    with pytest.raises(ClientError) as caught:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": too_many})
    assert error_of(caught) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as caught:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert error_of(caught) == ("NoSuchKey", 404)
