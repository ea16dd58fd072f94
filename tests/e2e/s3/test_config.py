"""ListBuckets paging, ACLs (bucket owner enforced) and the configurations a new bucket has."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_http import signed
from tests.server import RunningServer


@pytest.fixture
def buckets(s3: Any) -> Any:
    prefix = f"lb-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{i}" for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    yield prefix, names
    for name in names:
        s3.delete_bucket(Bucket=name)


def test_list_buckets_owner_is_the_id_alone(s3: Any, bucket: str) -> None:
    reply = s3.list_buckets()
    assert set(reply["Owner"]) == {"ID"}  # S3 stopped returning DisplayName
    entry = next(b for b in reply["Buckets"] if b["Name"] == bucket)
    assert "BucketRegion" not in entry  # only once a paging parameter is sent
    assert "ContinuationToken" not in reply
    assert "Prefix" not in reply


def test_list_buckets_pages(s3: Any, buckets: Any) -> None:
    prefix, names = buckets
    first = s3.list_buckets(MaxBuckets=2, Prefix=prefix)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    assert first["Prefix"] == prefix
    assert all(b["BucketRegion"] == "us-east-1" for b in first["Buckets"])
    second = s3.list_buckets(
        MaxBuckets=2, Prefix=prefix, ContinuationToken=first["ContinuationToken"]
    )
    assert [b["Name"] for b in second["Buckets"]] == names[2:]
    assert "ContinuationToken" not in second
    pages = s3.get_paginator("list_buckets").paginate(
        Prefix=prefix, PaginationConfig={"PageSize": 1}
    )
    assert [b["Name"] for page in pages for b in page["Buckets"]] == names
    assert s3.list_buckets(Prefix=prefix, BucketRegion="us-east-1")["Buckets"]
    # Another region's buckets are only listed by that region's endpoint.
    with pytest.raises(ClientError) as caught:
        s3.list_buckets(Prefix=prefix, BucketRegion="eu-west-1")
    assert error_of(caught) == ("InvalidArgument", 400)
    assert caught.value.response["Error"]["ArgumentName"] == "bucket-region"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("max-buckets=abc", "Provided max-buckets not an integer or within integer range"),
        ("max-buckets=0", "Argument max-buckets must be an integer between 1 and 10000."),
        ("max-buckets=10001", "Argument max-buckets must be an integer between 1 and 10000."),
        ("bucket-region=zz", "Argument value zz is not a valid AWS Region"),
        ("continuation-token=forged", "The continuation token provided is incorrect"),
    ],
)
def test_list_buckets_bad_parameters(server: RunningServer, query: str, message: str) -> None:
    status, _, body = signed(server, "GET", f"/?{query}")
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body
    assert f"<Message>{message}</Message>".encode() in body


def test_list_objects_v2_forged_token(s3: Any, bucket: str) -> None:
    for key in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    token = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)["NextContinuationToken"]
    assert s3.list_objects_v2(Bucket=bucket, ContinuationToken=token)["Contents"][0]["Key"] == "b"
    import base64

    for forged in ("garbage", base64.urlsafe_b64encode(b"a").decode(), token[:-4]):
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket=bucket, ContinuationToken=forged)
        assert error_of(caught) == ("InvalidArgument", 400)


def test_max_keys_zero_is_an_empty_page(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    reply = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert reply["KeyCount"] == 0
    assert not reply["IsTruncated"]
    assert "Contents" not in reply
    assert "NextContinuationToken" not in reply
    assert not s3.list_objects(Bucket=bucket, MaxKeys=0)["IsTruncated"]
    assert not s3.list_object_versions(Bucket=bucket, MaxKeys=0)["IsTruncated"]


def test_acls_are_the_owners(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    for acl in (s3.get_bucket_acl(Bucket=bucket), s3.get_object_acl(Bucket=bucket, Key="k")):
        owner = acl["Owner"]["ID"]
        assert acl["Grants"] == [
            {"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
        ]
    acl = s3.get_bucket_acl(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(
        Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]}
    )
    s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f"id={acl['Owner']['ID']}")
    with pytest.raises(ClientError) as caught:
        s3.get_object_acl(Bucket=bucket, Key="missing")
    assert error_of(caught) == ("NoSuchKey", 404)


def test_acls_granting_others_are_refused(s3: Any, bucket: str) -> None:
    other = f"{bucket}-acl"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    public = {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}
    acl = s3.get_bucket_acl(Bucket=bucket)
    attempts = [
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"x", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead="id=someone"),
        lambda: s3.put_bucket_acl(
            Bucket=bucket,
            AccessControlPolicy={
                "Owner": acl["Owner"],
                "Grants": [*acl["Grants"], {"Grantee": public, "Permission": "READ"}],
            },
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as caught:
            attempt()
        assert error_of(caught) == ("AccessControlListNotSupported", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="p")
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=other, ACL="public-read")
    assert error_of(caught) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.create_bucket(Bucket=other, ACL="private")
    s3.delete_bucket(Bucket=other)


def test_new_bucket_configurations(s3: Any, bucket: str) -> None:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rules[0]["BucketKeyEnabled"] is False
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert len(block) == 4
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    for call in (
        s3.get_bucket_logging,
        s3.get_bucket_notification_configuration,
        s3.get_bucket_accelerate_configuration,
    ):
        reply = call(Bucket=bucket)
        reply.pop("ResponseMetadata")
        assert reply == {}
    assert s3.list_bucket_metrics_configurations(Bucket=bucket)["IsTruncated"] is False


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("get_bucket_policy", "NoSuchBucketPolicy"),
        ("get_bucket_policy_status", "NoSuchBucketPolicy"),
        ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
        ("get_bucket_website", "NoSuchWebsiteConfiguration"),
        ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError"),
        ("get_bucket_replication", "ReplicationConfigurationNotFoundError"),
    ],
)
def test_absent_configurations(s3: Any, bucket: str, operation: str, code: str) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(s3, operation)(Bucket=bucket)
    assert error_of(caught) == (code, 404)
    assert caught.value.response["Error"]["BucketName"] == bucket


def test_deleting_absent_configurations(s3: Any, bucket: str) -> None:
    for call in (s3.delete_bucket_policy, s3.delete_bucket_lifecycle, s3.delete_bucket_website):
        assert call(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.parametrize(
    "operation",
    ["get_bucket_acl", "get_bucket_encryption", "get_bucket_policy", "get_public_access_block"],
)
def test_configurations_of_a_missing_bucket(s3: Any, unique_name: str, operation: str) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(s3, operation)(Bucket=unique_name)
    assert error_of(caught) == ("NoSuchBucket", 404)
