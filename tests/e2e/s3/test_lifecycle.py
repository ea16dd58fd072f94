"""Bucket lifecycle end to end with boto3 and the store clock: the configuration's
operations and errors, ``x-amz-expiration``, and the engine's expirations.

One server per module: the clock only moves forward, so it must not be the session's.
Each test reads the clock, writes, then moves the clock past what its rules need; the
engine, woken by the move, acts within a bounded wait.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.remote import Credentials, Remote
from strata.storage.volumes.cipher import sealed_size
from tests.conftest import client
from tests.e2e.s3.conftest import empty_bucket, error_of
from tests.server import RunningServer, start_server

DAY_S = 86400
WAIT_S = 30.0


@pytest.fixture(scope="module")
def lc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Passes an hour apart: only the clock's wake-up (or a put configuration) runs them.
    env = {"STRATA_LIFECYCLE_INTERVAL_S": "3600"}
    server = start_server(tmp_path_factory.mktemp("lifecycle") / "data", env=env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3c(lc_server: RunningServer) -> Any:
    return client(lc_server, "s3", s3={"addressing_style": "path"})


@pytest.fixture
def lc_bucket(s3c: Any, unique_name: str) -> Iterator[str]:
    s3c.create_bucket(Bucket=unique_name)
    yield unique_name
    empty_bucket(s3c, unique_name)


def remote(server: RunningServer) -> Remote:
    return Remote(server.endpoint, Credentials(server.access_key, server.secret_key))


def advance_days(server: RunningServer, days: float) -> None:
    remote(server).clock({"advance_s": days * DAY_S})


def metric(server: RunningServer, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Bounded wait for the engine (never a timing assertion)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {WAIT_S} s: {what}")


def wait_for_pass(server: RunningServer, after: float) -> None:
    wait_until(lambda: metric(server, "strata_lifecycle_passes_total") > after, "a lifecycle pass")


def keys_of(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def versions_of(s3: Any, bucket: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    listed = s3.list_object_versions(Bucket=bucket)
    return listed.get("Versions", []), listed.get("DeleteMarkers", [])


def put_rules(s3: Any, bucket: str, *rules: dict[str, Any], **kwargs: Any) -> Any:
    return s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)}, **kwargs
    )


# ---- the configuration ---------------------------------------------------------------------


def test_missing_configuration_is_404(s3c: Any, lc_bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)
    assert error_of(caught) == ("NoSuchLifecycleConfiguration", 404)
    assert caught.value.response["Error"]["BucketName"] == lc_bucket
    s3c.delete_bucket_lifecycle(Bucket=lc_bucket)  # nothing to delete: 204


def test_no_such_bucket(s3c: Any) -> None:
    for call in (
        lambda: s3c.get_bucket_lifecycle_configuration(Bucket="no-such-bucket-lc"),
        lambda: put_rules(
            s3c,
            "no-such-bucket-lc",
            {"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}},
        ),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("NoSuchBucket", 404)


FULL_RULES = [
    {
        "ID": "logs",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Transitions": [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 90, "StorageClass": "GLACIER"},
        ],
        "Expiration": {"Days": 365},
        "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER_IR"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 60, "NewerNoncurrentVersions": 3},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    },
    {
        "ID": "tagged",
        "Status": "Disabled",
        "Filter": {
            "And": {
                "Prefix": "data/",
                "Tags": [{"Key": "class", "Value": "tmp"}, {"Key": "team", "Value": "a"}],
                "ObjectSizeGreaterThan": 10,
                "ObjectSizeLessThan": 1000,
            }
        },
        "Expiration": {"Date": datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)},
    },
    {"ID": "markers", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
     "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]},
    {"ID": "eodm", "Status": "Enabled", "Filter": {},
     "Expiration": {"ExpiredObjectDeleteMarker": True}},
    {"ID": "small", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 500},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
]  # fmt: skip


def test_put_get_delete_round_trip(s3c: Any, lc_bucket: str) -> None:
    answer = put_rules(s3c, lc_bucket, *FULL_RULES)
    assert answer["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    assert got["Rules"] == FULL_RULES
    s3c.delete_bucket_lifecycle(Bucket=lc_bucket)
    with pytest.raises(ClientError) as caught:
        s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)
    assert error_of(caught) == ("NoSuchLifecycleConfiguration", 404)


def test_minimum_object_size_header_and_legacy_prefix(s3c: Any, lc_bucket: str) -> None:
    rule = {"ID": "old", "Prefix": "tmp/", "Status": "Enabled", "Expiration": {"Days": 3}}
    answer = put_rules(
        s3c, lc_bucket, rule, TransitionDefaultMinimumObjectSize="varies_by_storage_class"
    )
    assert answer["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert got["Rules"] == [rule]
    # the deprecated operation takes the same document on the same request
    s3c.put_bucket_lifecycle(
        Bucket=lc_bucket,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "v1", "Prefix": "a/", "Status": "Enabled",
                 "Transition": {"Days": 40, "StorageClass": "STANDARD_IA"}}
            ]
        },
    )  # fmt: skip
    legacy = s3c.get_bucket_lifecycle(Bucket=lc_bucket)
    assert legacy["Rules"][0]["Transition"] == {"Days": 40, "StorageClass": "STANDARD_IA"}
    assert s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)["Rules"][0]["ID"] == "v1"


def test_rule_without_id_gets_one(s3c: Any, lc_bucket: str) -> None:
    put_rules(s3c, lc_bucket, {"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 5}})
    [rule] = s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)["Rules"]
    assert len(rule["ID"]) == 48


def _rule(**fields: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p/"}, **fields}


INVALID = [
    (
        [_rule(Expiration={"Days": 0})],
        "InvalidArgument",
        "'Days' for Expiration action must be a positive integer",
    ),
    (
        [_rule(Expiration={"Date": datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.UTC)})],
        "InvalidArgument",
        "'Date' must be at midnight GMT",
    ),
    ([_rule()], "InvalidRequest", "At least one action needs to be specified in a rule"),
    (
        [_rule(Expiration={"Days": 1}), _rule(Expiration={"Days": 2})],
        "InvalidArgument",
        "Rule ID must be unique. Found same ID for more than one rule",
    ),
    (
        [{**_rule(Expiration={"Days": 1}), "ID": "x" * 256}],
        "InvalidArgument",
        "ID length should not exceed allowed limit of 255",
    ),
    (
        [_rule(Transitions=[{"Days": 10, "StorageClass": "STANDARD_IA"}])],
        "InvalidArgument",
        "'Days' in Transition action must be greater than or equal to 30 for storageClass "
        "'STANDARD_IA'",
    ),
    (
        [_rule(Transitions=[{"Days": 10, "StorageClass": "ONEZONE_IA"}])],
        "InvalidArgument",
        "'Days' in Transition action must be greater than or equal to 30 for storageClass "
        "'ONEZONE_IA'",
    ),
    (
        [_rule(NoncurrentVersionTransitions=[{"NoncurrentDays": 5,
                                              "StorageClass": "STANDARD_IA"}])],
        "InvalidArgument",
        "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal "
        "to 30 for storageClass 'STANDARD_IA'",
    ),
    (
        [_rule(Transitions=[{"Days": 60, "StorageClass": "GLACIER"}], Expiration={"Days": 60})],
        "InvalidArgument",
        "'Days' in the Expiration action for filter '(prefix=p/)' must be greater than 'Days' "
        "in the Transition action",
    ),
    (
        [_rule(Transitions=[{"Days": 60, "StorageClass": "GLACIER"},
                            {"Days": 90, "StorageClass": "GLACIER"}])],
        "InvalidRequest",
        "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter "
        "'(prefix=p/)'",
    ),
    (
        [_rule(Transitions=[{"Days": 90, "StorageClass": "STANDARD_IA"},
                            {"Days": 30, "StorageClass": "DEEP_ARCHIVE"}])],
        "InvalidArgument",
        "'Days' in the Transition action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=p/)' "
        "must be 30 days more than 'filter' in the Transition action for StorageClass "
        "'STANDARD_IA'",
    ),
    (
        [_rule(Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                            {"Date": datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC),
                             "StorageClass": "GLACIER"}])],
        "InvalidRequest",
        "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter "
        "'(prefix=p/)'",
    ),
    (
        [_rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})],
        "InvalidArgument",
        "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    ),
    (
        [_rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 101})],
        "InvalidArgument",
        "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
        "integer no greater than 100",
    ),
    (
        [{**_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
          "Filter": {"Tag": {"Key": "a", "Value": "b"}}}],
        "InvalidRequest",
        "AbortIncompleteMultipartUpload cannot be specified with Tags.",
    ),
    (
        [_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})],
        "InvalidArgument",
        "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
        "integer",
    ),
    (
        [_rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})],
        "InvalidArgument",
        "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle "
        "Expiration Policy.",
    ),
    (
        [{**_rule(Expiration={"ExpiredObjectDeleteMarker": True}),
          "Filter": {"Tag": {"Key": "a", "Value": "b"}}}],
        "InvalidRequest",
        "ExpiredObjectDeleteMarker cannot be specified with Tag-based filters.",
    ),
    (
        [{**_rule(Expiration={"Days": 1}),
          "Filter": {"And": {"ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 50}}}],
        "InvalidArgument",
        "ObjectSizeGreaterThan must be less than ObjectSizeLessThan in a lifecycle filter.",
    ),
    (
        [{"ID": "r", "Status": "Enabled", "Expiration": {"Days": 1}}],  # no Filter, no Prefix
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema",
    ),
    (
        [{**_rule(Expiration={"Days": 1}), "Prefix": "p/"}],  # both Filter and Prefix
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema",
    ),
    (
        [{**_rule(Expiration={"Days": 1}),
          "Filter": {"Prefix": "a", "Tag": {"Key": "a", "Value": "b"}}}],
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema",
    ),
    (
        [_rule(Expiration={"Days": 1}) | {"ID": f"r{n}"} for n in range(1001)],
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "code", "message"), INVALID)
def test_invalid_configuration_changes_nothing(
    s3c: Any, lc_bucket: str, rules: list[dict[str, Any]], code: str, message: str
) -> None:
    kept = {"ID": "kept", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 9}}
    put_rules(s3c, lc_bucket, kept)
    with pytest.raises(ClientError) as caught:
        put_rules(s3c, lc_bucket, *rules)
    assert error_of(caught) == (code, 400)
    assert caught.value.response["Error"]["Message"] == message
    assert s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)["Rules"] == [kept]


def test_invalid_status_and_minimum_size(s3c: Any, lc_bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        put_rules(s3c, lc_bucket, _rule(Expiration={"Days": 1}) | {"Status": "On"})
    assert error_of(caught) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as caught:
        put_rules(
            s3c,
            lc_bucket,
            _rule(Expiration={"Days": 1}),
            TransitionDefaultMinimumObjectSize="tiny",
        )
    assert error_of(caught)[1] == 400
    with pytest.raises(ClientError) as caught:
        s3c.get_bucket_lifecycle_configuration(Bucket=lc_bucket)
    assert error_of(caught) == ("NoSuchLifecycleConfiguration", 404)


def test_deleted_bucket_takes_its_rules(s3c: Any, unique_name: str) -> None:
    s3c.create_bucket(Bucket=unique_name)
    put_rules(s3c, unique_name, _rule(Expiration={"Days": 1}))
    s3c.delete_bucket(Bucket=unique_name)
    s3c.create_bucket(Bucket=unique_name)
    try:
        with pytest.raises(ClientError) as caught:
            s3c.get_bucket_lifecycle_configuration(Bucket=unique_name)
        assert error_of(caught) == ("NoSuchLifecycleConfiguration", 404)
    finally:
        s3c.delete_bucket(Bucket=unique_name)


# ---- x-amz-expiration -------------------------------------------------------------------------


def _midnight_after(moment: datetime.datetime, days: int) -> datetime.datetime:
    day = (moment + datetime.timedelta(days=days)).date() + datetime.timedelta(days=1)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def test_expiration_header_on_put_get_head(s3c: Any, lc_bucket: str) -> None:
    put_rules(
        s3c,
        lc_bucket,
        {"ID": "ten days", "Status": "Enabled", "Filter": {"Prefix": "a/"},
         "Expiration": {"Days": 10}},
        {"ID": "three", "Status": "Enabled", "Filter": {"Prefix": "a/b"},
         "Expiration": {"Days": 3}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
    )  # fmt: skip
    put = s3c.put_object(Bucket=lc_bucket, Key="a/x", Body=b"1")
    head = s3c.head_object(Bucket=lc_bucket, Key="a/x")
    expected = _midnight_after(head["LastModified"], 10)
    for answer in (put, head, s3c.get_object(Bucket=lc_bucket, Key="a/x")):
        value = answer["Expiration"]
        date = value.split('expiry-date="')[1].split('"')[0]
        assert parsedate_to_datetime(date) == expected
        assert value.endswith('rule-id="ten%20days"')
    copied = s3c.copy_object(
        Bucket=lc_bucket, Key="a/copy", CopySource={"Bucket": lc_bucket, "Key": "a/x"}
    )
    assert copied["Expiration"].endswith('rule-id="ten%20days"')
    upload = s3c.create_multipart_upload(Bucket=lc_bucket, Key="a/mp")
    part = s3c.upload_part(
        Bucket=lc_bucket, Key="a/mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"p"
    )
    completed = s3c.complete_multipart_upload(
        Bucket=lc_bucket,
        Key="a/mp",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert completed["Expiration"].endswith('rule-id="ten%20days"')
    # the earliest of the rules that apply
    s3c.put_object(Bucket=lc_bucket, Key="a/b1", Body=b"1")
    head = s3c.head_object(Bucket=lc_bucket, Key="a/b1")
    assert 'rule-id="three"' in head["Expiration"]
    # no rule applies
    s3c.put_object(Bucket=lc_bucket, Key="z", Body=b"1")
    assert "Expiration" not in s3c.head_object(Bucket=lc_bucket, Key="z")


# ---- the engine: current versions ----------------------------------------------------------


def test_expiration_removes_unversioned_objects(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    for key in ("logs/1", "logs/2", "keep/1"):
        s3c.put_object(Bucket=lc_bucket, Key=key, Body=b"x")
    put_rules(s3c, lc_bucket, _rule(Filter={"Prefix": "logs/"}, Expiration={"Days": 2}))
    passes = metric(lc_server, "strata_lifecycle_passes_total")
    advance_days(lc_server, 1)  # not yet: due at the midnight after creation + 2 days
    wait_for_pass(lc_server, passes)
    assert keys_of(s3c, lc_bucket) == ["keep/1", "logs/1", "logs/2"]
    advance_days(lc_server, 2)
    wait_until(lambda: keys_of(s3c, lc_bucket) == ["keep/1"], "logs/ expired")
    assert versions_of(s3c, lc_bucket)[1] == []  # no delete marker in an unversioned bucket


def test_expiration_in_versioned_bucket_adds_a_delete_marker(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    s3c.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3c.put_object(Bucket=lc_bucket, Key="doc", Body=b"v1")
    put_rules(s3c, lc_bucket, _rule(Filter={}, Expiration={"Days": 1}))
    advance_days(lc_server, 3)
    wait_until(lambda: keys_of(s3c, lc_bucket) == [], "doc expired")
    versions, markers = versions_of(s3c, lc_bucket)
    assert [v["Key"] for v in versions] == ["doc"]  # the data stays, noncurrent
    assert [(m["Key"], m["IsLatest"]) for m in markers] == [("doc", True)]
    passes = metric(lc_server, "strata_lifecycle_passes_total")
    advance_days(lc_server, 3)  # a marker is not expired again: still one
    wait_for_pass(lc_server, passes)
    assert len(versions_of(s3c, lc_bucket)[1]) == 1


def test_expired_object_delete_marker_removes_sole_markers(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    s3c.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3c.put_object(Bucket=lc_bucket, Key="kept", Body=b"1")
    s3c.delete_object(Bucket=lc_bucket, Key="kept")  # marker over a version: stays
    data = s3c.put_object(Bucket=lc_bucket, Key="gone", Body=b"1")
    s3c.delete_object(Bucket=lc_bucket, Key="gone")
    s3c.delete_object(Bucket=lc_bucket, Key="gone", VersionId=data["VersionId"])  # sole marker
    put_rules(s3c, lc_bucket, _rule(Filter={}, Expiration={"ExpiredObjectDeleteMarker": True}))
    wait_until(
        lambda: [m["Key"] for m in versions_of(s3c, lc_bucket)[1]] == ["kept"],
        "the sole marker removed",
    )
    assert [v["Key"] for v in versions_of(s3c, lc_bucket)[0]] == ["kept"]


def test_expiration_by_days_also_removes_expired_delete_markers(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    """The recipe for emptying a versioned bucket: current versions expire, noncurrent ones
    go a day later, and the markers left alone go with them (S3 does the marker cleanup
    for an Expiration by Days once the marker is old enough)."""
    s3c.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("a", "b"):
        s3c.put_object(Bucket=lc_bucket, Key=key, Body=b"1")
    put_rules(
        s3c,
        lc_bucket,
        _rule(Filter={}, Expiration={"Days": 1}, NoncurrentVersionExpiration={"NoncurrentDays": 1}),
    )
    advance_days(lc_server, 3)
    wait_until(lambda: len(versions_of(s3c, lc_bucket)[1]) == 2, "markers added")
    assert len(versions_of(s3c, lc_bucket)[0]) == 2
    advance_days(lc_server, 3)
    wait_until(lambda: versions_of(s3c, lc_bucket) == ([], []), "bucket emptied")


def test_noncurrent_expiration_keeps_the_newest(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    s3c.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3c.put_object(Bucket=lc_bucket, Key="k", Body=f"v{n}".encode())["VersionId"]
           for n in range(6)]  # fmt: skip
    put_rules(
        s3c,
        lc_bucket,
        _rule(Filter={}, NoncurrentVersionExpiration={"NoncurrentDays": 5,
                                                       "NewerNoncurrentVersions": 2}),
    )  # fmt: skip
    passes = metric(lc_server, "strata_lifecycle_passes_total")
    advance_days(lc_server, 2)  # noncurrent for 2 days: not yet
    wait_for_pass(lc_server, passes)
    assert len(versions_of(s3c, lc_bucket)[0]) == 6
    advance_days(lc_server, 5)
    # current v5 stays, and the two newest noncurrent (v4, v3); v2, v1, v0 go
    wait_until(lambda: len(versions_of(s3c, lc_bucket)[0]) == 3, "old versions expired")
    left = [v["VersionId"] for v in versions_of(s3c, lc_bucket)[0]]
    assert sorted(left) == sorted(ids[3:])
    assert s3c.get_object(Bucket=lc_bucket, Key="k")["Body"].read() == b"v5"


def test_filters_by_tag_and_size(s3c: Any, lc_server: RunningServer, lc_bucket: str) -> None:
    s3c.put_object(Bucket=lc_bucket, Key="t/tagged", Body=b"x" * 100, Tagging="class=tmp&team=a")
    s3c.put_object(Bucket=lc_bucket, Key="t/other-tag", Body=b"x" * 100, Tagging="class=keep")
    s3c.put_object(Bucket=lc_bucket, Key="t/big", Body=b"x" * 5000, Tagging="class=tmp")
    s3c.put_object(Bucket=lc_bucket, Key="u/tagged", Body=b"x" * 100, Tagging="class=tmp")
    s3c.put_object(Bucket=lc_bucket, Key="size/small", Body=b"x" * 10)
    s3c.put_object(Bucket=lc_bucket, Key="size/large", Body=b"x" * 3000)
    put_rules(
        s3c,
        lc_bucket,
        _rule(ID="and", Filter={"And": {"Prefix": "t/", "Tags": [{"Key": "class", "Value": "tmp"}],
                                        "ObjectSizeLessThan": 1000}},
              Expiration={"Days": 1}),
        _rule(ID="size", Filter={"ObjectSizeGreaterThan": 2000}, Expiration={"Days": 1}),
    )  # fmt: skip
    advance_days(lc_server, 3)
    wanted = ["size/small", "t/other-tag", "u/tagged"]  # t/big: size/ rule takes it
    wait_until(lambda: keys_of(s3c, lc_bucket) == wanted, "filtered expiration")


# ---- the engine: transitions move the bytes ----------------------------------------------------


def live(server: RunningServer, volume: str) -> float:
    return metric(server, f'strata_volume_live_bytes{{volume="{volume}"}}')


def storage_class(s3: Any, bucket: str, key: str, **kwargs: Any) -> str:
    return str(s3.head_object(Bucket=bucket, Key=key, **kwargs).get("StorageClass", "STANDARD"))


def test_transitions_move_bytes_down_the_classes(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    body = os.urandom(300 * 1024)  # random: the cold volume stores it as it is
    small = os.urandom(1000)  # under 128 KB: no transition by default
    s3c.put_object(Bucket=lc_bucket, Key="big", Body=body)
    s3c.put_object(Bucket=lc_bucket, Key="small", Body=small)
    hot, cold, archive = live(lc_server, "hot"), live(lc_server, "cold"), live(lc_server, "archive")
    put_rules(
        s3c,
        lc_bucket,
        _rule(Filter={}, Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                                      {"Days": 60, "StorageClass": "GLACIER"}]),
    )  # fmt: skip
    advance_days(lc_server, 31)
    wait_until(lambda: storage_class(s3c, lc_bucket, "big") == "STANDARD_IA", "big to IA")
    assert live(lc_server, "hot") == hot - sealed_size(len(body))  # the source volume shrank
    assert live(lc_server, "cold") == cold + sealed_size(len(body))  # and the target grew
    got = s3c.get_object(Bucket=lc_bucket, Key="big")
    assert got["StorageClass"] == "STANDARD_IA"
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(body).digest()
    assert storage_class(s3c, lc_bucket, "small") == "STANDARD"
    listed = {
        o["Key"]: o["StorageClass"] for o in s3c.list_objects_v2(Bucket=lc_bucket)["Contents"]
    }
    assert listed == {"big": "STANDARD_IA", "small": "STANDARD"}
    advance_days(lc_server, 31)
    wait_until(lambda: storage_class(s3c, lc_bucket, "big") == "GLACIER", "big to GLACIER")
    assert live(lc_server, "cold") == cold
    assert live(lc_server, "archive") > archive
    with pytest.raises(ClientError) as caught:
        s3c.get_object(Bucket=lc_bucket, Key="big")
    assert error_of(caught) == ("InvalidObjectState", 403)
    s3c.restore_object(Bucket=lc_bucket, Key="big", RestoreRequest={"Days": 1})
    advance_days(lc_server, 0.25)  # a Standard restore from GLACIER takes 5 hours
    wait_until(
        lambda: "false" in s3c.head_object(Bucket=lc_bucket, Key="big").get("Restore", ""),
        "the restore",
    )
    restored = s3c.get_object(Bucket=lc_bucket, Key="big")["Body"].read()
    assert restored == body


def test_small_objects_and_the_minimum_size_setting(
    s3c: Any, lc_server: RunningServer, lc_bucket: str
) -> None:
    s3c.put_object(Bucket=lc_bucket, Key="tiny", Body=b"t" * 100)
    s3c.put_object(Bucket=lc_bucket, Key="ia/tiny", Body=b"t" * 100)
    put_rules(
        s3c,
        lc_bucket,
        _rule(ID="glacier", Filter={"Prefix": "tiny"},
              Transitions=[{"Days": 0, "StorageClass": "GLACIER"}]),
        _rule(ID="ia", Filter={"Prefix": "ia/"},
              Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}]),
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )  # fmt: skip
    advance_days(lc_server, 31)
    wait_until(lambda: storage_class(s3c, lc_bucket, "tiny") == "GLACIER", "tiny to GLACIER")
    # the pass that moved "tiny" had already decided "ia/tiny" (key order): left alone
    assert storage_class(s3c, lc_bucket, "ia/tiny") == "STANDARD"  # IA keeps the 128 KB floor
    # a size filter of the rule's own decides instead of the default
    put_rules(
        s3c,
        lc_bucket,
        _rule(ID="ia", Filter={"ObjectSizeGreaterThan": 10},
              Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}]),
    )  # fmt: skip
    wait_until(lambda: storage_class(s3c, lc_bucket, "ia/tiny") == "STANDARD_IA", "by size")


def test_noncurrent_transition(s3c: Any, lc_server: RunningServer, lc_bucket: str) -> None:
    s3c.put_bucket_versioning(Bucket=lc_bucket, VersioningConfiguration={"Status": "Enabled"})
    old = os.urandom(200 * 1024)
    first = s3c.put_object(Bucket=lc_bucket, Key="k", Body=old)["VersionId"]
    s3c.put_object(Bucket=lc_bucket, Key="k", Body=b"new")
    put_rules(
        s3c,
        lc_bucket,
        _rule(Filter={}, NoncurrentVersionTransitions=[{"NoncurrentDays": 30,
                                                        "StorageClass": "GLACIER_IR"}]),
    )  # fmt: skip
    advance_days(lc_server, 32)
    wait_until(
        lambda: storage_class(s3c, lc_bucket, "k", VersionId=first) == "GLACIER_IR",
        "noncurrent version moved",
    )
    assert storage_class(s3c, lc_bucket, "k") == "STANDARD"
    again = s3c.get_object(Bucket=lc_bucket, Key="k", VersionId=first)["Body"].read()
    assert again == old


# ---- the engine: incomplete multipart uploads --------------------------------------------------


def test_incomplete_uploads_are_aborted(s3c: Any, lc_server: RunningServer, lc_bucket: str) -> None:
    put_rules(
        s3c,
        lc_bucket,
        _rule(ID="abort-mp", Filter={"Prefix": "mp/"},
              AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),
    )  # fmt: skip
    created = s3c.create_multipart_upload(Bucket=lc_bucket, Key="mp/x")
    assert created["AbortRuleId"] == "abort-mp"
    uploads = s3c.list_multipart_uploads(Bucket=lc_bucket)["Uploads"]
    assert created["AbortDate"] == _midnight_after(uploads[0]["Initiated"], 2)
    s3c.upload_part(
        Bucket=lc_bucket, Key="mp/x", UploadId=created["UploadId"], PartNumber=1, Body=b"p" * 100
    )
    other = s3c.create_multipart_upload(Bucket=lc_bucket, Key="other/x")
    assert "AbortRuleId" not in other
    advance_days(lc_server, 3)

    def left() -> list[str]:
        return [u["Key"] for u in s3c.list_multipart_uploads(Bucket=lc_bucket).get("Uploads", [])]

    wait_until(lambda: left() == ["other/x"], "mp/x aborted")
    with pytest.raises(ClientError) as caught:
        s3c.list_parts(Bucket=lc_bucket, Key="mp/x", UploadId=created["UploadId"])
    assert error_of(caught) == ("NoSuchUpload", 404)
    s3c.abort_multipart_upload(Bucket=lc_bucket, Key="other/x", UploadId=other["UploadId"])


def test_engine_metrics(lc_server: RunningServer) -> None:
    for name in (
        "strata_lifecycle_passes_total",
        "strata_lifecycle_examined_versions_total",
        "strata_lifecycle_expired_total",
        "strata_lifecycle_transitioned_total",
        "strata_lifecycle_pass_duration_seconds",
    ):
        assert metric(lc_server, name) >= 0
    assert metric(lc_server, "strata_lifecycle_examined_versions_total") > 0


def test_reset_forgets_every_configuration(s3c: Any, lc_server: RunningServer) -> None:
    """Last in the module: a reset empties the whole store."""
    s3c.create_bucket(Bucket="lc-reset")
    put_rules(s3c, "lc-reset", _rule(Expiration={"Days": 1}))
    remote(lc_server).admin("POST", "reset")
    s3c.create_bucket(Bucket="lc-reset")
    with pytest.raises(ClientError) as caught:
        s3c.get_bucket_lifecycle_configuration(Bucket="lc-reset")
    assert error_of(caught) == ("NoSuchLifecycleConfiguration", 404)
    s3c.put_object(Bucket="lc-reset", Key="p/x", Body=b"1")
    put_rules(s3c, "lc-reset", _rule(Expiration={"Days": 1}))  # the engine runs after a reset
    advance_days(lc_server, 3)
    wait_until(lambda: keys_of(s3c, "lc-reset") == [], "expired after the reset")
    s3c.delete_bucket(Bucket="lc-reset")
