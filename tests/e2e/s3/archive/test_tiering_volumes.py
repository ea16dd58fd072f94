"""``storage_class_volumes`` places Intelligent-Tiering's tiers too: here Infrequent in
the archive volume, so a 31-day idle object's bytes land there instead of the cold one."""

from __future__ import annotations

import os
from typing import Any

from strata.storage.volumes.cipher import sealed_size
from tests.e2e.s3.archive.clock import advance, wait_for
from tests.e2e.s3.test_volumes import live
from tests.server import RunningServer

SERVER_ENV = {"STRATA_STORAGE_CLASS_VOLUMES": "INTELLIGENT_TIERING_INFREQUENT=archive"}
DAY_S = 86400.0


def test_a_tier_mapped_to_another_volume(s3: Any, server: RunningServer, bucket: str) -> None:
    body = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="k", Body=body, StorageClass="INTELLIGENT_TIERING")
    hot, cold, archive = live(server, "hot"), live(server, "cold"), live(server, "archive")
    advance(server, 31 * DAY_S)
    wait_for(lambda: live(server, "hot") == hot - sealed_size(len(body)), "the move to Infrequent")
    assert live(server, "archive") > archive
    assert live(server, "cold") == cold
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
