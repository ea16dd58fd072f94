"""The audit trail: every API call as a CloudTrail record, read back through CloudTrail's
LookupEvents (boto3) and ``strata audit``; durable across restart and kill -9; trimmed by
retention; never holding a secret or an object's or item's contents."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.remote import Credentials, Remote
from tests.conftest import client
from tests.server import SECRET_KEY, RunningServer, start_server

CONTENT = b"object-content-that-must-not-be-audited-7f3a"
ITEM_SECRET = "item-value-that-must-not-be-audited-91c2"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("audit") / "data")
    _script(running)
    yield running
    running.stop()


def _script(server: RunningServer) -> None:
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="audited")
    s3.put_object(Bucket="audited", Key="dir/a.txt", Body=CONTENT)
    s3.get_object(Bucket="audited", Key="dir/a.txt")["Body"].read()
    with pytest.raises(ClientError):
        s3.get_object(Bucket="audited", Key="missing")
    s3.list_objects_v2(Bucket="audited")
    s3.delete_object(Bucket="audited", Key="dir/a.txt")
    dynamodb = client(server, "dynamodb")
    dynamodb.create_table(
        TableName="audited",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="audited", Item={"id": {"S": "k1"}, "v": {"S": ITEM_SECRET}})
    dynamodb.get_item(TableName="audited", Key={"id": {"S": "k1"}})
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName="no-such-table", Key={"id": {"S": "x"}})


SCRIPT = [
    ("s3.amazonaws.com", "CreateBucket", None),
    ("s3.amazonaws.com", "PutObject", None),
    ("s3.amazonaws.com", "GetObject", None),
    ("s3.amazonaws.com", "GetObject", "NoSuchKey"),
    ("s3.amazonaws.com", "ListObjectsV2", None),
    ("s3.amazonaws.com", "DeleteObject", None),
    ("dynamodb.amazonaws.com", "CreateTable", None),
    ("dynamodb.amazonaws.com", "PutItem", None),
    ("dynamodb.amazonaws.com", "GetItem", None),
    ("dynamodb.amazonaws.com", "GetItem", "ResourceNotFoundException"),
]


def _all_events(cloudtrail: Any, **request: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in cloudtrail.get_paginator("lookup_events").paginate(**request):
        events.extend(page["Events"])
    return events


def _scripted(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scripted calls, oldest first (LookupEvents answers newest first)."""
    records = [json.loads(e["CloudTrailEvent"]) for e in reversed(events)]
    return [r for r in records if r["eventName"] != "LookupEvents"]


def test_lookup_events_holds_every_call_of_the_script(audited: RunningServer) -> None:
    cloudtrail = client(audited, "cloudtrail")
    events = _all_events(cloudtrail)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)  # newest first
    records = _scripted(events)
    assert [(r["eventSource"], r["eventName"], r.get("errorCode")) for r in records] == SCRIPT
    for event in events:
        assert event["Username"] == "root"
        assert event["AccessKeyId"] == audited.access_key
    put = next(r for r in records if r["eventName"] == "PutObject")
    assert put["userIdentity"]["type"] == "Root"
    assert put["userIdentity"]["arn"] == "arn:aws:iam::000000000000:root"
    assert put["requestParameters"]["bucketName"] == "audited"
    assert put["requestParameters"]["key"] == "dir/a.txt"
    assert put["readOnly"] is False
    assert put["eventCategory"] == "Data"
    assert {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::audited/dir/a.txt"} in put["resources"]
    assert put["sourceIPAddress"] == "127.0.0.1"
    assert "Boto3" in put["userAgent"]
    missing = next(r for r in records if r.get("errorCode") == "NoSuchKey")
    assert missing["errorMessage"] == "The specified key does not exist."
    create = next(r for r in records if r["eventName"] == "CreateTable")
    assert create["managementEvent"] is True
    assert create["readOnly"] is False
    assert create["requestParameters"] == {"tableName": "audited"}
    assert len({r["eventID"] for r in records}) == len(records)


def test_lookup_attributes_filter_and_pages(audited: RunningServer) -> None:
    cloudtrail = client(audited, "cloudtrail")
    puts = _all_events(
        cloudtrail, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutItem"}]
    )
    assert [e["EventName"] for e in puts] == ["PutItem"]
    assert puts[0]["Resources"] == [
        {"ResourceType": "AWS::DynamoDB::Table", "ResourceName": "audited"}
    ]
    by_name = _all_events(
        cloudtrail,
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "audited/dir/a.txt"}],
    )
    assert [e["EventName"] for e in by_name] == ["DeleteObject", "GetObject", "PutObject"]
    writes = _all_events(
        cloudtrail, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]
    )
    assert {e["EventName"] for e in writes} == {
        "CreateBucket", "PutObject", "DeleteObject", "CreateTable", "PutItem",
    }  # fmt: skip
    first = cloudtrail.lookup_events(MaxResults=3)
    assert len(first["Events"]) == 3
    assert "NextToken" in first
    second = cloudtrail.lookup_events(MaxResults=3, NextToken=first["NextToken"])
    assert not {e["EventId"] for e in first["Events"]} & {e["EventId"] for e in second["Events"]}
    now = datetime.now(UTC)
    none = cloudtrail.lookup_events(StartTime=now + timedelta(hours=1))
    assert none["Events"] == []


def test_lookup_errors(audited: RunningServer) -> None:
    loose = client(audited, "cloudtrail", parameter_validation=False)
    cases = [
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "PutItem"},
                    {"AttributeKey": "Username", "AttributeValue": "root"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "x"}]},
            "InvalidLookupAttributesException",
        ),
        (
            {
                "StartTime": datetime(2026, 1, 2, tzinfo=UTC),
                "EndTime": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "InvalidTimeRangeException",
        ),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"NextToken": "!!!"}, "InvalidNextTokenException"),
        ({"EventCategory": "management"}, "InvalidEventCategoryException"),
    ]
    for request, code in cases:
        with pytest.raises(ClientError) as caught:
            loose.lookup_events(**request)
        assert caught.value.response["Error"]["Code"] == code, request
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        client(audited, "cloudtrail").describe_trails()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_no_secret_or_content_in_trail_log_or_metrics(audited: RunningServer) -> None:
    events = _all_events(client(audited, "cloudtrail"))
    dumped = json.dumps(events, default=str)
    with urllib.request.urlopen(audited.endpoint + "/_strata/metrics") as response:
        metrics = response.read().decode()
    for text in (dumped, audited.log(), metrics):
        assert SECRET_KEY not in text
        assert CONTENT.decode() not in text
        assert ITEM_SECRET not in text
    assert "strata_audit_records_written_total" in metrics


def _cli(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}
    environ.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key)
    return subprocess.run(
        [sys.executable, "-m", "strata.cli", "audit", "--endpoint", server.endpoint, *args],
        capture_output=True, text=True, env=environ, timeout=60, check=False,
    )  # fmt: skip


def test_strata_audit_prints_and_filters(audited: RunningServer) -> None:
    every = _cli(audited, "--since", "1h")
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    assert lines[0].startswith("TIME (UTC)")
    assert any("DeleteObject" in line and "s3://audited/dir/a.txt" in line for line in lines)
    failed = _cli(audited, "--error", "--service", "s3")
    rows = failed.stdout.splitlines()[1:]
    assert len(rows) == 1
    assert "s3://audited/missing" in rows[0]
    assert rows[0].endswith("NoSuchKey")
    missing_table = _cli(audited, "--error", "ResourceNotFoundException", "--json")
    records = [json.loads(line) for line in missing_table.stdout.splitlines()]
    assert [(r["eventName"], r["requestParameters"]) for r in records] == [
        ("GetItem", {"tableName": "no-such-table"})
    ]
    only = _cli(audited, "--error", "NoSuchKey", "--json")
    records = [json.loads(line) for line in only.stdout.splitlines()]
    assert [r["eventName"] for r in records] == ["GetObject"]
    table = _cli(audited, "--resource", "audited", "--service", "dynamodb", "--json")
    names = [json.loads(line)["eventName"] for line in table.stdout.splitlines()]
    assert names == ["GetItem", "PutItem", "CreateTable"]
    bad = _cli(audited, "--since", "yesterday-ish")
    assert bad.returncode == 1
    assert "start must be an ISO 8601 time" in bad.stderr


def test_trail_survives_restart_and_kill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, env={"STRATA_AUDIT_FLUSH_INTERVAL_S": "0.05"})
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="before-stop")
    finally:
        server.stop()
    server = start_server(data, port=server.port, env={"STRATA_AUDIT_FLUSH_INTERVAL_S": "0.05"})
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="before-kill")
    time.sleep(0.5)  # ten flush intervals: written and fsynced
    server.kill()
    server = start_server(data, port=server.port)
    try:
        names = [e["EventName"] for e in _all_events(client(server, "cloudtrail"))]
        assert names.count("CreateBucket") == 2
    finally:
        server.stop()


def test_retention_trims_when_the_store_clock_passes_it(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", env={"STRATA_AUDIT_RETENTION_DAYS": "1"})
    try:
        client(server, "s3", s3={"addressing_style": "path"}).create_bucket(Bucket="old-call")
        cloudtrail = client(server, "cloudtrail")
        assert "CreateBucket" in [e["EventName"] for e in _all_events(cloudtrail)]
        remote = Remote(server.endpoint, Credentials(server.access_key, server.secret_key))
        remote.clock({"advance_s": 3 * 86400})
        deadline = time.monotonic() + 10
        while True:  # the trim runs within a flush interval of the clock's move
            names = [e["EventName"] for e in _all_events(cloudtrail)]
            if "CreateBucket" not in names or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert "CreateBucket" not in names
        names = [e["EventName"] for e in _all_events(cloudtrail)]
        assert "LookupEvents" in names  # the calls of the new day are kept
    finally:
        server.stop()


def test_audit_off_records_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", env={"STRATA_AUDIT": "false"})
    try:
        client(server, "s3", s3={"addressing_style": "path"}).create_bucket(Bucket="unaudited")
        assert _all_events(client(server, "cloudtrail")) == []
    finally:
        server.stop()


def test_iam_user_calls_and_denials_are_attributed(audited: RunningServer) -> None:
    iam = client(audited, "iam")
    iam.create_user(UserName="audited-alice")
    key = iam.create_access_key(UserName="audited-alice")["AccessKey"]
    as_alice = replace(audited, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    alice = client(as_alice, "s3", s3={"addressing_style": "path"})
    with pytest.raises(ClientError) as caught:
        alice.list_buckets()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    cloudtrail = client(audited, "cloudtrail")
    events = _all_events(
        cloudtrail,
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "audited-alice"}],
    )
    assert [e["EventName"] for e in events] == ["ListBuckets"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["errorCode"] == "AccessDenied"
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["arn"] == "arn:aws:iam::000000000000:user/audited-alice"
    assert record["userIdentity"]["accessKeyId"] == key["AccessKeyId"]
    created = _all_events(
        cloudtrail, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}]
    )
    assert json.loads(created[0]["CloudTrailEvent"])["eventSource"] == "iam.amazonaws.com"
    every = json.dumps(_all_events(cloudtrail), default=str)
    assert key["SecretAccessKey"] not in every


def _log_files(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def _delivered(s3: Any, bucket: str, wanted: str) -> list[dict[str, Any]]:
    """Records delivered to ``bucket`` once one named ``wanted`` is there (bounded)."""
    deadline = time.monotonic() + 20
    while True:
        records = [
            record
            for body in _log_files(s3, bucket).values()
            for record in json.loads(gzip.decompress(body))["Records"]
        ]
        if any(r["eventName"] == wanted for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def test_delivery_to_a_bucket_in_cloudtrail_layout_each_record_once(tmp_path: Path) -> None:
    env = {"STRATA_AUDIT_BUCKET": "trail-logs", "STRATA_AUDIT_DELIVERY_INTERVAL_S": "0.3"}
    data = tmp_path / "data"
    server = start_server(data, env=env)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="trail-logs")
        s3.put_object(Bucket="trail-logs", Key="note.txt", Body=b"x")
        records = _delivered(s3, "trail-logs", "PutObject")
        keys = list(_log_files(s3, "trail-logs"))
        day = time.strftime("%Y/%m/%d", time.gmtime())
        assert keys
        for key in keys:
            assert key.startswith(f"AWSLogs/000000000000/CloudTrail/us-east-1/{day}/")
            name = key.rsplit("/", 1)[1]
            assert name.startswith("000000000000_CloudTrail_us-east-1_")
            assert name.endswith(".json.gz")
        put = next(r for r in records if r["eventName"] == "PutObject")
        assert put["requestParameters"]["key"] == "note.txt"
        assert put["eventSource"] == "s3.amazonaws.com"
    finally:
        server.stop()
    server = start_server(data, port=server.port, env=env)  # nothing delivered twice
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.delete_object(Bucket="trail-logs", Key="note.txt")
        records = _delivered(s3, "trail-logs", "DeleteObject")
        ids = [r["eventID"] for r in records]
        assert len(ids) == len(set(ids))
        assert [r["eventName"] for r in records].count("CreateBucket") == 1
    finally:
        server.stop()
