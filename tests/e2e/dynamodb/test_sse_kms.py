"""DynamoDB tables encrypted with a KMS key (``SSESpecification``): items, index entries
and stream images round-trip, no byte of an attribute value is in plain anywhere under
the data directory (a plain table's values are, which shows the scan can find them), a
disabled key makes the table's items unreadable until it is enabled again, and all of it
survives kill -9.

One server per module: the clock only moves forward, so it must not be the session's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import make_table
from tests.e2e.dynamodb.test_backups import wait_active, wait_available
from tests.e2e.kms.conftest import advance_clock, found_under
from tests.server import RunningServer, start_server

RECHECK_S = 61  # past sealing.RECHECK_S: the table's key is checked again


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("ddb-sse") / "data")
    yield running
    running.stop()


def encrypted_table(ddb: Any, name: str, key: str | None) -> str:
    sse: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if key is not None:
        sse["KMSMasterKeyId"] = key
    return make_table(
        ddb,
        name,
        SSESpecification=sse,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-g-include",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            },
        ],
    )


def test_items_round_trip_and_nothing_is_plain(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    key = kms.create_key(Description="table key")["KeyMetadata"]
    alias = f"alias/t-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    name = encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", alias)
    plain = make_table(ddb, f"plain-{uuid.uuid4().hex[:8]}")
    secret = f"secret-value-{uuid.uuid4().hex}"
    control = f"plain-value-{uuid.uuid4().hex}"
    description = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert description == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key["Arn"]}
    for n in range(5):
        item = {
            "pk": {"S": f"p{n}"},
            "sk": {"S": "s"},
            "g": {"S": "G"},
            "v": {"S": f"{secret}-{n}"},
        }
        ddb.put_item(TableName=name, Item=item)
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "p0"}, "sk": {"S": "s"}},
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": f"{secret}-w"}},
    )
    ddb.put_item(TableName=plain, Item={"pk": {"S": "p"}, "sk": {"S": "s"}, "v": {"S": control}})
    got = ddb.get_item(
        TableName=name, Key={"pk": {"S": "p0"}, "sk": {"S": "s"}}, ConsistentRead=True
    )
    assert got["Item"]["v"] == {"S": f"{secret}-0"}
    assert got["Item"]["w"] == {"S": f"{secret}-w"}
    for index in ("by-g", "by-g-include"):
        found = ddb.query(
            TableName=name,
            IndexName=index,
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
        )["Items"]
        assert sorted(i["v"]["S"] for i in found) == [f"{secret}-{n}" for n in range(5)]
    scanned = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
    assert len(scanned) == 5
    streams = client(own_server, "dynamodbstreams")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    images = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            images.append(record["dynamodb"])
    modified = [i for i in images if "OldImage" in i]
    assert modified[0]["OldImage"]["v"] == {"S": f"{secret}-0"}
    assert modified[0]["NewImage"]["w"] == {"S": f"{secret}-w"}
    # The WAL and every other file: the plain table's value is there, no encrypted one is.
    assert found_under(own_server.data_dir, control.encode())
    assert found_under(own_server.data_dir, secret.encode()) == []


def test_default_key_and_rekeying(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    name = encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", None)
    managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    sse = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert sse["KMSMasterKeyArn"] == managed["Arn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "v": {"S": "kept"}})
    other = kms.create_key()["KeyMetadata"]
    ddb.update_table(
        TableName=name,
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": other["KeyId"]},
    )
    sse = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert sse["KMSMasterKeyArn"] == other["Arn"]
    got = ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert got["Item"]["v"] == {"S": "kept"}


def test_key_errors_at_create(own_server: RunningServer) -> None:
    ddb = client(own_server, "dynamodb")
    kms = client(own_server, "kms")
    missing = str(uuid.uuid4())
    with pytest.raises(ClientError) as caught:
        encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", missing)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    name = f"enc-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as caught:
        encrypted_table(ddb, name, disabled)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert name not in ddb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as caught:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "AES256", "KMSMasterKeyId": disabled},
        )
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "SSEType KMS is required if KMSMasterKeyId is specified",
    }


def test_disabled_key_makes_items_unreadable(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    name = encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", key_id)
    item_key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    ddb.put_item(TableName=name, Item={**item_key, "v": {"S": "locked away"}})
    kms.disable_key(KeyId=key_id)
    advance_clock(own_server, RECHECK_S)
    with pytest.raises(ClientError) as caught:
        ddb.get_item(TableName=name, Key=item_key)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "is disabled." in error["Message"]
    with pytest.raises(ClientError):
        ddb.put_item(TableName=name, Item={**item_key, "v": {"S": "overwrite"}})
    kms.enable_key(KeyId=key_id)
    got = ddb.get_item(TableName=name, Key=item_key, ConsistentRead=True)
    assert got["Item"]["v"] == {"S": "locked away"}


def test_encrypted_items_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = start_server(data)
    try:
        kms = client(running, "kms")
        ddb = client(running, "dynamodb")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        name = encrypted_table(ddb, "durable", key_id)
        for n in range(20):
            ddb.put_item(
                TableName=name, Item={"pk": {"S": f"{n}"}, "sk": {"S": "s"}, "v": {"S": f"v{n}"}}
            )
        running.kill()
        running = start_server(data, port=running.port)
        ddb = client(running, "dynamodb")
        items = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
        assert sorted(i["v"]["S"] for i in items) == sorted(f"v{n}" for n in range(20))
    finally:
        running.stop()


def test_key_use_is_audited(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    key = kms.create_key()["KeyMetadata"]
    name = encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", key["KeyId"])
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    cloudtrail = client(own_server, "cloudtrail")
    events = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}]
    )["Events"]
    uses = [e for e in events if e["EventName"] == "GenerateDataKey"]
    assert len(uses) == 1
    record = json.loads(uses[0]["CloudTrailEvent"])
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": "dynamodb.amazonaws.com"}
    assert record["eventSource"] == "kms.amazonaws.com"


def test_backup_restores_encrypted(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    key = kms.create_key()["KeyMetadata"]
    name = encrypted_table(ddb, f"enc-{uuid.uuid4().hex[:8]}", key["KeyId"])
    secret = f"restored-secret-{uuid.uuid4().hex}"
    for n in range(10):
        item = {"pk": {"S": f"{n}"}, "sk": {"S": "s"}, "g": {"S": "G"}, "v": {"S": secret}}
        ddb.put_item(TableName=name, Item=item)
    arn = ddb.create_backup(TableName=name, BackupName="encrypted")["BackupDetails"]["BackupArn"]
    wait_available(ddb, arn)
    target = f"{name}-restored"
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    table = wait_active(ddb, target)
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key["Arn"]
    items = ddb.scan(TableName=target, ConsistentRead=True)["Items"]
    assert sorted(i["pk"]["S"] for i in items) == [f"{n}" for n in range(10)]
    assert {i["v"]["S"] for i in items} == {secret}
    found = ddb.query(
        TableName=target,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
    )["Items"]
    assert len(found) == 10
    assert found_under(own_server.data_dir, secret.encode()) == []


def test_every_item_path_on_an_encrypted_table(own_server: RunningServer) -> None:
    kms = client(own_server, "kms")
    ddb = client(own_server, "dynamodb")
    name = encrypted_table(
        ddb, f"enc-{uuid.uuid4().hex[:8]}", kms.create_key()["KeyMetadata"]["KeyId"]
    )
    secret = f"paths-secret-{uuid.uuid4().hex}"
    ddb.batch_write_item(
        RequestItems={
            name: [
                {
                    "PutRequest": {
                        "Item": {"pk": {"S": f"b{n}"}, "sk": {"S": "s"}, "v": {"S": secret}}
                    }
                }
                for n in range(5)
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": name,
                    "Item": {"pk": {"S": "t"}, "sk": {"S": "s"}, "v": {"S": secret}},
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": "b0"}, "sk": {"S": "s"}},
                    "UpdateExpression": "SET n = :n",
                    "ConditionExpression": "v = :v",
                    "ExpressionAttributeValues": {":n": {"N": "1"}, ":v": {"S": secret}},
                }
            },
        ]
    )
    got = ddb.batch_get_item(
        RequestItems={name: {"Keys": [{"pk": {"S": f"b{n}"}, "sk": {"S": "s"}} for n in range(5)]}}
    )["Responses"][name]
    assert {i["v"]["S"] for i in got} == {secret}
    read = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": name, "Key": {"pk": {"S": "b0"}, "sk": {"S": "s"}}}}]
    )["Responses"][0]["Item"]
    assert (read["v"]["S"], read["n"]["N"]) == (secret, "1")
    selected = ddb.execute_statement(Statement=f"SELECT * FROM \"{name}\" WHERE pk = 't'")["Items"]
    assert selected[0]["v"] == {"S": secret}
    with pytest.raises(ClientError) as caught:
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "t"}, "sk": {"S": "s"}},
            ConditionExpression="v = :other",
            ExpressionAttributeValues={":other": {"S": "not it"}},
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    old = ddb.delete_item(
        TableName=name, Key={"pk": {"S": "t"}, "sk": {"S": "s"}}, ReturnValues="ALL_OLD"
    )["Attributes"]
    assert old["v"] == {"S": secret}
    assert found_under(own_server.data_dir, secret.encode()) == []


def test_backup_of_a_deleted_table_restores_after_restart(tmp_path: Path) -> None:
    """The backup's values are sealed with the deleted source's data key: the restore opens
    them from the backup's own copy of the table's record, across a restart."""
    data = tmp_path / "data"
    running = start_server(data)
    try:
        kms = client(running, "kms")
        ddb = client(running, "dynamodb")
        name = encrypted_table(ddb, "gone", kms.create_key()["KeyMetadata"]["KeyId"])
        for n in range(5):
            ddb.put_item(
                TableName=name, Item={"pk": {"S": f"{n}"}, "sk": {"S": "s"}, "v": {"S": "kept"}}
            )
        arn = ddb.create_backup(TableName=name, BackupName="before-delete")["BackupDetails"][
            "BackupArn"
        ]
        wait_available(ddb, arn)
        ddb.delete_table(TableName=name)
        running.kill()
        running = start_server(data, port=running.port)
        ddb = client(running, "dynamodb")
        ddb.restore_table_from_backup(TargetTableName="back", BackupArn=arn)
        wait_active(ddb, "back")
        items = ddb.scan(TableName="back", ConsistentRead=True)["Items"]
        assert sorted(i["pk"]["S"] for i in items) == [f"{n}" for n in range(5)]
    finally:
        running.stop()
