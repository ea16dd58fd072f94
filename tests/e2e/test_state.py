"""Test state: POST /_strata/reset and snapshots (save, list, restore, delete) of a running
server, through strata.testing.Server and real boto3 clients.

Each test file that wipes state runs its own server: the session server is shared."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from strata.bench.sigv4 import Signer
from strata.remote import Credentials, Remote, RemoteError
from strata.testing import Server

BIG_BYTES = 200_000  # past the 64 KiB inline threshold: bytes in an extent file


@pytest.fixture(scope="module")
def state_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("state") / "data") as server:
        yield server


@pytest.fixture
def fresh(state_server: Server) -> Server:
    state_server.reset()
    return state_server


def clients(server: Server) -> tuple[Any, Any]:
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    return server.client("s3", config=config), server.client("dynamodb", config=config)


def make_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "colour", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-colour",
                "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def fill(s3: Any, dynamodb: Any) -> None:
    s3.create_bucket(Bucket="state-bucket")
    s3.put_object(Bucket="state-bucket", Key="small.txt", Body=b"inline bytes")
    s3.put_object(Bucket="state-bucket", Key="big.bin", Body=b"b" * BIG_BYTES)
    make_table(dynamodb, "state-table")
    for number in range(5):
        colour = "red" if number % 2 else "blue"
        dynamodb.put_item(
            TableName="state-table",
            Item={"pk": {"S": f"item-{number}"}, "colour": {"S": colour}, "n": {"N": str(number)}},
        )


def assert_filled(s3: Any, dynamodb: Any) -> None:
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["state-bucket"]
    listed = s3.list_objects_v2(Bucket="state-bucket")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["big.bin", "small.txt"]
    assert s3.get_object(Bucket="state-bucket", Key="small.txt")["Body"].read() == b"inline bytes"
    assert s3.get_object(Bucket="state-bucket", Key="big.bin")["Body"].read() == b"b" * BIG_BYTES
    assert dynamodb.list_tables()["TableNames"] == ["state-table"]
    items = dynamodb.scan(TableName="state-table")["Items"]
    assert sorted(i["pk"]["S"] for i in items) == [f"item-{n}" for n in range(5)]
    red = dynamodb.query(
        TableName="state-table",
        IndexName="by-colour",
        KeyConditionExpression="colour = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )["Items"]
    assert sorted(i["pk"]["S"] for i in red) == ["item-1", "item-3"]


def error_code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    code: str = caught.value.response["Error"]["Code"]
    return code


# -- reset -------------------------------------------------------------------------------


def test_reset_removes_everything_and_credentials_still_work(fresh: Server) -> None:
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    fresh.reset()
    assert s3.list_buckets()["Buckets"] == []
    assert dynamodb.list_tables()["TableNames"] == []
    assert error_code(s3.head_bucket, Bucket="state-bucket") == "404"
    assert error_code(dynamodb.scan, TableName="state-table") == "ResourceNotFoundException"
    for part in ("blobs", "volumes"):
        files = (Path(fresh.data_dir) / part).rglob("*")
        assert [p for p in files if p.is_file()] == [], part
    # the same names can be used again at once, by the same key
    fill(s3, dynamodb)
    assert_filled(s3, dynamodb)


def test_reset_needs_the_root_key(fresh: Server) -> None:
    s3, _ = clients(fresh)
    s3.create_bucket(Bucket="kept-bucket")
    request = urllib.request.Request(f"{fresh.endpoint_url}/_strata/reset", method="POST")
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(request, timeout=10)
    assert anonymous.value.code == 403
    assert b'"AccessDenied"' in anonymous.value.read()

    # An IAM user's key signs valid requests, but only the account root may reset.
    iam = fresh.client("iam")
    iam.create_user(UserName="operator")
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    user = Remote(fresh.endpoint_url, Credentials(key["AccessKeyId"], key["SecretAccessKey"]))
    with pytest.raises(RemoteError) as other_key:
        user.admin("POST", "reset")
    assert (other_key.value.status, other_key.value.code) == (403, "AccessDenied")
    with pytest.raises(RemoteError) as snapshots:
        user.admin("GET", "snapshots")
    assert (snapshots.value.status, snapshots.value.code) == (403, "AccessDenied")
    wrong = Remote(fresh.endpoint_url, Credentials(fresh.aws_access_key_id, "wrong-secret"))
    with pytest.raises(RemoteError) as bad_signature:
        wrong.admin("POST", "reset")
    assert (bad_signature.value.status, bad_signature.value.code) == (403, "SignatureDoesNotMatch")
    # the summary is open to any valid key; nothing was reset
    names = [b["name"] for b in user.admin("GET", "summary")["buckets"]]
    assert names == ["kept-bucket"]


def test_reset_and_restore_during_background_work(fresh: Server) -> None:
    """A GSI backfill, a table drop and TTL sweeps in progress when the store is replaced:
    they stop cleanly, nothing of theirs leaks into the new store, nothing is logged."""
    _, dynamodb = clients(fresh)
    dynamodb.create_table(
        TableName="busy-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="busy-table", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    for first in range(0, 3000, 25):
        dynamodb.batch_write_item(
            RequestItems={
                "busy-table": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"k{n}"},
                                "g": {"S": f"g{n % 7}"},
                                "ttl": {"N": "1"},  # > 5 years past: swept over, kept
                            }
                        }
                    }
                    for n in range(first, first + 25)
                ]
            }
        )
    fresh.save_snapshot("before-backfill")

    def add_index() -> None:
        dynamodb.update_table(
            TableName="busy-table",
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by-g",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        )

    add_index()
    fresh.reset()  # while the backfill runs
    assert dynamodb.list_tables()["TableNames"] == []
    fresh.restore_snapshot("before-backfill")
    add_index()
    dynamodb.delete_table(TableName="busy-table")  # its keys are dropped in the background
    fresh.restore_snapshot("before-backfill")  # while they are
    description = dynamodb.describe_table(TableName="busy-table")["Table"]
    assert "GlobalSecondaryIndexes" not in description
    assert dynamodb.scan(TableName="busy-table", Select="COUNT")["Count"] == 3000
    add_index()  # a backfill on the restored store runs to the end
    deadline = time.monotonic() + 60
    while True:
        indexes = dynamodb.describe_table(TableName="busy-table")["Table"]
        if indexes["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE":
            break
        assert time.monotonic() < deadline, "backfill never finished"
        time.sleep(0.1)
    grouped = dynamodb.query(
        TableName="busy-table",
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g3"}},
        Select="COUNT",
    )
    assert grouped["Count"] == len([n for n in range(3000) if n % 7 == 3])
    log = Path(fresh.log_path).read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert " ERROR " not in log, log[-3000:]


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_round_trip(fresh: Server) -> None:
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    info = fresh.save_snapshot("round-trip")
    assert info["name"] == "round-trip"
    assert info["blobs"] == 1

    # change everything after the save
    s3.delete_object(Bucket="state-bucket", Key="big.bin")
    s3.put_object(Bucket="state-bucket", Key="later.txt", Body=b"later")
    s3.create_bucket(Bucket="later-bucket")
    dynamodb.delete_item(TableName="state-table", Key={"pk": {"S": "item-1"}})
    dynamodb.put_item(TableName="state-table", Item={"pk": {"S": "x"}, "colour": {"S": "red"}})
    make_table(dynamodb, "later-table")

    done = fresh.restore_snapshot("round-trip")
    assert done["stage"] == "done"
    assert_filled(s3, dynamodb)

    # the restored store takes writes, and GSIs follow them
    dynamodb.put_item(TableName="state-table", Item={"pk": {"S": "y"}, "colour": {"S": "red"}})
    red = dynamodb.query(
        TableName="state-table",
        IndexName="by-colour",
        KeyConditionExpression="colour = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )["Items"]
    assert sorted(i["pk"]["S"] for i in red) == ["item-1", "item-3", "y"]
    s3.put_object(Bucket="state-bucket", Key="big.bin", Body=b"c" * BIG_BYTES)
    assert s3.get_object(Bucket="state-bucket", Key="big.bin")["Body"].read() == b"c" * BIG_BYTES

    # restoring again gives the saved state again: the snapshot itself was not changed
    fresh.restore_snapshot("round-trip")
    assert_filled(s3, dynamodb)


def test_snapshot_survives_a_restart(tmp_path: Path) -> None:
    with Server(tmp_path / "data") as server:
        s3, dynamodb = clients(server)
        fill(s3, dynamodb)
        server.save_snapshot("kept")
        server.reset()
        port = server.port
    with Server(tmp_path / "data", port=port) as again:  # its own root key replaces the old
        assert [s["name"] for s in again.remote.admin("GET", "snapshots")["snapshots"]] == ["kept"]
        again.restore_snapshot("kept")
        assert_filled(*clients(again))


def test_a_restore_cut_short_after_ready_is_completed_by_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Server(data) as server:
        s3, dynamodb = clients(server)
        fill(s3, dynamodb)
        server.save_snapshot("kept")
        server.reset()
        s3.create_bucket(Bucket="after-the-save")
        s3.put_object(Bucket="after-the-save", Key="big", Body=b"a" * BIG_BYTES)  # a blob
    # as a restore leaves it when killed between its two renames: the staged store is
    # complete (READY), the live db/ already moved to the trash, blobs/ not yet replaced
    staging = data / ".restore"
    staging.mkdir()
    shutil.copytree(data / "snapshots" / "kept" / "db", staging / "db")
    shutil.copytree(data / "snapshots" / "kept" / "blobs", staging / "blobs")
    shutil.copytree(data / "snapshots" / "kept" / "volumes", staging / "volumes")
    (staging / "READY").touch()
    (data / ".trash").mkdir(exist_ok=True)
    (data / "db").rename(data / ".trash" / "db")
    with Server(data) as again:
        assert_filled(*clients(again))
    assert not staging.exists()


def test_snapshot_errors(fresh: Server) -> None:
    remote = fresh.remote
    cases = [
        ("POST", "snapshots/.hidden", 400, "InvalidSnapshotName"),
        ("POST", "snapshots/a%2Fb", 400, "InvalidSnapshotName"),
        ("GET", "snapshots/missing", 404, "NoSuchSnapshot"),
        ("DELETE", "snapshots/missing", 404, "NoSuchSnapshot"),
        ("POST", "snapshots/missing/restore", 404, "NoSuchSnapshot"),
        ("PUT", "snapshots/x", 405, "MethodNotAllowed"),
        ("GET", "reset", 405, "MethodNotAllowed"),
        ("GET", "nothing-here", 404, "NotFound"),
    ]
    for method, path, status, code in cases:
        with pytest.raises(RemoteError) as caught:
            remote.admin(method, path)
        assert (caught.value.status, caught.value.code) == (status, code), (method, path)

    remote.admin("POST", "snapshots/twice")
    with pytest.raises(RemoteError) as exists:
        remote.admin("POST", "snapshots/twice")
    assert (exists.value.status, exists.value.code) == (409, "SnapshotAlreadyExists")
    remote.admin("POST", "snapshots/twice", [("replace", "true")])
    assert "twice" in [s["name"] for s in remote.admin("GET", "snapshots")["snapshots"]]
    remote.admin("DELETE", "snapshots/twice")
    assert "twice" not in [s["name"] for s in remote.admin("GET", "snapshots")["snapshots"]]


def test_restore_while_requests_run(fresh: Server) -> None:
    """Clients keep writing and reading through two restores: every answer is a success
    or a retryable 503, never a 500; the server stays up and ends in a restored state."""
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    fresh.save_snapshot("busy")
    errors: list[str] = []
    done = threading.Event()
    deadline = time.monotonic() + 60

    def writer(worker: int) -> None:
        s3_w, dynamodb_w = clients(fresh)
        for number in range(400):
            if done.is_set() or time.monotonic() > deadline:
                return
            try:
                key = f"w{worker}-{number}"
                if number % 2:
                    body = b"z" * (BIG_BYTES if number % 6 == 1 else 100)
                    s3_w.put_object(Bucket="state-bucket", Key=key, Body=body)
                    s3_w.get_object(Bucket="state-bucket", Key="big.bin")["Body"].read()
                else:
                    dynamodb_w.put_item(
                        TableName="state-table",
                        Item={"pk": {"S": key}, "colour": {"S": "green"}},
                    )
                    dynamodb_w.scan(TableName="state-table", Limit=10)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
                if status >= 500 and code != "ServiceUnavailable":
                    errors.append(f"{code} {status}")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        for _ in range(2):
            assert fresh.restore_snapshot("busy")["stage"] == "done"
            time.sleep(0.2)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    fresh.restore_snapshot("busy")
    assert_filled(s3, dynamodb)
    with urllib.request.urlopen(f"{fresh.endpoint_url}/_strata/health", timeout=5) as reply:
        assert reply.status == 200


def test_a_request_still_running_after_the_drain_gets_a_clean_503(fresh: Server) -> None:
    """Two uploads send half their body, a restore drains for 5 s (they are still
    running), swaps; the rest of the bodies arrive: both answers are ServiceUnavailable
    and nothing of theirs is in the restored store."""
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    fresh.save_snapshot("drain")
    host = f"127.0.0.1:{fresh.port}"

    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "state-bucket", "Key": "slow.bin"}
    )
    slow_object = http.client.HTTPConnection("127.0.0.1", fresh.port, timeout=60)
    slow_object.putrequest("PUT", url[len(fresh.endpoint_url) :], skip_accept_encoding=True)
    slow_object.putheader("Content-Length", str(BIG_BYTES))
    slow_object.endheaders()
    slow_object.send(b"s" * (BIG_BYTES // 2))

    body = json.dumps({"TableName": "state-table", "Item": {"pk": {"S": "slow"}}}).encode()
    signer = Signer(fresh.aws_access_key_id, fresh.aws_secret_access_key, "us-east-1", "dynamodb")
    headers = signer.sign(
        "POST",
        "/",
        "",
        [
            ("content-type", "application/x-amz-json-1.0"),
            ("host", host),
            ("x-amz-target", "DynamoDB_20120810.PutItem"),
        ],
        hashlib.sha256(body).hexdigest(),
        content_sha256_header=True,
    )
    slow_item = http.client.HTTPConnection("127.0.0.1", fresh.port, timeout=60)
    slow_item.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
    for name, value in [*headers, ("content-length", str(len(body)))]:
        slow_item.putheader(name, value)
    slow_item.endheaders()
    slow_item.send(body[:10])

    done = fresh.restore_snapshot("drain")  # waits the whole drain: both are still running
    assert (done["stage"], done["interrupted"]) == ("done", 2)
    slow_object.send(b"s" * (BIG_BYTES - BIG_BYTES // 2))
    slow_item.send(body[10:])
    for connection in (slow_object, slow_item):
        with connection.getresponse() as response:
            answer = response.read()
            assert response.status == 503, answer
            assert b"ServiceUnavailable" in answer
        connection.close()
    assert error_code(s3.head_object, Bucket="state-bucket", Key="slow.bin") == "404"
    assert "Item" not in dynamodb.get_item(TableName="state-table", Key={"pk": {"S": "slow"}})
    assert_filled(s3, dynamodb)


def test_summary_counts_objects_and_items(fresh: Server) -> None:
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    summary = fresh.remote.admin("GET", "summary")
    assert summary["buckets"] == [
        {
            "name": "state-bucket",
            "created_ms": summary["buckets"][0]["created_ms"],
            "objects": 2,
            "size_bytes": len(b"inline bytes") + BIG_BYTES,
        }
    ]
    (table,) = summary["tables"]
    assert (table["name"], table["items"], table["status"], table["indexes"]) == (
        "state-table",
        5,
        "ACTIVE",
        1,
    )
    assert table["size_bytes"] > 0


def strata_cli(server: Server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "strata.cli", *args, "--endpoint", server.endpoint_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def test_cli_snapshot_commands(fresh: Server) -> None:
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    keys = {
        "AWS_ACCESS_KEY_ID": fresh.aws_access_key_id,
        "AWS_SECRET_ACCESS_KEY": fresh.aws_secret_access_key,
    }
    saved = strata_cli(fresh, "snapshot", "save", "cli-snap", **keys)
    assert saved.returncode == 0, saved.stderr
    assert "saved snapshot cli-snap: 1 blobs" in saved.stdout
    listed = strata_cli(fresh, "snapshot", "list", **keys)
    assert "cli-snap" in listed.stdout
    s3.delete_object(Bucket="state-bucket", Key="small.txt")
    # without AWS_* variables: the root key of the local data directory
    restored = strata_cli(fresh, "snapshot", "restore", "cli-snap", "--data-dir", fresh.data_dir)
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    assert "staging snapshot cli-snap (1 blobs)" in lines[0]
    assert "swapping the store" in lines[1]
    assert "restored snapshot cli-snap" in lines[-1]
    assert_filled(s3, dynamodb)
    missing = strata_cli(fresh, "snapshot", "restore", "nope", **keys)
    assert missing.returncode == 1
    assert "NoSuchSnapshot" in missing.stderr
    deleted = strata_cli(fresh, "snapshot", "delete", "cli-snap", **keys)
    assert deleted.returncode == 0
    nothing = strata_cli(fresh, "snapshot", "list", "--data-dir", "/nonexistent/strata")
    assert nothing.returncode == 1
    assert "AWS_ACCESS_KEY_ID" in nothing.stderr


def test_cli_ls(fresh: Server) -> None:
    s3, dynamodb = clients(fresh)
    fill(s3, dynamodb)
    s3.put_object(Bucket="state-bucket", Key="dir/inner.txt", Body=b"12345", StorageClass="GLACIER")
    keys = {
        "AWS_ACCESS_KEY_ID": fresh.aws_access_key_id,
        "AWS_SECRET_ACCESS_KEY": fresh.aws_secret_access_key,
    }
    overview = strata_cli(fresh, "ls", **keys)
    assert overview.returncode == 0, overview.stderr
    bucket_line = next(line for line in overview.stdout.splitlines() if "s3://" in line)
    assert bucket_line.split()[:2] == ["s3://state-bucket", "3"]
    assert "195.3 KiB" in bucket_line
    table_line = next(line for line in overview.stdout.splitlines() if "dynamodb://" in line)
    assert table_line.split()[:2] == ["dynamodb://state-table", "5"]
    assert table_line.split()[-2:] == ["ACTIVE", "1"]

    top = strata_cli(fresh, "ls", "s3://state-bucket", **keys).stdout.splitlines()
    assert top[0].split() == ["PRE", "dir/"]
    assert [line.split()[-1] for line in top[1:]] == ["big.bin", "small.txt"]
    assert top[1].split()[2:] == ["200,000", "STANDARD", "big.bin"]
    inner = strata_cli(fresh, "ls", "s3://state-bucket/dir/", **keys).stdout.split()
    assert inner[2:] == ["5", "GLACIER", "dir/inner.txt"]
    every = strata_cli(fresh, "ls", "s3://state-bucket", "--recursive", **keys).stdout
    assert [line.split()[-1] for line in every.splitlines()] == [
        "big.bin",
        "dir/inner.txt",
        "small.txt",
    ]

    items = strata_cli(fresh, "ls", "dynamodb://state-table", "--limit", "2", **keys)
    assert items.returncode == 0, items.stderr
    assert len(items.stdout.splitlines()) == 2
    assert '"colour": ' in items.stdout
    assert "(2 items (more: --limit N))" in items.stderr
    missing = strata_cli(fresh, "ls", "s3://no-such-bucket", **keys)
    assert (missing.returncode, "NoSuchBucket" in missing.stderr) == (1, True)
    bad = strata_cli(fresh, "ls", "ftp://x", **keys)
    assert bad.returncode == 2
