"""Control plane: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, tags, TTL."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of, make_table


def test_create_describe_delete(dynamodb: Any, unique_name: str) -> None:
    created = dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
    )["TableDescription"]
    assert created["TableName"] == unique_name
    assert created["TableStatus"] in ("CREATING", "ACTIVE")
    assert created["TableArn"].endswith(f":table/{unique_name}")
    dynamodb.get_waiter("table_exists").wait(TableName=unique_name)
    described = dynamodb.describe_table(TableName=unique_name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert described["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert described["ItemCount"] == 0
    assert unique_name in dynamodb.list_tables()["TableNames"]
    deleted = dynamodb.delete_table(TableName=unique_name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    dynamodb.get_waiter("table_not_exists").wait(TableName=unique_name)
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_table(TableName=unique_name)
    assert error_of(caught) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {unique_name} not found",
    )


def test_create_existing_table(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        make_table(dynamodb, table)
    assert error_of(caught) == ("ResourceInUseException", f"Table already exists: {table}")


def test_recreated_table_is_empty(dynamodb: Any, unique_name: str) -> None:
    make_table(dynamodb, unique_name)
    dynamodb.put_item(TableName=unique_name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    dynamodb.delete_table(TableName=unique_name)
    make_table(dynamodb, unique_name)
    assert "Item" not in dynamodb.get_item(
        TableName=unique_name, Key={"pk": {"S": "a"}, "sk": {"S": "b"}}
    )
    dynamodb.delete_table(TableName=unique_name)


def test_delete_missing_table(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_table(TableName=unique_name)
    assert error_of(caught) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {unique_name} not found",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}],
            },
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]",
        ),
        (
            {
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "extra", "AttributeType": "S"},
                ],
            },
            "One or more parameter values were invalid: Number of attributes in KeySchema does "
            "not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            {
                "KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            },
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {
                "KeySchema": [
                    {"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            },
            # more key elements than definitions: AWS's own words, before the duplicate name
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            {
                "KeySchema": [
                    {"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "other", "AttributeType": "S"},
                ],
            },
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
    ],
)
def test_create_table_validation(
    dynamodb: Any, unique_name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(TableName=unique_name, BillingMode="PAY_PER_REQUEST", **kwargs)
    assert error_of(caught) == ("ValidationException", message)


def test_create_table_bad_name(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            TableName="a b",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_of(caught) == (
        "ValidationException",
        "1 validation error detected: Value 'a b' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    )


def test_create_table_billing_validation(dynamodb: Any, unique_name: str) -> None:
    base = {
        "TableName": unique_name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(**base)
    assert error_of(caught) == (
        "ValidationException",
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be specified when BillingMode is PROVISIONED",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            **base,
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        )
    assert error_of(caught)[0] == "ValidationException"


def test_list_tables_paging(dynamodb: Any, unique_name: str) -> None:
    names = [f"{unique_name}-{i}" for i in range(5)]
    for name in names:
        make_table(dynamodb, name, range_key=None)
    seen: list[str] = []
    start: dict[str, Any] = {}
    while True:
        page = dynamodb.list_tables(Limit=2, **start)
        assert len(page["TableNames"]) <= 2
        seen += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        start = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}
    assert [n for n in seen if n.startswith(unique_name)] == names
    paginated = [
        n
        for page in dynamodb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 3})
        for n in page["TableNames"]
    ]
    assert [n for n in paginated if n.startswith(unique_name)] == names
    for name in names:
        dynamodb.delete_table(TableName=name)


def test_list_tables_bad_limit(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.list_tables(Limit=101)
    assert error_of(caught) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100",
    )


def test_resource_layer_create_and_delete(ddb_resource: Any, unique_name: str) -> None:
    created = ddb_resource.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    created.wait_until_exists()
    created.reload()
    assert created.table_status == "ACTIVE"
    assert created.billing_mode_summary["BillingMode"] == "PAY_PER_REQUEST"
    created.delete()
    created.wait_until_not_exists()


def test_tags(dynamodb: Any, table: str) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    dynamodb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as caught:
        dynamodb.list_tags_of_resource(ResourceArn=arn + "-missing")
    assert error_of(caught)[0] == "ResourceNotFoundException"


def test_ttl_settings(dynamodb: Any, table: str) -> None:
    described = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True}
    )
    described = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with pytest.raises(ClientError) as caught:
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True}
        )
    assert error_of(caught) == ("ValidationException", "TimeToLive is already enabled")


def test_describe_limits_and_endpoints(dynamodb: Any) -> None:
    limits = dynamodb.describe_limits()
    assert limits["TableMaxReadCapacityUnits"] > 0
    endpoints = dynamodb.describe_endpoints()["Endpoints"]
    assert endpoints[0]["CachePeriodInMinutes"] > 0


def test_update_table_billing_and_streams(dynamodb: Any, table: str) -> None:
    updated = dynamodb.update_table(
        TableName=table,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
    )["TableDescription"]
    assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
    assert updated["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    updated = dynamodb.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    assert updated["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert "LatestStreamArn" in updated


def test_unknown_operation_table(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.get_item(TableName=unique_name, Key={"pk": {"S": "a"}})
    assert error_of(caught) == ("ResourceNotFoundException", "Requested resource not found")


def test_item_count_follows_writes(dynamodb: Any, table: str) -> None:
    assert dynamodb.describe_table(TableName=table)["Table"]["ItemCount"] == 0
    for i in range(3):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": str(i)}, "sk": {"S": "x"}})
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 3
    assert described["TableSizeBytes"] > 0
