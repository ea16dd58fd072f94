"""Bucket operations end to end: create, head, list, delete, location, naming rules."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of


def test_create_list_head_delete(s3: Any, unique_name: str) -> None:
    s3.create_bucket(Bucket=unique_name)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert unique_name in names
    head = s3.head_bucket(Bucket=unique_name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    s3.delete_bucket(Bucket=unique_name)
    with pytest.raises(ClientError) as caught:
        s3.head_bucket(Bucket=unique_name)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_create_twice_in_us_east_1_is_ok(s3: Any, bucket: str) -> None:
    assert s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize(
    "name",
    ["ab", "UpperCase", "a" * 64, "-leading", "trailing-", "two..dots", "192.168.1.1", "xn--abc"],
)
def test_invalid_bucket_name(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=name)
    assert error_of(caught) == ("InvalidBucketName", 400)


def test_delete_missing_bucket(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=unique_name)
    assert error_of(caught) == ("NoSuchBucket", 404)
    assert caught.value.response["Error"]["BucketName"] == unique_name


def test_delete_non_empty_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(caught) == ("BucketNotEmpty", 409)


def test_location(s3: Any, bucket: str, unique_name: str) -> None:
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    other = unique_name + "-eu"
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        assert s3.get_bucket_location(Bucket=other)["LocationConstraint"] == "eu-west-1"
    finally:
        s3.delete_bucket(Bucket=other)


def test_invalid_location_constraint(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(
            Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )
    assert error_of(caught) == ("InvalidLocationConstraint", 400)


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(caught) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_missing_bucket_operations(s3: Any, unique_name: str) -> None:
    for call in (
        lambda: s3.list_objects_v2(Bucket=unique_name),
        lambda: s3.put_object(Bucket=unique_name, Key="k", Body=b"x"),
        lambda: s3.get_object(Bucket=unique_name, Key="k"),
        lambda: s3.get_bucket_versioning(Bucket=unique_name),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("NoSuchBucket", 404)
