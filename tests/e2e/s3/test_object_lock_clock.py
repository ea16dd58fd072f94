"""Object Lock against the store clock, lifecycle and kill -9.

Retention is judged by the store clock: moving it past retain-until frees a version (a
legal hold still holds it). Lifecycle removes versions through DeleteObject's own path, so
it never removes a locked one. kill -9 in the middle of concurrent delete attempts leaves
every locked version intact, and every acknowledged delete done, after the restart.

One server per module for the clock (it only moves forward); the crash test has its own.
"""

from __future__ import annotations

import datetime
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import client
from tests.e2e.s3 import test_lifecycle
from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_lifecycle import advance_days, metric, remote, wait_until
from tests.server import RunningServer, start_server

UTC = datetime.UTC


# This module's own server, lifecycle passes an hour apart, and its client (the lifecycle
# tests' fixtures, instantiated per module).
lc_server = test_lifecycle.lc_server
s3c = test_lifecycle.s3c


@pytest.fixture(scope="module")
def clock_server(lc_server: RunningServer) -> RunningServer:
    return lc_server


@pytest.fixture
def locked(s3c: Any, unique_name: str) -> str:
    s3c.create_bucket(Bucket=unique_name, ObjectLockEnabledForBucket=True)
    return unique_name


def put_compliance(s3: Any, bucket: str, key: str, body: bytes, until: datetime.datetime,
                   **extra: Any) -> str:  # fmt: skip
    version_id: str = s3.put_object(
        Bucket=bucket, Key=key, Body=body, ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=until, **extra,
    )["VersionId"]  # fmt: skip
    return version_id


def store_now(server: RunningServer) -> datetime.datetime:
    return datetime.datetime.fromisoformat(remote(server).clock()["now"])


def delete_code(s3: Any, bucket: str, key: str, version_id: str) -> str:
    """The error code of a governance-bypassing delete by version id ("" if it went)."""
    try:
        s3.delete_object(
            Bucket=bucket, Key=key, VersionId=version_id, BypassGovernanceRetention=True
        )
    except ClientError as exc:
        code: str = exc.response["Error"]["Code"]
        return code
    return ""


def test_retention_ends_by_the_store_clock(
    clock_server: RunningServer, s3c: Any, locked: str
) -> None:
    until = store_now(clock_server) + datetime.timedelta(days=2)
    comp = put_compliance(s3c, locked, "comp", b"c", until)
    held = put_compliance(s3c, locked, "held", b"h", until, ObjectLockLegalHoldStatus="ON")
    conf = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
    }
    s3c.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    default = s3c.put_object(Bucket=locked, Key="default", Body=b"d")["VersionId"]
    for key, version_id in (("comp", comp), ("held", held), ("default", default)):
        assert delete_code(s3c, locked, key, version_id) == "AccessDenied"
    advance_days(clock_server, 1.5)  # past the default's day, not past the two
    assert delete_code(s3c, locked, "default", default) == ""
    assert delete_code(s3c, locked, "comp", comp) == "AccessDenied"
    with pytest.raises(ClientError) as caught:
        s3c.put_object_retention(Bucket=locked, Key="comp", Retention={})
    assert error_of(caught) == ("AccessDenied", 403)
    advance_days(clock_server, 1)
    # Past retain-until: the retention no longer binds (it is still shown, as S3 does).
    assert s3c.head_object(Bucket=locked, Key="comp")["ObjectLockMode"] == "COMPLIANCE"
    assert delete_code(s3c, locked, "comp", comp) == ""
    # A legal hold outlives the retention.
    assert delete_code(s3c, locked, "held", held) == "AccessDenied"
    s3c.put_object_legal_hold(Bucket=locked, Key="held", LegalHold={"Status": "OFF"})
    assert delete_code(s3c, locked, "held", held) == ""
    # A date in the past by the store clock is refused, though after the wall clock.
    soon = datetime.datetime.now(UTC) + datetime.timedelta(hours=1)
    with pytest.raises(ClientError) as caught:
        s3c.put_object(
            Bucket=locked, Key="late", Body=b"x", ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=soon,
        )  # fmt: skip
    assert error_of(caught) == ("InvalidArgument", 400)


def test_lifecycle_never_removes_a_locked_version(
    clock_server: RunningServer, s3c: Any, locked: str
) -> None:
    until = store_now(clock_server) + datetime.timedelta(days=30)
    sealed = put_compliance(s3c, locked, "sealed", b"v0", until)
    s3c.put_object(Bucket=locked, Key="sealed", Body=b"v1")
    held = s3c.put_object(Bucket=locked, Key="held", Body=b"h0", ObjectLockLegalHoldStatus="ON")[
        "VersionId"
    ]
    s3c.put_object(Bucket=locked, Key="held", Body=b"h1")
    free = s3c.put_object(Bucket=locked, Key="free", Body=b"f0")["VersionId"]
    s3c.put_object(Bucket=locked, Key="free", Body=b"f1")
    s3c.put_bucket_lifecycle_configuration(
        Bucket=locked,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "all",
                    "Status": "Enabled",
                    "Filter": {},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                }
            ]
        },
    )
    refused = metric(clock_server, "strata_lifecycle_refused_total")
    advance_days(clock_server, 3)

    def free_gone() -> bool:
        listed = s3c.list_object_versions(Bucket=locked, Prefix="free")
        return all(v["VersionId"] != free for v in listed.get("Versions", []))

    wait_until(free_gone, "the unlocked noncurrent version expired")
    wait_until(
        lambda: metric(clock_server, "strata_lifecycle_refused_total") >= refused + 2,
        "both locked versions refused",
    )
    got = s3c.get_object(Bucket=locked, Key="sealed", VersionId=sealed)
    assert got["Body"].read() == b"v0"
    assert got["ObjectLockMode"] == "COMPLIANCE"
    got = s3c.get_object(Bucket=locked, Key="held", VersionId=held)
    assert got["Body"].read() == b"h0"
    s3c.put_object_legal_hold(
        Bucket=locked, Key="held", VersionId=held, LegalHold={"Status": "OFF"}
    )


# ---- kill -9 ----------------------------------------------------------------------------

LOCKED_EACH = 20
ACKS_BEFORE_KILL = 60
WORKERS = 4


class Ledger:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deleted: set[tuple[str, str]] = set()  # acknowledged deletes
        self.wrongly_deleted: list[tuple[str, str]] = []
        self.enough = threading.Event()

    def ack_delete(self, key: str, version_id: str) -> None:
        with self.lock:
            self.deleted.add((key, version_id))
            if len(self.deleted) >= ACKS_BEFORE_KILL:
                self.enough.set()


def churn(s3: Any, bucket: str, n: int, targets: list[tuple[str, str]], ledger: Ledger) -> None:
    """Write and delete unlocked versions, and try to delete every locked one, until the
    server dies."""
    round_ = 0
    while round_ < 10_000:
        key = f"u/{n}/{round_}"
        body = f"{n}-{round_}".encode()
        try:
            version_id = s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
            ledger.ack_delete(key, version_id)
            for locked_key, locked_id in targets[n::WORKERS]:
                try:
                    s3.delete_object(
                        Bucket=bucket, Key=locked_key, VersionId=locked_id,
                        BypassGovernanceRetention=True,
                    )  # fmt: skip
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "AccessDenied":
                        raise
                    continue
                with ledger.lock:
                    ledger.wrongly_deleted.append((locked_key, locked_id))
        except (ClientError, BotoCoreError):
            return
        round_ += 1


def test_kill_during_deletes_keeps_locked_versions(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"}, max_pool_connections=8)
        bucket = "locked-crash"
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        far = datetime.datetime(2099, 1, 1, tzinfo=UTC)
        targets: list[tuple[str, str]] = []
        for i in range(LOCKED_EACH):
            for key, extra in (
                (f"comp/{i}", {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": far}),
                (f"held/{i}", {"ObjectLockLegalHoldStatus": "ON"}),
            ):
                body = key.encode() * (1 + i * 4000)  # inline and extent-sized bytes
                version_id = s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
                targets.append((key, version_id["VersionId"]))
        ledger = Ledger()
        threads = [
            threading.Thread(target=churn, args=(s3, bucket, n, targets, ledger), daemon=True)
            for n in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        assert ledger.enough.wait(timeout=120), "the deletes did not get going"
        server.kill()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert ledger.wrongly_deleted == []
    finally:
        server.kill()
    server = start_server(data_dir)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for key, version_id in targets:
            head = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            i = int(key.split("/")[1])
            got = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
            assert got == key.encode() * (1 + i * 4000)
            if key.startswith("comp/"):
                assert head["ObjectLockMode"] == "COMPLIANCE"
                assert head["ObjectLockRetainUntilDate"] == far
            else:
                assert head["ObjectLockLegalHoldStatus"] == "ON"
            assert delete_code(s3, bucket, key, version_id) == "AccessDenied"
        for key, version_id in ledger.deleted:
            with pytest.raises(ClientError) as caught:
                s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    finally:
        server.stop()
