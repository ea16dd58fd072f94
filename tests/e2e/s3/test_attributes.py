"""GetObjectAttributes end to end with boto3."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of

MIB = 1024 * 1024
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_plain_object(s3: Any, bucket: str) -> None:
    body = b"hello attributes"
    s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == hashlib.md5(body).hexdigest()  # without quotes, as S3 shows it
    assert got["Checksum"] == {
        "ChecksumSHA256": b64(hashlib.sha256(body).digest()),
        "ChecksumType": "FULL_OBJECT",
    }
    assert got["ObjectSize"] == len(body)
    assert got["StorageClass"] == "STANDARD"
    assert "ObjectParts" not in got
    assert got["LastModified"]


def test_only_requested_attributes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert got["ObjectSize"] == 3
    assert not {"ETag", "Checksum", "StorageClass"} & set(got)


def test_multipart_object_parts(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"last"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket,
            Key="mp",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="CRC32",
        )
        done.append(
            {"PartNumber": number, "ETag": reply["ETag"], "ChecksumCRC32": reply["ChecksumCRC32"]}
        )
    result = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    assert got["ETag"] == result["ETag"].strip('"')
    assert got["ObjectSize"] == sum(len(p) for p in parts)
    assert got["Checksum"]["ChecksumType"] == "COMPOSITE"
    assert got["Checksum"]["ChecksumCRC32"] == result["ChecksumCRC32"].split("-")[0]
    object_parts = got["ObjectParts"]
    assert object_parts["TotalPartsCount"] == 3
    assert object_parts["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in object_parts["Parts"]] == [
        (d["PartNumber"], len(data), d["ChecksumCRC32"])
        for d, data in zip(done, parts, strict=True)
    ]
    page = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1, PartNumberMarker=1
    )["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    assert page["MaxParts"] == 1


def test_multipart_without_checksum_has_only_a_count(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"x")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"])
    assert got["ObjectParts"] == {"TotalPartsCount": 1}


def test_storage_class_and_version(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object_attributes(
        Bucket=bucket, Key="k", VersionId=first["VersionId"], ObjectAttributes=ALL
    )
    assert got["VersionId"] == first["VersionId"]
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["ObjectSize"] == 3


def test_errors(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=ALL)
    assert error_of(caught) == ("NoSuchKey", 404)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Bogus"])
    assert error_of(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.get_object_attributes(Bucket=bucket + "-none", Key="k", ObjectAttributes=ALL)
    assert error_of(caught) == ("NoSuchBucket", 404)
