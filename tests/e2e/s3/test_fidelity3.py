"""Third fidelity pass: behaviours checked against S3's documentation and public suites."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of

MIB = 1024 * 1024


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# ---- listing ----------------------------------------------------------------------------


def test_max_keys_is_echoed_as_sent_and_a_page_stops_at_1000(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"")
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)["MaxKeys"] == 5000
    assert s3.list_objects(Bucket=bucket, MaxKeys=1500)["MaxKeys"] == 1500
    assert s3.list_object_versions(Bucket=bucket, MaxKeys=2000)["MaxKeys"] == 2000
    assert s3.list_objects_v2(Bucket=bucket)["MaxKeys"] == 1000
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=bucket, MaxKeys=-1)
    assert error_of(caught) == ("InvalidArgument", 400)


# ---- GET/HEAD with partNumber --------------------------------------------------------------


def _multipart(s3: Any, bucket: str, key: str, parts: list[bytes], algorithm: str) -> Any:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)
    done = []
    for number, body in enumerate(parts, 1):
        reply = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm=algorithm,
        )
        done.append(
            {
                "PartNumber": number,
                "ETag": reply["ETag"],
                f"Checksum{algorithm}": reply[f"Checksum{algorithm}"],
            }
        )
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )


def test_part_number_read_answers_that_parts_checksum(s3: Any, bucket: str) -> None:
    first, second = b"a" * (5 * MIB), b"tail"
    _multipart(s3, bucket, "mp", [first, second], "CRC32")
    for call in (s3.get_object, s3.head_object):
        reply = call(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
        assert reply["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert reply["ChecksumCRC32"] == crc32_b64(second)
        assert reply["ChecksumType"] == "COMPOSITE"
        reply = call(Bucket=bucket, Key="mp", PartNumber=1, ChecksumMode="ENABLED")
        assert reply["ChecksumCRC32"] == crc32_b64(first)
    # The whole object still answers the object's checksum ("<b64>-N").
    whole = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert whole["ChecksumCRC32"].endswith("-2")
    # A plain object is its own single part: part 1's checksum is the object's.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"hello", ChecksumAlgorithm="CRC32")
    reply = s3.get_object(Bucket=bucket, Key="plain", PartNumber=1, ChecksumMode="ENABLED")
    assert reply["ChecksumCRC32"] == crc32_b64(b"hello")


def test_part_number_one_of_an_empty_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    for call in (s3.get_object, s3.head_object):
        reply = call(Bucket=bucket, Key="empty", PartNumber=1)
        assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert reply["ContentLength"] == 0
        assert "ContentRange" not in reply
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="empty", PartNumber=2)
    assert error_of(caught) == ("InvalidPartNumber", 416)


def test_suffix_range_of_an_empty_object_is_the_whole_of_it(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    reply = s3.get_object(Bucket=bucket, Key="empty", Range="bytes=-512")
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert reply["Body"].read() == b""
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-")
    assert error_of(caught) == ("InvalidRange", 416)


# ---- DeleteObjects ----------------------------------------------------------------------------


def test_delete_objects_version_ids_in_a_versioned_bucket(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    # A well-formed id that names nothing: deleted (nothing to do), as S3 answers.
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": version}]}
    )
    assert result["Deleted"] == [{"Key": "k", "VersionId": version}]
    # A malformed one: a per-key InvalidArgument, the request itself succeeds.
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": "bogus"}]}
    )
    assert result["Errors"][0]["Code"] == "InvalidArgument"
    assert result["Errors"][0]["Message"] == "Invalid version id specified"


# ---- storage classes and archived objects ----------------------------------------------------


@pytest.mark.parametrize(
    "storage_class",
    ["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "REDUCED_REDUNDANCY"],
)
def test_storage_classes_are_kept(s3: Any, bucket: str, storage_class: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass=storage_class)
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == storage_class
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert listed[0]["StorageClass"] == storage_class


@pytest.mark.parametrize("storage_class", ["BOGUS", "standard", "OUTPOSTS", "EXPRESS_ONEZONE"])
def test_invalid_storage_class(s3: Any, bucket: str, storage_class: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass=storage_class)
    assert error_of(caught) == ("InvalidStorageClass", 400)
    assert caught.value.response["Error"]["StorageClassRequested"] == storage_class
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=bucket, Key="k", StorageClass=storage_class)
    assert error_of(caught) == ("InvalidStorageClass", 400)


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_object_needs_a_restore(s3: Any, bucket: str, storage_class: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"cold", StorageClass=storage_class)
    head = s3.head_object(Bucket=bucket, Key="k")  # HEAD answers; no restore yet
    assert head["StorageClass"] == storage_class
    assert "Restore" not in head
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("InvalidObjectState", 403)
    assert caught.value.response["Error"]["StorageClass"] == storage_class
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(caught) == ("InvalidObjectState", 403)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="mp",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "k"},
        )
    assert error_of(caught) == ("InvalidObjectState", 403)
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
    reply = s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 2})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    # A restore takes hours by the store clock (test_restore.py moves it): until then
    # the object says so and still cannot be read; a second request is refused.
    assert s3.head_object(Bucket=bucket, Key="k")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 3})
    assert error_of(caught) == ("RestoreAlreadyInProgress", 409)


def test_restore_of_an_object_not_archived(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="GLACIER_IR")
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 1})
    assert error_of(caught) == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="missing", RestoreRequest={"Days": 1})
    assert error_of(caught) == ("NoSuchKey", 404)


# ---- buckets ---------------------------------------------------------------------------


def test_location_constraint_must_match_a_regional_endpoint(server: Any, unique_name: str) -> None:
    eu = boto3_client_for(server, "eu-west-1")
    with pytest.raises(ClientError) as caught:
        eu.create_bucket(
            Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
    assert error_of(caught) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as caught:
        eu.create_bucket(Bucket=unique_name)
    assert error_of(caught) == ("IllegalLocationConstraintException", 400)
    assert "unspecified" in caught.value.response["Error"]["Message"]
    eu.create_bucket(
        Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    try:
        head = eu.head_bucket(Bucket=unique_name)
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
        assert eu.get_bucket_location(Bucket=unique_name)["LocationConstraint"] == "eu-west-1"
    finally:
        eu.delete_bucket(Bucket=unique_name)


def boto3_client_for(server: Any, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=region,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
