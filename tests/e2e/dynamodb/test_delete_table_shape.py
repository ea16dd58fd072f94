"""DeleteTable answers with the TableDescription AWS shows while a table is DELETING."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.dynamodb.conftest import make_table


def test_delete_table_description_has_aws_members(dynamodb: Any, unique_name: str) -> None:
    make_table(
        dynamodb,
        unique_name,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_x",
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_y",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "y", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.put_item(TableName=unique_name, Item={"pk": {"S": "p"}, "sk": {"S": "s"}})
    described = dynamodb.describe_table(TableName=unique_name)["Table"]
    deleted = dynamodb.delete_table(TableName=unique_name)["TableDescription"]
    assert set(deleted) == {
        "TableName",
        "TableStatus",
        "ProvisionedThroughput",
        "TableSizeBytes",
        "ItemCount",
        "TableArn",
        "TableId",
        "BillingModeSummary",
    }
    assert deleted["TableName"] == unique_name
    assert deleted["TableStatus"] == "DELETING"
    assert deleted["TableArn"] == described["TableArn"]
    assert deleted["TableId"] == described["TableId"]
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", deleted["TableId"])
    assert deleted["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }
    assert deleted["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in deleted["BillingModeSummary"]
    for member in ("KeySchema", "AttributeDefinitions", "CreationDateTime"):
        assert member in described
    assert "GlobalSecondaryIndexes" in described
    assert "LocalSecondaryIndexes" in described


def test_delete_provisioned_table_shows_its_throughput(dynamodb: Any, unique_name: str) -> None:
    dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=unique_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )
    deleted = dynamodb.delete_table(TableName=unique_name)["TableDescription"]
    assert deleted["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 3,
        "WriteCapacityUnits": 4,
    }
    assert "BillingModeSummary" not in deleted
    assert deleted["ItemCount"] == 0
    assert deleted["TableSizeBytes"] == 0
