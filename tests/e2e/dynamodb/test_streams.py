"""DynamoDB Streams end to end with boto3's ``dynamodbstreams`` client: the change log
written by every item write, read back as AWS sends it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.server import RunningServer, start_server

NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
WAIT_S = 30.0
WRITERS = 6


@pytest.fixture(scope="session")
def streams(server: RunningServer) -> Any:
    return client(server, "dynamodbstreams")


@pytest.fixture
def streamed(dynamodb: Any, unique_name: str) -> Iterator[str]:
    yield make_table(dynamodb, unique_name, StreamSpecification=NEW_AND_OLD)
    dynamodb.delete_table(TableName=unique_name)


def stream_arn(dynamodb: Any, table: str) -> str:
    arn: str = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return arn


def read_all(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of every shard, from the trim horizon until a read returns none."""
    out: list[dict[str, Any]] = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            out.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return out


def item(pk: str, sk: str = "s", **attrs: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}


def test_each_write_is_one_record_as_aws_sends_it(
    dynamodb: Any, streams: Any, streamed: str
) -> None:
    written_from = int(time.time())  # the record's time is whole seconds
    dynamodb.put_item(TableName=streamed, Item=item("a", v="1"))
    dynamodb.put_item(TableName=streamed, Item=item("a", v="1"))  # changes nothing
    dynamodb.update_item(
        TableName=streamed,
        Key=item("a"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "2"}},
    )
    dynamodb.delete_item(TableName=streamed, Key=item("a"))
    dynamodb.delete_item(TableName=streamed, Key=item("missing"))  # nothing to delete
    records = read_all(streams, stream_arn(dynamodb, streamed))
    read_by = time.time()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert insert["eventVersion"] == "1.1"
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == "us-east-1"
    assert len({r["eventID"] for r in records}) == 3
    assert "userIdentity" not in insert
    data = insert["dynamodb"]
    assert data["Keys"] == item("a")
    assert data["NewImage"] == item("a", v="1")
    assert "OldImage" not in data
    assert data["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert data["SizeBytes"] > 0
    # when the write happened: between the test's clock before it and after the read
    assert written_from <= data["ApproximateCreationDateTime"].timestamp() <= read_by
    assert modify["dynamodb"]["OldImage"] == item("a", v="1")
    assert modify["dynamodb"]["NewImage"] == item("a", v="2")
    assert remove["dynamodb"]["OldImage"] == item("a", v="2")
    assert "NewImage" not in remove["dynamodb"]
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert all(n.isdigit() for n in numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert numbers == sorted(numbers)  # as strings too


def test_view_types_carry_what_they_name(dynamodb: Any, streams: Any, unique_name: str) -> None:
    expected = {
        "KEYS_ONLY": (False, False),
        "NEW_IMAGE": (True, False),
        "OLD_IMAGE": (False, True),
    }
    for view, (has_new, has_old) in expected.items():
        name = f"{unique_name}-{view.lower()}"
        make_table(
            dynamodb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view}
        )
        dynamodb.put_item(TableName=name, Item=item("k", v="1"))
        dynamodb.put_item(TableName=name, Item=item("k", v="2"))
        records = read_all(streams, stream_arn(dynamodb, name))
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
        modify = records[1]["dynamodb"]
        assert modify["Keys"] == item("k")
        assert modify["StreamViewType"] == view
        assert ("NewImage" in modify) == has_new
        assert ("OldImage" in modify) == has_old
        dynamodb.delete_table(TableName=name)


def test_batch_and_transaction_writes_are_recorded(
    dynamodb: Any, streams: Any, streamed: str
) -> None:
    dynamodb.batch_write_item(
        RequestItems={streamed: [{"PutRequest": {"Item": item(f"b{n}")}} for n in range(5)]}
    )
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": streamed, "Item": item("t1")}},
            {"Delete": {"TableName": streamed, "Key": item("b0")}},
            {
                "ConditionCheck": {
                    "TableName": streamed,
                    "Key": item("b1"),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    records = read_all(streams, stream_arn(dynamodb, streamed))
    events = sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records)
    assert events == sorted(
        [("INSERT", f"b{n}") for n in range(5)] + [("INSERT", "t1"), ("REMOVE", "b0")]
    )


def test_streams_are_listed_described_and_renewed(
    dynamodb: Any, streams: Any, streamed: str
) -> None:
    first = stream_arn(dynamodb, streamed)
    assert first.startswith(dynamodb.describe_table(TableName=streamed)["Table"]["TableArn"])
    listed = streams.list_streams(TableName=streamed)["Streams"]
    label = dynamodb.describe_table(TableName=streamed)["Table"]["LatestStreamLabel"]
    assert listed == [{"StreamArn": first, "TableName": streamed, "StreamLabel": label}]
    desc = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert len(desc["Shards"]) >= 1
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in desc["Shards"])
    page = streams.describe_stream(StreamArn=first, Limit=1)["StreamDescription"]
    assert len(page["Shards"]) == 1
    rest = streams.describe_stream(
        StreamArn=first, ExclusiveStartShardId=page["LastEvaluatedShardId"]
    )["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in page["Shards"] + rest] == [s["ShardId"] for s in desc["Shards"]]
    dynamodb.put_item(TableName=streamed, Item=item("before"))

    dynamodb.update_table(TableName=streamed, StreamSpecification={"StreamEnabled": False})
    time.sleep(0.002)  # labels are milliseconds
    dynamodb.update_table(TableName=streamed, StreamSpecification=NEW_AND_OLD)
    second = stream_arn(dynamodb, streamed)
    assert second != first
    dynamodb.put_item(TableName=streamed, Item=item("after"))
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in old["Shards"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, first)] == ["before"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, second)] == ["after"]
    arns = [s["StreamArn"] for s in streams.list_streams(TableName=streamed)["Streams"]]
    assert sorted(arns) == sorted([first, second])
    # a drained closed shard ends: no NextShardIterator
    for shard in old["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=first, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(3):
            page = streams.get_records(ShardIterator=iterator)
            iterator = page.get("NextShardIterator")
            if iterator is None:
                break
        assert iterator is None


def test_iterator_types(dynamodb: Any, streams: Any, unique_name: str) -> None:
    name = make_table(dynamodb, unique_name, range_key=None, StreamSpecification=NEW_AND_OLD)
    key = {"pk": {"S": "one"}}  # one item: one shard holds all its changes
    for n in range(3):
        dynamodb.put_item(TableName=name, Item={**key, "n": {"N": str(n)}})
    arn = stream_arn(dynamodb, name)
    records = read_all(streams, arn)
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in records] == ["0", "1", "2"]
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert all(s["SequenceNumberRange"]["StartingSequenceNumber"] <= numbers[0] for s in shards)

    def holds_the_item(shard_id: str) -> bool:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return bool(streams.get_records(ShardIterator=iterator)["Records"])

    shard = next(s["ShardId"] for s in shards if holds_the_item(s["ShardId"]))

    def read(kind: str, number: str | None = None) -> list[str]:
        extra = {"SequenceNumber": number} if number is not None else {}
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)
        assert page["NextShardIterator"]
        return [r["dynamodb"]["NewImage"]["n"]["N"] for r in page["Records"]]

    assert read("TRIM_HORIZON") == ["0", "1", "2"]
    assert read("AT_SEQUENCE_NUMBER", numbers[1]) == ["1", "2"]
    assert read("AFTER_SEQUENCE_NUMBER", numbers[1]) == ["2"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    dynamodb.put_item(TableName=name, Item={**key, "n": {"N": "3"}})
    page = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in page["Records"]] == ["3"]
    limited = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    first = streams.get_records(ShardIterator=limited, Limit=2)
    assert len(first["Records"]) == 2
    second = streams.get_records(ShardIterator=first["NextShardIterator"], Limit=2)
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in second["Records"]] == ["2", "3"]
    dynamodb.delete_table(TableName=name)


def test_errors(dynamodb: Any, streams: Any, streamed: str) -> None:
    arn = stream_arn(dynamodb, streamed)
    missing = arn.rpartition("/stream/")[0] + "/stream/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=missing)
    assert error_of(caught)[0] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        streams.list_streams(TableName="no-such-table")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="TRIM_HORIZON",
        )
    assert error_of(caught)[0] == "ResourceNotFoundException"
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(ClientError) as caught:
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER"
        )
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        streams.get_records(ShardIterator="not-an-iterator!")
    assert error_of(caught)[0] == "ValidationException"
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    with pytest.raises(ClientError) as caught:  # boto3 itself refuses a Limit below 1
        streams.get_records(ShardIterator=iterator, Limit=1001)
    assert error_of(caught) == (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
    )


def test_ttl_deletions_name_the_service(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", env={"STRATA_TTL_SWEEP_INTERVAL_S": "0.2"})
    try:
        ddb = client(server, "dynamodb")
        streams = client(server, "dynamodbstreams")
        name = make_table(ddb, "ttl-stream", StreamSpecification=NEW_AND_OLD)
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True}
        )
        expired = {**item("gone"), "exp": {"N": str(int(time.time()) - 60)}}
        ddb.put_item(TableName=name, Item=expired)
        ddb.put_item(TableName=name, Item=item("kept"))
        ddb.delete_item(TableName=name, Key=item("kept"))
        arn = stream_arn(ddb, name)
        deadline = time.monotonic() + WAIT_S
        while len(records := read_all(streams, arn)) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        removes = {
            r["dynamodb"]["Keys"]["pk"]["S"]: r for r in records if r["eventName"] == "REMOVE"
        }
        assert set(removes) == {"gone", "kept"}
        assert removes["gone"]["userIdentity"] == {
            "Type": "Service",
            "PrincipalId": "dynamodb.amazonaws.com",
        }
        assert removes["gone"]["dynamodb"]["OldImage"] == expired
        assert "userIdentity" not in removes["kept"]
    finally:
        server.stop()


@pytest.mark.slow
def test_kill_during_writes_keeps_every_acknowledged_change_once(tmp_path: Path) -> None:
    """kill -9 under concurrent writes: after restart every acknowledged change is in the
    stream exactly once, each item's changes in the order they were made."""
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    acked: dict[str, list[int]] = {}
    stop = threading.Event()
    try:
        admin = client(server, "dynamodb")
        make_table(admin, "crash-stream", range_key=None, StreamSpecification=NEW_AND_OLD)

        def write_loop(writer: int) -> None:
            ddb = client(server, "dynamodb")
            seq = 0
            while not stop.is_set():
                pk = f"w{writer}-{seq % 3}"
                try:
                    ddb.put_item(
                        TableName="crash-stream",
                        Item={"pk": {"S": pk}, "seq": {"N": str(seq)}},
                    )
                except Exception:  # the server is gone: this write was never acknowledged
                    return
                acked.setdefault(pk, []).append(seq)
                seq += 1

        threads = [threading.Thread(target=write_loop, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while sum(map(len, list(acked.values()))) < 300 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        server.kill()
    assert acked

    server = start_server(data_dir, port=None)
    try:
        ddb = client(server, "dynamodb")
        records = read_all(client(server, "dynamodbstreams"), stream_arn(ddb, "crash-stream"))
        seen: dict[str, list[int]] = {}
        for record in records:
            image = record["dynamodb"]["NewImage"]
            seen.setdefault(image["pk"]["S"], []).append(int(image["seq"]["N"]))
        for pk, values in seen.items():
            assert values == sorted(set(values)), pk  # per-item order, no duplicate
        for pk, values in acked.items():
            assert set(values) <= set(seen.get(pk, [])), pk
            stored = ddb.get_item(TableName="crash-stream", Key={"pk": {"S": pk}})["Item"]
            assert int(stored["seq"]["N"]) == seen[pk][-1]  # the log ends where the item is
    finally:
        server.stop()
