"""RestoreObject end to end with boto3 and the store clock: each class and retrieval tier
with AWS's delays, x-amz-restore, the temporary copy's bytes (hot volume) and expiry,
extension, RestoreStatus in listings, errors, restarts and kill -9.

The store clock only moves forward: this module has its own server."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.storage.volumes.cipher import sealed_size
from tests.conftest import client
from tests.e2e.s3.archive.clock import advance, now_s, restore_header, wait_for
from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_volumes import live
from tests.server import RunningServer, start_server

HOUR_S = 3600.0
DAY_S = 86400.0
SIZE = 300_000  # past the inline limit: bytes in extents, so copies show in volumes


def done(s3: Any, bucket: str, key: str, **kwargs: Any) -> bool:
    return (restore_header(s3, bucket, key, **kwargs) or "").startswith('ongoing-request="false"')


def next_midnight(at_s: float) -> datetime.datetime:
    day = datetime.datetime.fromtimestamp(at_s, datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def test_glacier_restore_copy_then_expiry(s3: Any, server: RunningServer, bucket: str) -> None:
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="k", Body=body, StorageClass="GLACIER")
    hot_before, archive_before = live(server, "hot"), live(server, "archive")
    reply = s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 2})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert restore_header(s3, bucket, "k") == 'ongoing-request="true"'
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 9})
    assert error_of(caught) == ("RestoreAlreadyInProgress", 409)
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
    assert listed["Contents"][0]["RestoreStatus"] == {"IsRestoreInProgress": True}
    assert "RestoreStatus" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]

    advance(server, 4 * HOUR_S)  # Standard from GLACIER: 5 hours
    time.sleep(0.5)
    assert restore_header(s3, bucket, "k") == 'ongoing-request="true"'
    advance(server, HOUR_S + 1)
    completed_at = now_s(server)
    wait_for(lambda: done(s3, bucket, "k"), "the restore to complete")
    expiry = next_midnight(completed_at + 2 * DAY_S)
    expected = expiry.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert restore_header(s3, bucket, "k") == f'ongoing-request="false", expiry-date="{expected}"'
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == body
    assert got["Restore"] == restore_header(s3, bucket, "k")
    assert got["StorageClass"] == "GLACIER"  # the class stays; the copy is temporary
    assert live(server, "hot") == hot_before + sealed_size(SIZE)  # the copy, in the hot volume
    assert live(server, "archive") == archive_before  # the archived bytes stay
    # A restored object can be copied: the permanent copy has no restore of its own.
    s3.copy_object(
        Bucket=bucket,
        Key="kept",
        CopySource={"Bucket": bucket, "Key": "k"},
        StorageClass="STANDARD",
    )
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="kept")
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == body
    s3.delete_object(Bucket=bucket, Key="kept")
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
    assert listed["Contents"][0]["RestoreStatus"] == {
        "IsRestoreInProgress": False,
        "RestoreExpiryDate": expiry,
    }

    # Restoring a restored object again: 200, the period restarts from now.
    reply = s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 5})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    extended = next_midnight(now_s(server) + 5 * DAY_S)
    assert extended.strftime("%a, %d %b %Y") in (restore_header(s3, bucket, "k") or "")

    advance(server, 7 * DAY_S)  # past the new expiry
    wait_for(lambda: restore_header(s3, bucket, "k") is None, "the copy to expire")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("InvalidObjectState", 403)
    assert live(server, "hot") == hot_before  # the copy's bytes are gone
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == SIZE
    # and it can be restored again: a new restore, 202
    reply = s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 1})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202


@pytest.mark.parametrize(
    ("storage_class", "tier", "delay_s"),
    [
        ("GLACIER", "Expedited", 5 * 60),
        ("GLACIER", "Bulk", 12 * HOUR_S),
        ("DEEP_ARCHIVE", "Standard", 12 * HOUR_S),
        ("DEEP_ARCHIVE", "Bulk", 48 * HOUR_S),
    ],
)
def test_retrieval_tiers_take_their_time(
    s3: Any, server: RunningServer, bucket: str, storage_class: str, tier: str, delay_s: float
) -> None:
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="k", Body=body, StorageClass=storage_class)
    s3.restore_object(
        Bucket=bucket,
        Key="k",
        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": tier}},
    )
    advance(server, delay_s - 60)
    time.sleep(0.5)
    assert restore_header(s3, bucket, "k") == 'ongoing-request="true"'
    advance(server, 61)
    wait_for(lambda: done(s3, bucket, "k"), "the restore to complete")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body


def test_small_and_versioned_restores(s3: Any, server: RunningServer, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"tiny", StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=bucket, Key="k", Body=os.urandom(SIZE), StorageClass="DEEP_ARCHIVE")
    version = old["VersionId"]
    reply = s3.restore_object(Bucket=bucket, Key="k", VersionId=version, RestoreRequest={"Days": 1})
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert reply["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"] == version
    assert restore_header(s3, bucket, "k") is None  # the current version is not restoring
    listed = s3.list_object_versions(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
    statuses = {v["VersionId"]: v.get("RestoreStatus") for v in listed["Versions"]}
    assert statuses[version] == {"IsRestoreInProgress": True}
    assert [s for v, s in statuses.items() if v != version] == [None]
    advance(server, 12 * HOUR_S + 1)
    wait_for(lambda: done(s3, bucket, "k", VersionId=version), "the restore to complete")
    listed = s3.list_object_versions(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
    statuses = {v["VersionId"]: v.get("RestoreStatus") for v in listed["Versions"]}
    assert statuses[version]["IsRestoreInProgress"] is False
    assert "RestoreExpiryDate" in statuses[version]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=version)["Body"].read() == b"tiny"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("InvalidObjectState", 403)


def test_deleting_a_restored_version_frees_its_copy(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=os.urandom(SIZE), StorageClass="GLACIER")
    hot_before = live(server, "hot")
    s3.restore_object(
        Bucket=bucket,
        Key="k",
        RestoreRequest={"Days": 3, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    advance(server, 301)
    wait_for(lambda: done(s3, bucket, "k"), "the restore to complete")
    assert live(server, "hot") == hot_before + sealed_size(SIZE)
    s3.delete_object(Bucket=bucket, Key="k")
    assert live(server, "hot") == hot_before
    s3.put_object(Bucket=bucket, Key="k", Body=b"new", StorageClass="GLACIER")
    advance(server, 4 * DAY_S)  # the old copy's expiry falls due: nothing to do, no error
    time.sleep(0.5)
    assert restore_header(s3, bucket, "k") is None


@pytest.mark.parametrize(
    ("storage_class", "request_body", "expected"),
    [
        ("STANDARD", {"Days": 1}, ("InvalidObjectState", 403)),
        ("GLACIER_IR", {"Days": 1}, ("InvalidObjectState", 403)),
        ("STANDARD_IA", {"Days": 1}, ("InvalidObjectState", 403)),
        ("DEEP_ARCHIVE", {"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}},
         ("InvalidArgument", 400)),
        ("GLACIER", {"Days": 0}, ("InvalidArgument", 400)),
        ("GLACIER", {"Days": 1, "GlacierJobParameters": {"Tier": "Fast"}}, ("MalformedXML", 400)),
        ("GLACIER", {}, ("MalformedXML", 400)),
        ("INTELLIGENT_TIERING", {}, ("ObjectAlreadyInActiveTierError", 403)),
        ("INTELLIGENT_TIERING", {"Days": 1}, ("InvalidArgument", 400)),
    ],
)  # fmt: skip
def test_restore_errors_change_nothing(
    s3: Any,
    bucket: str,
    storage_class: str,
    request_body: dict[str, Any],
    expected: tuple[str, int],
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass=storage_class)
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="k", RestoreRequest=request_body)
    assert error_of(caught) == expected
    head = s3.head_object(Bucket=bucket, Key="k")
    assert "Restore" not in head
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])
    assert "RestoreStatus" not in listed["Contents"][0]


def test_restore_of_missing_things(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="missing", RestoreRequest={"Days": 1})
    assert error_of(caught) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket + "-none", Key="k", RestoreRequest={"Days": 1})
    assert error_of(caught) == ("NoSuchBucket", 404)


def test_restore_state_survives_restart_and_kill(data_dir: Path, server: RunningServer) -> None:
    """A restore acknowledged is durable: kill -9 right after it, and the restart keeps
    it running; it completes by the clock afterwards, and the copy survives a kill too."""
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    name = "restart-restore"
    s3.create_bucket(Bucket=name)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=name, Key="k", Body=body, StorageClass="GLACIER")
    s3.restore_object(Bucket=name, Key="k", RestoreRequest={"Days": 1})
    server.kill()
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    assert restore_header(s3, name, "k") == 'ongoing-request="true"'
    advance(server, 5 * HOUR_S + 1)
    wait_for(lambda: done(s3, name, "k"), "the restore to complete after the restart")
    server.kill()
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    assert done(s3, name, "k")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == body
    server.stop()  # a clean stop too
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == body


def test_a_faster_tier_upgrades_a_running_restore(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="k", Body=body, StorageClass="GLACIER")

    def restore(tier: str) -> int:
        reply = s3.restore_object(
            Bucket=bucket,
            Key="k",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": tier}},
        )
        status: int = reply["ResponseMetadata"]["HTTPStatusCode"]
        return status

    assert restore("Bulk") == 202  # 12 hours
    with pytest.raises(ClientError) as caught:  # the same tier again
        restore("Bulk")
    assert error_of(caught) == ("RestoreAlreadyInProgress", 409)
    assert restore("Standard") == 202  # upgraded: 5 hours from now
    with pytest.raises(ClientError) as caught:
        restore("Bulk")
    assert error_of(caught) == ("RestoreAlreadyInProgress", 409)
    assert restore("Expedited") == 202  # 5 minutes from now
    advance(server, 5 * 60 + 1)
    wait_for(lambda: done(s3, bucket, "k"), "the upgraded restore to complete")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body


def test_restored_multipart_object_reads_by_part_and_range(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1024 * 1024 + 7)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="GLACIER")
    done_parts = []
    for number, data in enumerate(parts, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number, Body=data
        )["ETag"]
        done_parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": done_parts}
    )
    hot_before = live(server, "hot")
    s3.restore_object(
        Bucket=bucket,
        Key="mp",
        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    advance(server, 5 * 60 + 1)
    wait_for(lambda: done(s3, bucket, "mp"), "the restore to complete")
    assert live(server, "hot") == hot_before + sealed_size(sum(len(p) for p in parts))
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == parts[1]
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=5242000-5243000")
    assert ranged["Body"].read() == whole[5242000:5243001]


def test_kill_while_a_restore_copies(data_dir: Path, server: RunningServer) -> None:
    """kill -9 as the engine copies a 48 MiB restore: after the restart the restore is
    done exactly once (one copy's bytes live in the hot volume) and reads back whole."""
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    name = "kill-restore"
    s3.create_bucket(Bucket=name)
    body = os.urandom(48 * 1024 * 1024)
    s3.put_object(Bucket=name, Key="big", Body=body, StorageClass="DEEP_ARCHIVE")
    hot_before = live(server, "hot")
    s3.restore_object(Bucket=name, Key="big", RestoreRequest={"Days": 1})
    advance(server, 12 * HOUR_S + 1)
    time.sleep(0.2)  # the engine is woken and copying
    server.kill()
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    wait_for(lambda: done(s3, name, "big"), "the restore to complete after the restart")
    assert live(server, "hot") == hot_before + sealed_size(len(body))
    assert s3.get_object(Bucket=name, Key="big")["Body"].read() == body
