"""Intelligent-Tiering end to end with boto3 and the store clock: objects move down the
tiers by idle time (their bytes between the volumes), back on a GET or copy (not on HEAD,
listing or tagging), into the opt-in archive tiers by configuration, out of them by
RestoreObject; small objects stay; a kill -9 during a pass loses nothing.

The store clock only moves forward: this module has its own server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.storage.volumes.cipher import sealed_size
from tests.conftest import client
from tests.e2e.s3.archive.clock import advance, restore_header, wait_for
from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_volumes import live, metric
from tests.server import RunningServer, start_server

DAY_S = 86400.0
# Passes an hour apart: only the clock's wake-up makes them prompt.
SERVER_ENV = {"STRATA_INTELLIGENT_TIERING_INTERVAL_S": "3600"}
SIZE = 300_000  # monitored (128 KB and up) and in extents
IT = "INTELLIGENT_TIERING"


def moves(server: RunningServer, tier: str) -> float:
    return metric(server, f'strata_tiering_moves_total{{tier="{tier}"}}')


def passes(server: RunningServer) -> float:
    return metric(server, "strata_tiering_passes_total")


def advance_and_pass(server: RunningServer, seconds: float) -> None:
    """Move the clock and wait for the pass it starts to finish."""
    before = passes(server)
    advance(server, seconds)
    wait_for(lambda: passes(server) > before, "a tiering pass")


def test_tiers_follow_idle_time_and_accesses(s3: Any, server: RunningServer, bucket: str) -> None:
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="big", Body=body, StorageClass=IT)
    s3.put_object(Bucket=bucket, Key="small", Body=os.urandom(100_000), StorageClass=IT)
    s3.put_object(Bucket=bucket, Key="standard", Body=os.urandom(SIZE))
    hot, cold, archive = live(server, "hot"), live(server, "cold"), live(server, "archive")

    advance_and_pass(server, 29 * DAY_S)
    assert live(server, "hot") == hot  # 29 days idle: still Frequent

    advance_and_pass(server, 2 * DAY_S)  # 31 days: Infrequent, bytes in the cold volume
    assert live(server, "hot") == hot - sealed_size(SIZE)  # the small one and STANDARD stay
    assert live(server, "cold") > cold
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["StorageClass"] == IT
    assert "ArchiveStatus" not in head

    # A GET reads it as it is and brings it back to Frequent.
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == body
    wait_for(lambda: live(server, "hot") == hot, "the accessed object back in Frequent")
    assert live(server, "cold") == cold

    # HEAD, listing and tagging are not accesses: 31 days later it is Infrequent again.
    advance_and_pass(server, 20 * DAY_S)
    s3.head_object(Bucket=bucket, Key="big")
    s3.list_objects_v2(Bucket=bucket)
    s3.put_object_tagging(
        Bucket=bucket, Key="big", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    s3.get_object_tagging(Bucket=bucket, Key="big")
    advance_and_pass(server, 11 * DAY_S)
    assert live(server, "hot") == hot - sealed_size(SIZE)

    # 90 days without access: Archive Instant (the archive volume), still readable.
    advance_and_pass(server, 60 * DAY_S)
    assert live(server, "archive") > archive
    assert live(server, "cold") == cold
    assert "ArchiveStatus" not in s3.head_object(Bucket=bucket, Key="big")
    # A copy reads it: an access too (and the copy is a new object in Frequent).
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"})
    wait_for(lambda: live(server, "archive") == archive, "the copied object back in Frequent")
    assert live(server, "hot") == hot + sealed_size(SIZE)  # the object and its copy
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body


def test_archive_tiers_need_a_restore(s3: Any, server: RunningServer, bucket: str) -> None:
    s3.put_bucket_intelligent_tiering_configuration(
        Bucket=bucket,
        Id="archive",
        IntelligentTieringConfiguration={
            "Id": "archive",
            "Status": "Enabled",
            "Filter": {"Prefix": "arch/"},
            "Tierings": [
                {"Days": 100, "AccessTier": "ARCHIVE_ACCESS"},
                {"Days": 200, "AccessTier": "DEEP_ARCHIVE_ACCESS"},
            ],
        },
    )
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="arch/x", Body=body, StorageClass=IT)
    s3.put_object(Bucket=bucket, Key="other/y", Body=os.urandom(SIZE), StorageClass=IT)
    hot = live(server, "hot")

    advance_and_pass(server, 101 * DAY_S)
    head = s3.head_object(Bucket=bucket, Key="arch/x")
    assert head["ArchiveStatus"] == "ARCHIVE_ACCESS"
    assert head["StorageClass"] == IT
    assert "ArchiveStatus" not in s3.head_object(Bucket=bucket, Key="other/y")  # no filter match
    s3.get_object(Bucket=bucket, Key="other/y")  # Archive Instant: readable
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="arch/x")
    assert error_of(caught) == ("InvalidObjectState", 403)
    assert caught.value.response["Error"]["StorageClass"] == IT
    assert caught.value.response["Error"]["AccessTier"] == "ARCHIVE_ACCESS"
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "arch/x"})
    assert error_of(caught) == ("InvalidObjectState", 403)

    advance_and_pass(server, 100 * DAY_S)
    assert s3.head_object(Bucket=bucket, Key="arch/x")["ArchiveStatus"] == "DEEP_ARCHIVE_ACCESS"
    with pytest.raises(ClientError) as caught:  # no Days for Intelligent-Tiering
        s3.restore_object(Bucket=bucket, Key="arch/x", RestoreRequest={"Days": 1})
    assert error_of(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:  # no Expedited from Deep Archive Access
        s3.restore_object(
            Bucket=bucket,
            Key="arch/x",
            RestoreRequest={"GlacierJobParameters": {"Tier": "Expedited"}},
        )
    assert error_of(caught) == ("InvalidArgument", 400)
    reply = s3.restore_object(Bucket=bucket, Key="arch/x")  # no body: the request is empty
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert restore_header(s3, bucket, "arch/x") == 'ongoing-request="true"'
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="arch/x", RestoreRequest={})
    assert error_of(caught) == ("RestoreAlreadyInProgress", 409)

    advance(server, 12 * 3600 + 1)  # Standard from Deep Archive Access: 12 hours
    wait_for(
        lambda: "ArchiveStatus" not in s3.head_object(Bucket=bucket, Key="arch/x"),
        "the restore to bring the object back",
    )
    head = s3.head_object(Bucket=bucket, Key="arch/x")
    assert head["StorageClass"] == IT
    assert "Restore" not in head  # it is simply in Frequent again
    assert s3.get_object(Bucket=bucket, Key="arch/x")["Body"].read() == body
    assert live(server, "hot") == hot - sealed_size(
        SIZE
    )  # arch/x back; other/y idle in Archive Instant
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="arch/x", RestoreRequest={})
    assert error_of(caught) == ("ObjectAlreadyInActiveTierError", 403)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_kill_during_a_pass_loses_nothing(data_dir: Path, server: RunningServer) -> None:
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    name = "tiering-kill"
    s3.create_bucket(Bucket=name)
    count, size = 40, 1024 * 1024
    digests = {}
    for n in range(count):
        data = os.urandom(size)
        s3.put_object(Bucket=name, Key=f"o{n:02d}", Body=data, StorageClass=IT)
        digests[f"o{n:02d}"] = digest(data)
    hot = live(server, "hot")
    moved_before = moves(server, "INFREQUENT")
    advance(server, 31 * DAY_S)
    wait_for(lambda: moves(server, "INFREQUENT") > moved_before, "the pass to start moving")
    server.kill()  # in the middle of the pass (40 MiB to move)
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    # The restarted server's pass finishes the work: every object ends in Infrequent.
    wait_for(lambda: live(server, "hot") <= hot - count * size, "every object in the cold volume")
    assert moves(server, "INFREQUENT") > 0  # the kill left work: the restart did it
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    for key, expected in digests.items():
        assert digest(s3.get_object(Bucket=name, Key=key)["Body"].read()) == expected
    server.stop()
    again = start_server(data_dir, port=server.port)
    server.process = again.process
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    assert s3.get_object(Bucket=name, Key="o00")["ContentLength"] == size
