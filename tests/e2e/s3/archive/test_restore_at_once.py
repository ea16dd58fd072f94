"""``restore_delay_scale = 0``: a restore completes at the engine's next turn, no clock
move needed (what a test suite that only wants restored objects sets)."""

from __future__ import annotations

from typing import Any

from tests.e2e.s3.archive.clock import restore_header, wait_for

SERVER_ENV = {"STRATA_RESTORE_DELAY_SCALE": "0"}


def test_restore_completes_at_once(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 200_000, StorageClass="DEEP_ARCHIVE")
    reply = s3.restore_object(
        Bucket=bucket, Key="k", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}}
    )
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    wait_for(
        lambda: (restore_header(s3, bucket, "k") or "").startswith('ongoing-request="false"'),
        "the restore",
    )
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x" * 200_000
