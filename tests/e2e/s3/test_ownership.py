"""Object Ownership, Block Public Access, and ACLs that follow them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import empty_bucket, error_of

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def grants_of(reply: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for grant in reply["Grants"]:
        grantee = grant["Grantee"]
        out.add((grantee.get("URI") or grantee.get("ID") or "", grant["Permission"]))
    return out


@pytest.fixture
def writer_bucket(s3: Any, unique_name: str) -> Any:
    s3.create_bucket(Bucket=unique_name, ObjectOwnership="ObjectWriter")
    yield unique_name
    empty_bucket(s3, unique_name)


def test_create_bucket_ownership_is_kept(s3: Any, writer_bucket: str) -> None:
    rules = s3.get_bucket_ownership_controls(Bucket=writer_bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]


def test_ownership_controls_put_get_delete(s3: Any, bucket: str) -> None:
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    )
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error_of(caught) == ("OwnershipControlsNotFoundError", 404)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]}
        )
    assert error_of(caught) == ("MalformedXML", 400)


def test_public_access_block_put_get_delete(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": False, "BlockPublicPolicy": True},
    )
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False,
    }
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.get_public_access_block(Bucket=bucket)
    assert error_of(caught) == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_bucket_acl_follows_ownership(s3: Any, writer_bucket: str) -> None:
    # ACLs are enabled, but Block Public Access refuses a public one.
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=writer_bucket, ACL="public-read")
    assert error_of(caught) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=writer_bucket)
    s3.put_bucket_acl(Bucket=writer_bucket, ACL="public-read")
    assert (ALL_USERS, "READ") in grants_of(s3.get_bucket_acl(Bucket=writer_bucket))
    # Enforcing ownership while the ACL grants others is refused.
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_ownership_controls(
            Bucket=writer_bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
    assert error_of(caught) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.put_bucket_acl(Bucket=writer_bucket, ACL="private")
    assert len(s3.get_bucket_acl(Bucket=writer_bucket)["Grants"]) == 1
    s3.put_bucket_ownership_controls(
        Bucket=writer_bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=writer_bucket, ACL="public-read")
    assert error_of(caught) == ("AccessControlListNotSupported", 400)


def test_object_acl_follows_ownership(s3: Any, writer_bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=writer_bucket, Key="k", Body=b"x", ACL="public-read")
    assert error_of(caught) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=writer_bucket)
    s3.put_object(Bucket=writer_bucket, Key="k", Body=b"x", ACL="public-read")
    assert (ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=writer_bucket, Key="k"))
    # A new version of the key has its own ACL.
    s3.put_object(Bucket=writer_bucket, Key="k", Body=b"y")
    assert len(s3.get_object_acl(Bucket=writer_bucket, Key="k")["Grants"]) == 1
    s3.put_object_acl(Bucket=writer_bucket, Key="k", ACL="public-read-write")
    assert {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")} <= grants_of(
        s3.get_object_acl(Bucket=writer_bucket, Key="k")
    )
    upload = s3.create_multipart_upload(Bucket=writer_bucket, Key="mp", ACL="public-read")
    s3.abort_multipart_upload(Bucket=writer_bucket, Key="mp", UploadId=upload["UploadId"])


def test_create_bucket_with_acl(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=unique_name, ACL="public-read")
    assert error_of(caught) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.create_bucket(Bucket=unique_name, ACL="private", ObjectOwnership="ObjectWriter")
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=unique_name)["OwnershipControls"]
        assert rules["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    finally:
        s3.delete_bucket(Bucket=unique_name)
    # A bucket created again under the same name starts from the defaults.
    s3.create_bucket(Bucket=unique_name)
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=unique_name)["OwnershipControls"]
        assert rules["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    finally:
        s3.delete_bucket(Bucket=unique_name)


def test_invalid_canned_acl_names_the_value(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=bucket, ACL="privatee")
    assert error_of(caught) == ("InvalidArgument", 400)
    error = caught.value.response["Error"]
    assert error["ArgumentName"] == "x-amz-acl"
    assert error["ArgumentValue"] == "privatee"
    assert not error.get("Message")  # S3 sends an empty message


def test_unknown_grantee_in_a_bucket_taking_acls(s3: Any, writer_bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=writer_bucket, GrantRead="id=someone")
    assert error_of(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=writer_bucket, GrantRead="emailAddress=a@example.com")
    assert error_of(caught) == ("UnresolvableGrantByEmailAddress", 400)


def test_object_acl_is_written_with_the_version(s3: Any, writer_bucket: str) -> None:
    s3.delete_public_access_block(Bucket=writer_bucket)
    s3.put_object(Bucket=writer_bucket, Key="src", Body=b"x")
    s3.copy_object(
        Bucket=writer_bucket,
        Key="copy",
        CopySource={"Bucket": writer_bucket, "Key": "src"},
        ACL="public-read",
    )
    assert (ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=writer_bucket, Key="copy"))
    assert len(s3.get_object_acl(Bucket=writer_bucket, Key="src")["Grants"]) == 1
    # An upload keeps its ACL through to the object it completes.
    upload = s3.create_multipart_upload(Bucket=writer_bucket, Key="mp", ACL="public-read")
    part = s3.upload_part(
        Bucket=writer_bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"p"
    )
    s3.complete_multipart_upload(
        Bucket=writer_bucket,
        Key="mp",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert (ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=writer_bucket, Key="mp"))
    # Grant headers alone: exactly those grants, as S3 keeps them.
    s3.put_object(Bucket=writer_bucket, Key="g", Body=b"x", GrantRead=f"uri={ALL_USERS}")
    assert grants_of(s3.get_object_acl(Bucket=writer_bucket, Key="g")) == {(ALL_USERS, "READ")}


def test_object_acl_per_version(s3: Any, writer_bucket: str) -> None:
    s3.delete_public_access_block(Bucket=writer_bucket)
    s3.put_bucket_versioning(Bucket=writer_bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=writer_bucket, Key="k", Body=b"1", ACL="public-read")
    s3.put_object(Bucket=writer_bucket, Key="k", Body=b"2")
    assert len(s3.get_object_acl(Bucket=writer_bucket, Key="k")["Grants"]) == 1
    old = s3.get_object_acl(Bucket=writer_bucket, Key="k", VersionId=first["VersionId"])
    assert (ALL_USERS, "READ") in grants_of(old)
    s3.put_object_acl(Bucket=writer_bucket, Key="k", VersionId=first["VersionId"], ACL="private")
    old = s3.get_object_acl(Bucket=writer_bucket, Key="k", VersionId=first["VersionId"])
    assert len(old["Grants"]) == 1
