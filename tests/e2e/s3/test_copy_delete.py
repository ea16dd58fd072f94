"""CopyObject and DeleteObjects end to end."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of


@pytest.mark.parametrize("size", [10, 200_000])
def test_copy(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key="src", Body=data, Metadata={"a": "1"}, ContentType="x/y")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"a": "1"}
    assert got["ContentType"] == "x/y"
    # The source survives deleting the copy and vice versa.
    s3.delete_object(Bucket=bucket, Key="dst")
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == data


def test_copy_replace_metadata_and_self(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"a": "1"})
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(caught) == ("InvalidRequest", 400)
    s3.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/plain",
    )
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "text/plain"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_copy_errors_and_conditions(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(caught) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket + "x", "Key": "k"})
    assert error_of(caught) == ("NoSuchBucket", 404)
    etag = s3.put_object(Bucket=bucket, Key="s", Body=b"s")["ETag"]
    s3.copy_object(
        Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "s"}, CopySourceIfMatch=etag
    )
    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket=bucket,
            Key="d",
            CopySource={"Bucket": bucket, "Key": "s"},
            CopySourceIfNoneMatch=etag,
        )
    assert error_of(caught) == ("PreconditionFailed", 412)


def test_copy_version(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="s", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="s", Body=b"two")
    copied = s3.copy_object(
        Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "s", "VersionId": v1}
    )
    assert copied["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"one"


def test_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "zz"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    # A bucket never versioned has no version but "null": any other id is NoSuchVersion.
    errors = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "c", "VersionId": "bogus"}]}
    )
    assert errors["Errors"][0]["Code"] == "NoSuchVersion"
    assert errors["Errors"][0]["VersionId"] == "bogus"
    assert "Deleted" not in errors
    s3.put_object(Bucket=bucket, Key="n", Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "n", "VersionId": "null"}]}
    )
    assert result["Deleted"] == [{"Key": "n", "VersionId": "null"}]


def test_delete_objects_versioned(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="a", Body=b"x")["VersionId"]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}]})
    assert result["Deleted"][0]["DeleteMarker"] is True
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": version}]}
    )
    assert result["Deleted"][0]["VersionId"] == version


def test_delete_objects_malformed(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": str(i)} for i in range(1001)]})
    assert error_of(caught) == ("MalformedXML", 400)
