"""Change-log retention and shard lineage, driven by the store clock: 24-hour trim and
TrimmedDataAccessException, shards that close every generation with children that name
their parent, re-enabled streams, the log's size after trim, and a restart.

One server per test (the clock only moves forward): ``clocked`` below."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from strata.testing import Server
from tests.e2e.dynamodb.conftest import error_of

HOUR_S = 3600.0
GENERATION_S = 4 * HOUR_S
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
TRIMMED = (
    "TrimmedDataAccessException",
    "The data you are trying to access has been trimmed.",
)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "data") as server:
        yield server


def clients(server: Server) -> tuple[Any, Any]:
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    return server.client("dynamodb", config=config), server.client("dynamodbstreams", config=config)


def create(dynamodb: Any, name: str) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=NEW_AND_OLD,
    )
    arn: str = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def put(dynamodb: Any, table: str, *keys: str) -> None:
    for key in keys:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"S": key}})


def shards_of(streams: Any, arn: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every shard, paging by ExclusiveStartShardId."""
    out: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        extra = {"Limit": limit} if limit else {}
        page = streams.describe_stream(StreamArn=arn, **extra, **start)["StreamDescription"]
        out.extend(page["Shards"])
        if "LastEvaluatedShardId" not in page:
            return out
        start = {"ExclusiveStartShardId": page["LastEvaluatedShardId"]}


def keys_in(streams: Any, arn: str, shard: str) -> list[str]:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    keys: list[str] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator)
        keys.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"])
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return keys


def all_keys(streams: Any, arn: str) -> list[str]:
    return sorted(k for s in shards_of(streams, arn) for k in keys_in(streams, arn, s["ShardId"]))


def log_bytes(server: Server, table: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint_url}/_strata/metrics", timeout=10) as reply:
        text = reply.read().decode()
    for line in text.splitlines():
        if line.startswith(f'strata_table_change_log_bytes{{table="{table}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for(check: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.2)


def test_records_are_trimmed_after_24_hours(clocked: Server) -> None:
    dynamodb, streams = clients(clocked)
    arn = create(dynamodb, "trimmed")
    put(dynamodb, "trimmed", *(f"old-{n}" for n in range(20)))
    first = next(s for s in shards_of(streams, arn) if keys_in(streams, arn, s["ShardId"]))
    shard = first["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator, Limit=1)
    old_number = page["Records"][0]["dynamodb"]["SequenceNumber"]
    held = log_bytes(clocked, "trimmed")
    assert held > 0

    clocked.advance_clock(24 * HOUR_S - 300)  # five minutes before the first records expire
    put(dynamodb, "trimmed", *(f"new-{n}" for n in range(20)))
    assert len(all_keys(streams, arn)) == 40
    both = log_bytes(clocked, "trimmed")
    assert both > held
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    clocked.advance_clock(600)  # the old records pass 24 hours; the iterator is 10 min old
    # same-sized records: the size left is exactly the young ones'
    wait_for(lambda: log_bytes(clocked, "trimmed") == both - held)

    with pytest.raises(ClientError) as caught:  # its position was trimmed
        streams.get_records(ShardIterator=iterator)
    assert error_of(caught) == TRIMMED
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=old_number,
        )
    assert error_of(caught) == TRIMMED
    # What is left is exactly the young records, and the size counts only them.
    assert all_keys(streams, arn) == sorted(f"new-{n}" for n in range(20))
    clocked.advance_clock(24 * HOUR_S)
    wait_for(lambda: log_bytes(clocked, "trimmed") == 0)
    assert all_keys(streams, arn) == []


def test_shards_close_and_children_name_their_parents(clocked: Server) -> None:
    dynamodb, streams = clients(clocked)
    arn = create(dynamodb, "lineage")
    put(dynamodb, "lineage", *(f"g0-{n}" for n in range(12)))
    first = shards_of(streams, arn)
    assert len(first) >= 4  # at least one per partition
    assert all("ParentShardId" not in s for s in first)
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in first)

    clocked.advance_clock(GENERATION_S)
    put(dynamodb, "lineage", *(f"g1-{n}" for n in range(12)))
    both = shards_of(streams, arn, limit=3)  # paged: 3 at a time
    assert [s["ShardId"] for s in both] == [s["ShardId"] for s in shards_of(streams, arn)]
    assert len(both) == 2 * len(first)
    old_ids = {s["ShardId"] for s in first}
    closed = [s for s in both if s["ShardId"] in old_ids]
    children = [s for s in both if s["ShardId"] not in old_ids]
    for shard in closed:
        numbers = shard["SequenceNumberRange"]
        assert numbers["EndingSequenceNumber"] >= numbers["StartingSequenceNumber"]
    assert sorted(c["ParentShardId"] for c in children) == sorted(old_ids)
    for child in children:
        assert "EndingSequenceNumber" not in child["SequenceNumberRange"]
        parent = next(s for s in closed if s["ShardId"] == child["ParentShardId"])
        assert (
            child["SequenceNumberRange"]["StartingSequenceNumber"]
            > parent["SequenceNumberRange"]["EndingSequenceNumber"]
        )
    old_keys = sorted(k for s in closed for k in keys_in(streams, arn, s["ShardId"]))
    new_keys = sorted(k for s in children for k in keys_in(streams, arn, s["ShardId"]))
    assert old_keys == sorted(f"g0-{n}" for n in range(12))
    assert new_keys == sorted(f"g1-{n}" for n in range(12))
    # An item's changes follow it from parent to child: same partition.
    for shard in closed:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)
        assert "NextShardIterator" not in page or page["Records"]
        while page.get("NextShardIterator"):
            page = streams.get_records(ShardIterator=page["NextShardIterator"])
        assert "NextShardIterator" not in page  # a drained closed shard ends
        latest = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        assert "NextShardIterator" not in streams.get_records(ShardIterator=latest)

    # Restart: the same shards, the same records.
    clocked.stop()
    clocked.start()
    dynamodb, streams = clients(clocked)
    assert [s["ShardId"] for s in shards_of(streams, arn)] == [s["ShardId"] for s in both]
    assert all_keys(streams, arn) == sorted(old_keys + new_keys)

    # A day after a generation ended its shards are gone from the stream.
    clocked.advance_clock(24 * HOUR_S + 60)
    remaining = {s["ShardId"] for s in shards_of(streams, arn)}
    assert not remaining & old_ids
    with pytest.raises(ClientError) as caught:
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=sorted(old_ids)[0], ShardIteratorType="TRIM_HORIZON"
        )
    assert error_of(caught)[0] == "ResourceNotFoundException"


def test_a_re_enabled_stream_is_new_and_the_old_one_readable_for_a_day(clocked: Server) -> None:
    dynamodb, streams = clients(clocked)
    first = create(dynamodb, "renewed")
    put(dynamodb, "renewed", "before")
    dynamodb.update_table(TableName="renewed", StreamSpecification={"StreamEnabled": False})
    put(dynamodb, "renewed", "between")  # no stream: no record anyone can read
    time.sleep(0.002)
    dynamodb.update_table(
        TableName="renewed",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    second = dynamodb.describe_table(TableName="renewed")["Table"]["LatestStreamArn"]
    assert second != first
    put(dynamodb, "renewed", "after")
    assert all_keys(streams, first) == ["before"]
    assert all_keys(streams, second) == ["after"]
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in old["Shards"])
    page_keys = [
        r["dynamodb"]
        for s in shards_of(streams, second)
        for r in streams.get_records(
            ShardIterator=streams.get_shard_iterator(
                StreamArn=second, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        )["Records"]
    ]
    assert page_keys
    assert all("NewImage" not in d and "OldImage" not in d for d in page_keys)
    clocked.advance_clock(12 * HOUR_S)
    listed = {s["StreamArn"] for s in streams.list_streams(TableName="renewed")["Streams"]}
    assert listed == {first, second}
    clocked.advance_clock(12 * HOUR_S + 60)
    listed = {s["StreamArn"] for s in streams.list_streams(TableName="renewed")["Streams"]}
    assert listed == {second}
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=first)
    assert error_of(caught)[0] == "ResourceNotFoundException"
