"""Object Lock end to end with boto3: the bucket's configuration, retention in both modes,
governance bypass (root, and IAM users with and without s3:BypassGovernanceRetention),
legal hold, the x-amz-object-lock-* headers on PUT, copy and multipart, and AWS's errors.

Every refusal is checked to have changed nothing: the locked version is still there with
its bytes and its lock. The store clock and kill -9 are in ``test_object_lock_clock.py``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_aws_post import _conditions, _post
from tests.server import RunningServer

UTC = datetime.UTC
FAR = datetime.datetime(2099, 1, 1, tzinfo=UTC)
FARTHER = datetime.datetime(2100, 1, 1, tzinfo=UTC)


def md5_of(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def force_delete(s3: Any, bucket: str) -> None:
    """Remove what governance allows (tests leave compliance versions far in the future
    only on the clock module's own server)."""
    try:
        versions = s3.list_object_versions(Bucket=bucket)
    except ClientError:
        return
    for entry in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        try:
            s3.put_object_legal_hold(
                Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"],
                LegalHold={"Status": "OFF"},
            )  # fmt: skip
        except ClientError:
            pass
        try:
            s3.delete_object(
                Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"],
                BypassGovernanceRetention=True,
            )  # fmt: skip
        except ClientError:
            pass
    try:
        s3.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


@pytest.fixture
def locked(s3: Any, unique_name: str) -> Iterator[str]:
    """A bucket created with Object Lock."""
    s3.create_bucket(Bucket=unique_name, ObjectLockEnabledForBucket=True)
    yield unique_name
    force_delete(s3, unique_name)


@pytest.fixture
def plain(s3: Any) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    force_delete(s3, name)


def put(s3: Any, bucket: str, key: str, body: bytes = b"record", **extra: Any) -> str:
    version_id: str = s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)["VersionId"]
    return version_id


def assert_intact(s3: Any, bucket: str, key: str, version_id: str, body: bytes) -> None:
    got = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
    assert got["Body"].read() == body


def refused(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


def assert_undeletable(s3: Any, bucket: str, key: str, version_id: str) -> None:
    """Refused by version id, with and without the governance bypass."""
    for bypass in (False, True):
        code = refused(
            s3.delete_object, Bucket=bucket, Key=key, VersionId=version_id,
            BypassGovernanceRetention=bypass,
        )  # fmt: skip
        assert code == ("AccessDenied", 403)


# ---- the bucket's configuration ---------------------------------------------------------


def test_create_with_lock_turns_on_versioning_for_good(s3: Any, locked: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }
    code = refused(
        s3.put_bucket_versioning, Bucket=locked, VersioningConfiguration={"Status": "Suspended"}
    )
    assert code == ("InvalidBucketState", 409)
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Enabled"})


def test_bucket_without_lock(s3: Any, plain: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object_lock_configuration(Bucket=plain)
    assert error_of(caught) == ("ObjectLockConfigurationNotFoundError", 404)
    assert caught.value.response["Error"]["Message"] == (
        "Object Lock configuration does not exist for this bucket"
    )
    # Never versioned: Object Lock cannot be turned on.
    conf = {"ObjectLockEnabled": "Enabled"}
    code = refused(s3.put_object_lock_configuration, Bucket=plain, ObjectLockConfiguration=conf)
    assert code == ("InvalidBucketState", 409)
    s3.put_object(Bucket=plain, Key="k", Body=b"x")
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    for call, kwargs in (
        (s3.put_object_retention, {"Retention": retention}),
        (s3.get_object_retention, {}),
        (s3.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
        (s3.get_object_legal_hold, {}),
    ):
        with pytest.raises(ClientError) as caught:
            call(Bucket=plain, Key="k", **kwargs)
        assert error_of(caught) == ("InvalidRequest", 400)
        assert caught.value.response["Error"]["Message"] == (
            "Bucket is missing Object Lock Configuration"
        )
    # Lock headers on a write to it.
    code = refused(
        s3.put_object, Bucket=plain, Key="k2", Body=b"x",
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR,
    )  # fmt: skip
    assert code == ("InvalidRequest", 400)
    assert refused(s3.head_object, Bucket=plain, Key="k2")[1] == 404


def test_enable_on_versioned_bucket(s3: Any, plain: str) -> None:
    """AWS now lets an existing versioned bucket turn Object Lock on."""
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}},
    }
    s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=plain)["ObjectLockConfiguration"] == conf
    code = refused(
        s3.put_bucket_versioning, Bucket=plain, VersioningConfiguration={"Status": "Suspended"}
    )
    assert code == ("InvalidBucketState", 409)


@pytest.mark.parametrize(
    ("retention", "expected"),
    [
        ({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
        ({"Mode": "GOVERNANCE"}, "MalformedXML"),
        ({"Mode": "invalid", "Days": 1}, "MalformedXML"),
        ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidArgument"),
        ({"Mode": "COMPLIANCE", "Years": -1}, "InvalidArgument"),
        ({"Days": 1}, "MalformedXML"),
    ],
)
def test_configuration_errors(
    s3: Any, locked: str, retention: dict[str, Any], expected: str
) -> None:
    good = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3}},
    }
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=good)
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}
    code = refused(s3.put_object_lock_configuration, Bucket=locked, ObjectLockConfiguration=conf)
    assert code == (expected, 400)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == good
    # The rule is changed back to none, and new versions get no retention.
    s3.put_object_lock_configuration(
        Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
    )
    version_id = put(s3, locked, "free")
    s3.delete_object(Bucket=locked, Key="free", VersionId=version_id)


def test_disabled_status_is_malformed(s3: Any, locked: str) -> None:
    conf = {"ObjectLockEnabled": "Disabled"}
    code = refused(s3.put_object_lock_configuration, Bucket=locked, ObjectLockConfiguration=conf)
    assert code == ("MalformedXML", 400)


# ---- default retention and the lock headers ---------------------------------------------


def test_default_retention_applies_to_new_versions(s3: Any, locked: str) -> None:
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
    }
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    version_id = put(s3, locked, "doc", b"v1")
    head = s3.head_object(Bucket=locked, Key="doc")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    # The retention counts from the write's own instant, which LastModified shows in
    # whole seconds: a day before the retain-until date, cut to the second, is it.
    written = head["ObjectLockRetainUntilDate"] - datetime.timedelta(days=1)
    assert written.replace(microsecond=0) == head["LastModified"]
    assert "ObjectLockLegalHoldStatus" not in head
    got = s3.get_object(Bucket=locked, Key="doc", VersionId=version_id)
    assert got["ObjectLockMode"] == "GOVERNANCE"
    retention = s3.get_object_retention(Bucket=locked, Key="doc")["Retention"]
    assert retention == {"Mode": "GOVERNANCE", "RetainUntilDate": head["ObjectLockRetainUntilDate"]}
    # Explicit headers win over the default.
    other = put(
        s3, locked, "doc2", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FAR,
        ObjectLockLegalHoldStatus="ON",
    )  # fmt: skip
    head2 = s3.head_object(Bucket=locked, Key="doc2", VersionId=other)
    assert head2["ObjectLockMode"] == "COMPLIANCE"
    assert head2["ObjectLockRetainUntilDate"] == FAR
    assert head2["ObjectLockLegalHoldStatus"] == "ON"
    s3.put_object_legal_hold(
        Bucket=locked, Key="doc2", VersionId=other, LegalHold={"Status": "OFF"}
    )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"ObjectLockMode": "GOVERNANCE"},
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        ),
        (
            {"ObjectLockRetainUntilDate": FAR},
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        ),
        (
            {"ObjectLockMode": "SOMETIMES", "ObjectLockRetainUntilDate": FAR},
            "Unknown wormMode directive.",
        ),
        (
            {
                "ObjectLockMode": "GOVERNANCE",
                "ObjectLockRetainUntilDate": datetime.datetime(2001, 1, 1, tzinfo=UTC),
            },
            "The retain until date must be in the future!",
        ),
        ({"ObjectLockLegalHoldStatus": "MAYBE"}, "Legal Hold must be either of 'ON' or 'OFF'"),
    ],
)
def test_header_errors(s3: Any, locked: str, headers: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=locked, Key="bad", Body=b"x", **headers)
    assert error_of(caught) == ("InvalidArgument", 400)
    assert caught.value.response["Error"]["Message"] == message
    assert "Versions" not in s3.list_object_versions(Bucket=locked)


def test_retention_upload_needs_md5_or_checksum(
    server: RunningServer, s3: Any, locked: str
) -> None:
    bare = client(
        server, "s3", s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
    )  # fmt: skip
    body = b"needs a digest"
    with pytest.raises(ClientError) as caught:
        bare.put_object(
            Bucket=locked, Key="k", Body=body,
            ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR,
        )  # fmt: skip
    assert error_of(caught) == ("InvalidRequest", 400)
    assert caught.value.response["Error"]["Message"] == (
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with "
        "Object Lock parameters"
    )
    # With Content-MD5, or with the SDK's default checksum, it is taken.
    bare.put_object(
        Bucket=locked, Key="k", Body=body, ContentMD5=md5_of(body),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR,
    )  # fmt: skip
    put(s3, locked, "k", body, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    # A plain upload to a bucket without default retention needs none.
    bare.put_object(Bucket=locked, Key="plain", Body=body)
    # Default retention makes every upload one "with Object Lock parameters", parts too.
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
    }
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    assert refused(bare.put_object, Bucket=locked, Key="plain2", Body=body) == (
        "InvalidRequest",
        400,
    )
    upload = bare.create_multipart_upload(Bucket=locked, Key="mp")["UploadId"]
    code = refused(
        bare.upload_part, Bucket=locked, Key="mp", UploadId=upload, PartNumber=1, Body=body
    )
    assert code == ("InvalidRequest", 400)
    bare.abort_multipart_upload(Bucket=locked, Key="mp", UploadId=upload)


# ---- removal and retention changes ------------------------------------------------------


def test_governance(s3: Any, locked: str) -> None:
    version_id = put(
        s3, locked, "gov", b"kept", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR
    )
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=locked, Key="gov", VersionId=version_id)
    assert error_of(caught) == ("AccessDenied", 403)
    assert caught.value.response["Error"]["Message"] == "Access Denied"
    assert_intact(s3, locked, "gov", version_id, b"kept")
    # A delete without a version id only adds a delete marker.
    marker = s3.delete_object(Bucket=locked, Key="gov")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=locked, Key="gov", VersionId=marker["VersionId"])
    # Shortening or removing needs the bypass; extending does not.
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR - datetime.timedelta(days=1)}
    code = refused(s3.put_object_retention, Bucket=locked, Key="gov", Retention=shorter)
    assert code == ("AccessDenied", 403)
    s3.put_object_retention(
        Bucket=locked, Key="gov", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FARTHER}
    )
    assert s3.get_object_retention(Bucket=locked, Key="gov")["Retention"]["RetainUntilDate"] == (
        FARTHER
    )
    s3.put_object_retention(
        Bucket=locked, Key="gov", Retention=shorter, BypassGovernanceRetention=True
    )
    assert s3.get_object_retention(Bucket=locked, Key="gov")["Retention"] == shorter
    s3.put_object_retention(Bucket=locked, Key="gov", Retention={}, BypassGovernanceRetention=True)
    code = refused(s3.get_object_retention, Bucket=locked, Key="gov")
    assert code == ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_retention(
        Bucket=locked, Key="gov", VersionId=version_id,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR},
    )  # fmt: skip
    s3.delete_object(Bucket=locked, Key="gov", VersionId=version_id, BypassGovernanceRetention=True)
    assert refused(s3.head_object, Bucket=locked, Key="gov", VersionId=version_id)[1] == 404


def test_compliance_binds_root(s3: Any, locked: str) -> None:
    version_id = put(
        s3, locked, "comp", b"sealed", ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=FAR,
    )  # fmt: skip
    assert_undeletable(s3, locked, "comp", version_id)
    for retention in (
        {"Mode": "COMPLIANCE", "RetainUntilDate": FAR - datetime.timedelta(seconds=1)},
        {"Mode": "GOVERNANCE", "RetainUntilDate": FARTHER},
        {},
    ):
        code = refused(
            s3.put_object_retention, Bucket=locked, Key="comp", Retention=retention,
            BypassGovernanceRetention=True,
        )  # fmt: skip
        assert code == ("AccessDenied", 403)
    assert s3.get_object_retention(Bucket=locked, Key="comp")["Retention"] == {
        "Mode": "COMPLIANCE",
        "RetainUntilDate": FAR,
    }
    assert_intact(s3, locked, "comp", version_id, b"sealed")
    # Nor can the bucket go while it holds the version.
    assert refused(s3.delete_bucket, Bucket=locked) == ("BucketNotEmpty", 409)
    # Extending is allowed.
    s3.put_object_retention(
        Bucket=locked, Key="comp", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": FARTHER}
    )


def test_governance_to_compliance_without_bypass(s3: Any, locked: str) -> None:
    put(s3, locked, "g", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    s3.put_object_retention(
        Bucket=locked, Key="g", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": FAR}
    )
    assert s3.head_object(Bucket=locked, Key="g")["ObjectLockMode"] == "COMPLIANCE"


def test_retention_errors(s3: Any, locked: str) -> None:
    version_id = put(s3, locked, "r")
    code = refused(s3.get_object_retention, Bucket=locked, Key="r")
    assert code == ("NoSuchObjectLockConfiguration", 404)
    code = refused(
        s3.put_object_retention, Bucket=locked, Key="r",
        Retention={"Mode": "invalid", "RetainUntilDate": FAR},
    )  # fmt: skip
    assert code == ("MalformedXML", 400)
    past = {"Mode": "GOVERNANCE", "RetainUntilDate": datetime.datetime(2001, 1, 1, tzinfo=UTC)}
    with pytest.raises(ClientError) as caught:
        s3.put_object_retention(Bucket=locked, Key="r", Retention=past)
    assert error_of(caught) == ("InvalidArgument", 400)
    assert (
        caught.value.response["Error"]["Message"] == "The retain until date must be in the future!"
    )
    code = refused(
        s3.put_object_retention, Bucket=locked, Key="missing",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR},
    )  # fmt: skip
    assert code == ("NoSuchKey", 404)
    code = refused(
        s3.put_object_retention, Bucket=locked, Key="r", VersionId="0" * 32,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR},
    )  # fmt: skip
    assert code == ("NoSuchVersion", 404)
    s3.delete_object(Bucket=locked, Key="r", VersionId=version_id)


def test_legal_hold_blocks_independently(s3: Any, locked: str) -> None:
    version_id = put(s3, locked, "held", b"evidence")
    code = refused(s3.get_object_legal_hold, Bucket=locked, Key="held")
    assert code == ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_legal_hold(Bucket=locked, Key="held", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="held")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=locked, Key="held")["ObjectLockLegalHoldStatus"] == "ON"
    assert_undeletable(s3, locked, "held", version_id)
    assert_intact(s3, locked, "held", version_id, b"evidence")
    code = refused(s3.put_object_legal_hold, Bucket=locked, Key="held", LegalHold={"Status": "abc"})
    assert code == ("MalformedXML", 400)
    s3.put_object_legal_hold(Bucket=locked, Key="held", LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="held")["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=locked, Key="held", VersionId=version_id)


def test_delete_objects_reports_locked_keys(s3: Any, locked: str) -> None:
    free = put(s3, locked, "free")
    gov = put(s3, locked, "gov", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    comp = put(s3, locked, "comp", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FAR)
    held = put(s3, locked, "held", ObjectLockLegalHoldStatus="ON")
    targets = [
        {"Key": "free", "VersionId": free},
        {"Key": "gov", "VersionId": gov},
        {"Key": "comp", "VersionId": comp},
        {"Key": "held", "VersionId": held},
        {"Key": "marker-only"},
    ]
    answer = s3.delete_objects(Bucket=locked, Delete={"Objects": targets})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["free", "marker-only"]
    errors = {e["Key"]: (e["Code"], e["VersionId"]) for e in answer["Errors"]}
    assert errors == {
        "gov": ("AccessDenied", gov),
        "comp": ("AccessDenied", comp),
        "held": ("AccessDenied", held),
    }
    assert all(
        e["Message"] == "Access Denied because object protected by object lock."
        for e in answer["Errors"]
    )
    # With the bypass, governance yields; compliance and the hold do not.
    answer = s3.delete_objects(
        Bucket=locked, Delete={"Objects": targets[1:4]}, BypassGovernanceRetention=True
    )
    assert [d["Key"] for d in answer["Deleted"]] == ["gov"]
    assert sorted(e["Key"] for e in answer["Errors"]) == ["comp", "held"]
    assert_intact(s3, locked, "comp", comp, b"record")
    assert_intact(s3, locked, "held", held, b"record")


def test_copy_and_multipart(s3: Any, locked: str, plain: str) -> None:
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
    }
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    source = put(s3, locked, "src", b"source", ObjectLockMode="COMPLIANCE",
                 ObjectLockRetainUntilDate=FAR)  # fmt: skip
    # The copy does not take the source's lock: the target's default, or none.
    s3.copy_object(Bucket=plain, Key="copy", CopySource={"Bucket": locked, "Key": "src"})
    head = s3.head_object(Bucket=plain, Key="copy")
    assert "ObjectLockMode" not in head
    s3.copy_object(Bucket=locked, Key="copy", CopySource={"Bucket": locked, "Key": "src"})
    assert s3.head_object(Bucket=locked, Key="copy")["ObjectLockMode"] == "GOVERNANCE"
    copied = s3.copy_object(
        Bucket=locked, Key="copy2", CopySource={"Bucket": locked, "Key": "src"},
        ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FARTHER,
        ObjectLockLegalHoldStatus="ON",
    )  # fmt: skip
    head = s3.head_object(Bucket=locked, Key="copy2", VersionId=copied["VersionId"])
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", FARTHER)
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    code = refused(
        s3.copy_object, Bucket=plain, Key="copy3", CopySource={"Bucket": locked, "Key": "src"},
        ObjectLockLegalHoldStatus="ON",
    )  # fmt: skip
    assert code == ("InvalidRequest", 400)
    # Multipart: the creation's headers go to the completed object.
    upload = s3.create_multipart_upload(
        Bucket=locked, Key="mp", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FAR
    )["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 10)
    done = s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    head = s3.head_object(Bucket=locked, Key="mp")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", FAR)
    code = refused(s3.delete_object, Bucket=locked, Key="mp", VersionId=done["VersionId"])
    assert code == ("AccessDenied", 403)
    # Without headers, the bucket's default when the upload completes.
    upload = s3.create_multipart_upload(Bucket=locked, Key="mp2")["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="mp2", UploadId=upload, PartNumber=1, Body=b"q")
    s3.complete_multipart_upload(
        Bucket=locked, Key="mp2", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    assert s3.head_object(Bucket=locked, Key="mp2")["ObjectLockMode"] == "GOVERNANCE"
    code = refused(
        s3.create_multipart_upload, Bucket=plain, Key="mp", ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=FAR,
    )  # fmt: skip
    assert code == ("InvalidRequest", 400)
    assert source


MODE = "x-amz-object-lock-mode"


def test_post_object_form_fields(server: RunningServer, s3: Any, locked: str) -> None:
    """A browser form's x-amz-object-lock-* fields stand for PutObject's headers."""
    fields = {
        "key": "form",
        MODE: "COMPLIANCE",
        "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z",
        "x-amz-object-lock-legal-hold": "ON",
        "Content-MD5": md5_of(b"bar"),
    }
    exact = ({name: value} for name, value in fields.items() if name not in ("key", MODE))
    conditions = _conditions(locked, ["starts-with", f"${MODE}", ""], *exact)
    policy = {"expiration": "2099-01-01T00:00:00.000Z", "conditions": conditions}
    reply = _post(server, locked, policy, fields)
    assert reply.status_code == 204, reply.text
    head = s3.head_object(Bucket=locked, Key="form")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", FAR)
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    assert_undeletable(s3, locked, "form", head["VersionId"])
    s3.put_object_legal_hold(Bucket=locked, Key="form", LegalHold={"Status": "OFF"})
    bad = _post(server, locked, policy, {**fields, "key": "bad", MODE: "X"})
    assert bad.status_code == 400
    assert "<Code>InvalidArgument</Code>" in bad.text


def test_concurrent_deletes_never_remove_locked_versions(s3: Any, locked: str) -> None:
    """Many clients at once try to remove locked versions, with and without the bypass,
    while others put legal holds on and off: nothing locked ever goes."""
    comp = [
        put(s3, locked, f"c{i}", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FAR)
        for i in range(6)
    ]
    held = [put(s3, locked, f"h{i}", ObjectLockLegalHoldStatus="ON") for i in range(6)]
    outcomes: list[str] = []
    guard = threading.Lock()

    def attack(n: int) -> None:
        for i in range(6):
            for key, version_id in ((f"c{i}", comp[i]), (f"h{i}", held[i])):
                try:
                    s3.delete_object(
                        Bucket=locked, Key=key, VersionId=version_id,
                        BypassGovernanceRetention=n % 2 == 0,
                    )  # fmt: skip
                    result = "deleted"
                except ClientError as exc:
                    result = exc.response["Error"]["Code"]
                with guard:
                    outcomes.append(result)

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert outcomes == ["AccessDenied"] * (6 * 6 * 2)
    for i in range(6):
        assert_intact(s3, locked, f"c{i}", comp[i], b"record")
        assert_intact(s3, locked, f"h{i}", held[i], b"record")


def test_concurrent_hold_and_bypass_delete(s3: Any, locked: str) -> None:
    """A legal hold put while governance-bypass deletes race it: either the delete came
    first (the version is gone and the hold finds no version) or the hold did (the version
    stays, held): never a hold acknowledged on a version that was then removed."""
    keys = [f"race{i}" for i in range(12)]
    versions = {
        key: put(s3, locked, key, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
        for key in keys
    }
    held: set[str] = set()
    guard = threading.Lock()

    def hold() -> None:
        for key in keys:
            try:
                s3.put_object_legal_hold(
                    Bucket=locked, Key=key, VersionId=versions[key], LegalHold={"Status": "ON"}
                )
            except ClientError:
                continue
            with guard:
                held.add(key)

    def remove() -> None:
        for key in reversed(keys):
            try:
                s3.delete_object(
                    Bucket=locked, Key=key, VersionId=versions[key],
                    BypassGovernanceRetention=True,
                )  # fmt: skip
            except ClientError:
                pass

    threads = [threading.Thread(target=hold), threading.Thread(target=remove)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for key in keys:
        try:
            head = s3.head_object(Bucket=locked, Key=key, VersionId=versions[key])
        except ClientError:
            assert key not in held
            continue
        if key in held:
            assert head["ObjectLockLegalHoldStatus"] == "ON"


# ---- IAM users and the bypass permission ------------------------------------------------


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def iam(server: RunningServer) -> Any:
    return client(server, "iam")


def make_user(iam: Any, server: RunningServer, actions: list[str]) -> tuple[Any, str]:
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    document = policy({"Effect": "Allow", "Action": actions, "Resource": "*"})
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    s3 = signed_as(
        server, "s3", key["AccessKeyId"], key["SecretAccessKey"], s3={"addressing_style": "path"}
    )
    return s3, name


def test_bypass_needs_the_permission(iam: Any, server: RunningServer, s3: Any, locked: str) -> None:
    basic = [
        "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
        "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:GetObjectRetention",
    ]  # fmt: skip
    without, _ = make_user(iam, server, basic)
    with_bypass, _ = make_user(iam, server, [*basic, "s3:BypassGovernanceRetention"])
    version_id = put(s3, locked, "gov", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR - datetime.timedelta(days=1)}
    for call, kwargs in (
        (without.delete_object, {"VersionId": version_id}),
        (without.put_object_retention, {"Retention": shorter}),
    ):
        code = refused(call, Bucket=locked, Key="gov", BypassGovernanceRetention=True, **kwargs)
        assert code == ("AccessDenied", 403)
    answer = without.delete_objects(
        Bucket=locked, Delete={"Objects": [{"Key": "gov", "VersionId": version_id}]},
        BypassGovernanceRetention=True,
    )  # fmt: skip
    assert [e["Code"] for e in answer["Errors"]] == ["AccessDenied"]
    assert_intact(s3, locked, "gov", version_id, b"record")
    # The user without the legal-hold read permission does not see the hold; the one
    # without GetObjectRetention would not see the retention (both have it here).
    s3.put_object_legal_hold(Bucket=locked, Key="gov", LegalHold={"Status": "ON"})
    head = without.head_object(Bucket=locked, Key="gov")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert "ObjectLockLegalHoldStatus" not in head
    assert s3.head_object(Bucket=locked, Key="gov")["ObjectLockLegalHoldStatus"] == "ON"
    s3.put_object_legal_hold(Bucket=locked, Key="gov", LegalHold={"Status": "OFF"})
    # Setting retention on upload takes s3:PutObjectRetention; a legal hold its own.
    code = refused(
        without.put_object, Bucket=locked, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON"
    )
    assert code == ("AccessDenied", 403)
    with_bypass.put_object_retention(
        Bucket=locked, Key="gov", Retention=shorter, BypassGovernanceRetention=True
    )
    with_bypass.delete_object(
        Bucket=locked, Key="gov", VersionId=version_id, BypassGovernanceRetention=True
    )
    assert refused(s3.head_object, Bucket=locked, Key="gov", VersionId=version_id)[1] == 404
    # Compliance binds the user with the permission too.
    comp = put(s3, locked, "comp", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=FAR)
    code = refused(
        with_bypass.delete_object, Bucket=locked, Key="comp", VersionId=comp,
        BypassGovernanceRetention=True,
    )  # fmt: skip
    assert code == ("AccessDenied", 403)
