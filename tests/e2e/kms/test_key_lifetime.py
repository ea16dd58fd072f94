"""KMS keys over a server's life: durable across kill -9, gone after their deletion window
on the store clock, authorized per key ARN for IAM users, and in the audit trail.

One server per module: the clock only moves forward, so it must not be the session's."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from strata.service.kms.records import KEY, KeyRecord, record_key
from strata.storage import records, spaces
from strata.storage.clock import SystemClock
from strata.storage.master_key import load_master_key
from strata.storage.store import LocalStore
from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.kms.conftest import advance_clock, error_of
from tests.server import RunningServer, start_server

DAY_S = 86400


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("kms") / "data")
    yield running
    running.stop()


def test_keys_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = start_server(data)
    try:
        kms = client(running, "kms")
        key_id = kms.create_key(Description="durable")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/durable", TargetKeyId=key_id)
        blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"kept")["CiphertextBlob"]
        kms.rotate_key_on_demand(KeyId=key_id)
        rotated = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
        kms.disable_key(KeyId=key_id)
        running.kill()
        running = start_server(data, port=running.port)
        kms = client(running, "kms")
        meta = kms.describe_key(KeyId="alias/durable")["KeyMetadata"]
        assert (meta["KeyId"], meta["KeyState"]) == (key_id, "Disabled")
        kms.enable_key(KeyId=key_id)
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
        assert kms.decrypt(CiphertextBlob=rotated)["Plaintext"] == b"after"
    finally:
        running.stop()


def test_deleted_after_the_window(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=key_id)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"gone soon")["CiphertextBlob"]
    arn = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)["KeyId"]
    advance_clock(own_server, 6 * DAY_S)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    advance_clock(own_server, DAY_S + 60)
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId=key_id)
    assert error_of(caught) == ("NotFoundException", 400, f"Key '{arn}' does not exist")
    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=blob)
    assert error_of(caught)[:2] == ("NotFoundException", 400)
    assert key_id not in [k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]]
    assert "alias/doomed" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    # Its alias name is free again.
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=other)


def test_scheduled_rotation_on_the_store_clock(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    before = kms.encrypt(KeyId=key_id, Plaintext=b"v1")["CiphertextBlob"]
    advance_clock(own_server, 91 * DAY_S)
    after = kms.encrypt(KeyId=key_id, Plaintext=b"v2")["CiphertextBlob"]
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    assert before != after
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"v1"
    assert kms.decrypt(CiphertextBlob=after)["Plaintext"] == b"v2"


def test_iam_user_needs_kms_permission_on_the_key(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    iam = client(own_server, "iam")
    allowed = kms.create_key()["KeyMetadata"]
    other = kms.create_key()["KeyMetadata"]
    iam.create_user(UserName="kms-user")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt"],
                "Resource": allowed["Arn"],
            }
        ],
    }
    iam.put_user_policy(UserName="kms-user", PolicyName="k", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="kms-user")["AccessKey"]
    as_user = signed_as(own_server, "kms", key["AccessKeyId"], key["SecretAccessKey"])
    blob = as_user.encrypt(KeyId=allowed["KeyId"], Plaintext=b"ok")["CiphertextBlob"]
    assert as_user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"ok"
    with pytest.raises(ClientError) as caught:
        as_user.encrypt(KeyId=other["KeyId"], Plaintext=b"no")
    code, status, message = error_of(caught)
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"kms:Encrypt on resource: {other['Arn']}" in message
    with pytest.raises(ClientError) as caught:
        as_user.disable_key(KeyId=allowed["KeyId"])
    assert error_of(caught)[:2] == ("AccessDeniedException", 400)
    assert kms.describe_key(KeyId=allowed["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_key_calls_are_audited(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=key_id, Plaintext=b"audited-plaintext")
    cloudtrail = client(own_server, "cloudtrail")
    events = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}],
        MaxResults=50,
    )["Events"]
    names = [(e["EventName"], e["Resources"]) for e in events]
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert ("Encrypt", [{"ResourceType": "AWS::KMS::Key", "ResourceName": arn}]) in names
    assert ("CreateKey", [{"ResourceType": "AWS::KMS::Key", "ResourceName": arn}]) in names
    assert all("audited-plaintext" not in e["CloudTrailEvent"] for e in events)
    read_only = {e["EventName"]: e["ReadOnly"] for e in events}
    assert (read_only["Encrypt"], read_only["CreateKey"]) == ("true", "false")


def test_key_material_is_stored_wrapped(tmp_path: Path) -> None:
    """The KMS space holds key material only wrapped by the master key: a stopped
    server's store, read directly, has 60-byte wrapped versions naming the master key."""
    data = tmp_path / "data"
    running = start_server(data)
    try:
        kms = client(running, "kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.rotate_key_on_demand(KeyId=key_id)
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"p")["CiphertextBlob"]
    finally:
        running.stop()
    master = load_master_key(str(data), None, "")
    store = LocalStore(str(data / "db"), SystemClock())
    try:
        raw = store.get(spaces.KMS, record_key(KEY, key_id))
    finally:
        store.close()
    assert raw is not None
    stored = records.decode(raw, KeyRecord)
    assert stored.wrapped_by == master.key_id
    assert [len(m) for m in stored.materials] == [60, 60]  # nonce + 32 bytes + tag
    running = start_server(data, port=running.port)
    try:
        assert client(running, "kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"
    finally:
        running.stop()


def test_another_master_key_is_refused_at_start(tmp_path: Path) -> None:
    """Key material wrapped by one master key cannot be opened with another: the server
    says so and does not start, rather than serve keys it cannot use."""
    data = tmp_path / "data"
    own_key = base64.b64encode(os.urandom(32)).decode()
    running = start_server(data, env={"STRATA_MASTER_KEY": own_key})
    try:
        client(running, "kms").create_key()
    finally:
        running.stop()
    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(RuntimeError, match="is wrapped by master key"):
        start_server(data, env={"STRATA_MASTER_KEY": other})
    running = start_server(data, env={"STRATA_MASTER_KEY": own_key})
    running.stop()
