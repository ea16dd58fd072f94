"""Bucket policies end to end with boto3: stored and validated as S3 does, public status,
anonymous access through a policy, and Block Public Access refusing or restricting it."""
# ruff: noqa: E501 - policies and AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import empty_bucket, error_of
from tests.server import RunningServer

OPEN_BPA = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def public_read(bucket: str) -> str:
    return policy({
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    })  # fmt: skip


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    yield unique_name
    s3.delete_bucket_policy(Bucket=unique_name)
    empty_bucket(s3, unique_name)


@pytest.fixture(scope="module")
def anonymous(server: RunningServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=Config(
            signature_version=UNSIGNED, s3={"addressing_style": "path"}, retries={"max_attempts": 1}
        ),
    )


def test_put_get_delete(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(caught) == ("NoSuchBucketPolicy", 404)
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy_status(Bucket=bucket)
    assert error_of(caught) == ("NoSuchBucketPolicy", 404)
    text = policy({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    })  # fmt: skip
    put = s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    deleted = s3.delete_bucket_policy(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(caught) == ("NoSuchBucketPolicy", 404)
    # deleting again is still 204
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_no_such_bucket(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=unique_name, Policy=public_read(unique_name))
    assert error_of(caught) == ("NoSuchBucket", 404)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda b: "not json", "Policies must be valid JSON and the first byte must be '{'"),
        (lambda b: policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}), "Missing required field Principal"),
        (lambda b: policy({"Effect": "Allow", "Principal": {"AWS": "someone"}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}), "Invalid principal in policy"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::another-bucket/*"}), "Policy has invalid resource"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "nonsense"}), "Policy has invalid resource"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": f"arn:aws:s3:::{b}/*"}), "Policy has invalid action"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "GetObject", "Resource": f"arn:aws:s3:::{b}/*"}), "Policy has invalid action"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}"}), "Action does not apply to any resource(s) in statement"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{b}/*"}), "Action does not apply to any resource(s) in statement"),
        (lambda b: policy({"Effect": "Allow", "Principal": "*", "Resource": f"arn:aws:s3:::{b}/*"}), "Missing required field Action"),
    ],
)  # fmt: skip
def test_malformed_policy(s3: Any, bucket: str, make: Any, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=make(bucket))
    assert error_of(caught) == ("MalformedPolicy", 400)
    assert caught.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError) as absent:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(absent) == ("NoSuchBucketPolicy", 404)


def test_block_public_policy_refuses_a_public_policy(s3: Any, bucket: str) -> None:
    # a new bucket blocks public access: a public policy is refused, nothing stored
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert error_of(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
    # a public policy bound to a specific network is not public: allowed
    fixed = policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    })  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=fixed)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN_BPA)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_anonymous_access_through_a_bucket_policy(
    s3: Any, anonymous: Any, bucket: str, server: RunningServer
) -> None:
    s3.put_object(Bucket=bucket, Key="public/cat.txt", Body=b"meow")
    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket=bucket, Key="public/cat.txt")
    assert error_of(caught) == ("AccessDenied", 403)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN_BPA)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert anonymous.get_object(Bucket=bucket, Key="public/cat.txt")["Body"].read() == b"meow"
    # plain HTTP, no SDK: a browser's GET
    assert requests.get(f"{server.endpoint}/{bucket}/public/cat.txt", timeout=10).content == b"meow"
    # only what the policy names: no listing, no writes, no deletes; nothing changes
    with pytest.raises(ClientError) as caught:
        anonymous.list_objects_v2(Bucket=bucket)
    assert error_of(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        anonymous.put_object(Bucket=bucket, Key="public/dog.txt", Body=b"woof")
    assert error_of(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        anonymous.delete_object(Bucket=bucket, Key="public/cat.txt")
    assert error_of(caught) == ("AccessDenied", 403)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["public/cat.txt"]
    # RestrictPublicBuckets: the public policy no longer lets anonymous callers in
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**OPEN_BPA, "RestrictPublicBuckets": True}
    )
    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket=bucket, Key="public/cat.txt")
    assert error_of(caught) == ("AccessDenied", 403)
    assert (
        s3.get_object(Bucket=bucket, Key="public/cat.txt")["Body"].read() == b"meow"
    )  # root still can
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN_BPA)
    assert anonymous.get_object(Bucket=bucket, Key="public/cat.txt")["Body"].read() == b"meow"
    # an explicit deny for everyone under a prefix beats the public allow
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/private/*"},
    ))  # fmt: skip
    s3.put_object(Bucket=bucket, Key="private/secret.txt", Body=b"hush")
    with pytest.raises(ClientError) as caught:
        anonymous.get_object(Bucket=bucket, Key="private/secret.txt")
    assert error_of(caught) == ("AccessDenied", 403)
    assert anonymous.get_object(Bucket=bucket, Key="public/cat.txt")["Body"].read() == b"meow"


def test_anonymous_listing_with_a_prefix_condition(s3: Any, anonymous: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=OPEN_BPA)
    for key in ("docs/a", "docs/b", "secret/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"StringLike": {"s3:prefix": "docs/*"}},
    }))  # fmt: skip
    listed = anonymous.list_objects_v2(Bucket=bucket, Prefix="docs/")
    assert [o["Key"] for o in listed["Contents"]] == ["docs/a", "docs/b"]
    for prefix in ("secret/", None):
        with pytest.raises(ClientError) as caught:
            anonymous.list_objects_v2(Bucket=bucket, **({"Prefix": prefix} if prefix else {}))
        assert error_of(caught) == ("AccessDenied", 403)


def test_the_policy_goes_with_the_bucket(s3: Any, unique_name: str) -> None:
    s3.create_bucket(Bucket=unique_name)
    s3.put_public_access_block(Bucket=unique_name, PublicAccessBlockConfiguration=OPEN_BPA)
    s3.put_bucket_policy(Bucket=unique_name, Policy=public_read(unique_name))
    s3.delete_bucket(Bucket=unique_name)
    s3.create_bucket(Bucket=unique_name)
    try:
        with pytest.raises(ClientError) as caught:
            s3.get_bucket_policy(Bucket=unique_name)
        assert error_of(caught) == ("NoSuchBucketPolicy", 404)
    finally:
        s3.delete_bucket(Bucket=unique_name)
