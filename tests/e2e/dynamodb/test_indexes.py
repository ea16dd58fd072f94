"""GSIs and LSIs: projections, sparse indexes, queries, UpdateTable create/delete with backfill."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of, make_table


def gsi(name: str, hash_key: str, range_key: str | None = None, **projection: Any) -> Any:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {
        "IndexName": name,
        "KeySchema": schema,
        "Projection": projection or {"ProjectionType": "ALL"},
    }


@pytest.fixture
def indexed(dynamodb: Any, unique_name: str) -> Any:
    make_table(
        dynamodb,
        unique_name,
        types={"score": "N"},
        GlobalSecondaryIndexes=[
            gsi("by_group", "group", "score"),
            gsi("by_group_keys", "group", None, ProjectionType="KEYS_ONLY"),
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_color",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "color", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["size"]},
            }
        ],
    )
    yield unique_name
    dynamodb.delete_table(TableName=unique_name)


def put(dynamodb: Any, table: str, sk: str, **attrs: Any) -> None:
    item = {"pk": {"S": "p"}, "sk": {"S": sk}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    dynamodb.put_item(TableName=table, Item=item)


def test_gsi_query_and_maintenance(dynamodb: Any, indexed: str) -> None:
    put(dynamodb, indexed, "1", group="g", score=30, color="red", size="L", other="x")
    put(dynamodb, indexed, "2", group="g", score=10, color="blue")
    put(dynamodb, indexed, "3", score=20)  # no group: not in the GSIs (sparse)
    reply = dynamodb.query(
        TableName=indexed,
        IndexName="by_group",
        KeyConditionExpression="#g = :g",
        ExpressionAttributeNames={"#g": "group"},
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    assert [i["sk"]["S"] for i in reply["Items"]] == ["2", "1"]
    assert reply["Items"][1]["other"] == {"S": "x"}
    # moving an item in the index removes its old entry
    put(dynamodb, indexed, "2", group="h", score=10)
    reply = dynamodb.query(
        TableName=indexed,
        IndexName="by_group",
        KeyConditionExpression="#g = :g AND score > :s",
        ExpressionAttributeNames={"#g": "group"},
        ExpressionAttributeValues={":g": {"S": "g"}, ":s": {"N": "0"}},
    )
    assert [i["sk"]["S"] for i in reply["Items"]] == ["1"]
    dynamodb.delete_item(TableName=indexed, Key={"pk": {"S": "p"}, "sk": {"S": "1"}})
    reply = dynamodb.scan(TableName=indexed, IndexName="by_group")
    assert [i["sk"]["S"] for i in reply["Items"]] == ["2"]


def test_keys_only_projection(dynamodb: Any, indexed: str) -> None:
    put(dynamodb, indexed, "1", group="g", score=30, other="x")
    reply = dynamodb.query(
        TableName=indexed,
        IndexName="by_group_keys",
        KeyConditionExpression="#g = :g",
        ExpressionAttributeNames={"#g": "group"},
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    assert reply["Items"] == [{"pk": {"S": "p"}, "sk": {"S": "1"}, "group": {"S": "g"}}]
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=indexed,
            IndexName="by_group_keys",
            KeyConditionExpression="#g = :g",
            ExpressionAttributeNames={"#g": "group"},
            ExpressionAttributeValues={":g": {"S": "g"}},
            Select="ALL_ATTRIBUTES",
        )
    assert error_of(caught) == (
        "ValidationException",
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
        "for global secondary index by_group_keys because its projection type is not ALL",
    )


def test_lsi_query_and_paging(dynamodb: Any, indexed: str) -> None:
    for i, color in enumerate(["red", "blue", "green", "amber"]):
        put(dynamodb, indexed, str(i), color=color, size="M", other="o")
    pages = []
    start: dict[str, Any] = {}
    while True:
        reply = dynamodb.query(
            TableName=indexed,
            IndexName="by_color",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=3,
            **start,
        )
        pages.append([i["color"]["S"] for i in reply["Items"]])
        if "LastEvaluatedKey" not in reply:
            break
        assert set(reply["LastEvaluatedKey"]) == {"pk", "sk", "color"}
        start = {"ExclusiveStartKey": reply["LastEvaluatedKey"]}
    assert pages == [["amber", "blue", "green"], ["red"]]
    reply = dynamodb.query(
        TableName=indexed,
        IndexName="by_color",
        KeyConditionExpression="pk = :p AND color = :c",
        ExpressionAttributeValues={":p": {"S": "p"}, ":c": {"S": "red"}},
    )
    assert reply["Items"] == [
        {"pk": {"S": "p"}, "sk": {"S": "0"}, "color": {"S": "red"}, "size": {"S": "M"}}
    ]
    reply = dynamodb.query(
        TableName=indexed,
        IndexName="by_color",
        KeyConditionExpression="pk = :p AND color = :c",
        ExpressionAttributeValues={":p": {"S": "p"}, ":c": {"S": "red"}},
        Select="ALL_ATTRIBUTES",
    )
    assert reply["Items"][0]["other"] == {"S": "o"}


def test_index_key_type_mismatch(dynamodb: Any, indexed: str) -> None:
    with pytest.raises(ClientError) as caught:
        put(dynamodb, indexed, "1", group="g", score="not a number")
    assert error_of(caught) == (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index Key score Expected: N "
        "Actual: S IndexName: by_group",
    )


def test_missing_index(dynamodb: Any, indexed: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=indexed,
            IndexName="nope",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )


def test_lsi_requires_range_key(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            TableName=unique_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "c", "AttributeType": "S"},
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "lsi",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "c", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_of(caught) == (
        "ValidationException",
        "One or more parameter values were invalid: Table KeySchema does not have a range key, "
        "which is required when specifying a LocalSecondaryIndex",
    )


def test_update_table_creates_gsi_with_backfill(dynamodb: Any, table: str) -> None:
    items = []
    for i in range(1200):
        item = {"pk": {"S": f"p{i}"}, "sk": {"S": "s"}}
        if i % 3:
            item["cat"] = {"S": f"c{i % 5}"}
        items.append({"PutRequest": {"Item": item}})
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table: items[start : start + 25]})
    described = dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "cat", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by_cat", "cat")}],
    )["TableDescription"]
    assert described["GlobalSecondaryIndexes"][0]["IndexName"] == "by_cat"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        indexes = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
        if indexes[0]["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    else:
        pytest.fail("index never became ACTIVE")
    count = dynamodb.query(
        TableName=table,
        IndexName="by_cat",
        KeyConditionExpression="cat = :c",
        ExpressionAttributeValues={":c": {"S": "c1"}},
        Select="COUNT",
    )["Count"]
    assert count == sum(1 for i in range(1200) if i % 3 and i % 5 == 1)
    dynamodb.update_table(
        TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_cat"}}]
    )
    assert "GlobalSecondaryIndexes" not in dynamodb.describe_table(TableName=table)["Table"]
