"""BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of


def key(pk: str, sk: str = "s") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def test_batch_write_and_get(dynamodb: Any, table: str) -> None:
    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {**key(f"k{i}"), "v": {"N": str(i)}}}} for i in range(25)
            ]
        }
    )
    reply = dynamodb.batch_get_item(
        RequestItems={
            table: {"Keys": [key(f"k{i}") for i in range(30)], "ProjectionExpression": "v"}
        }
    )
    assert sorted(int(i["v"]["N"]) for i in reply["Responses"][table]) == list(range(25))
    assert reply["UnprocessedKeys"] == {}
    dynamodb.batch_write_item(
        RequestItems={table: [{"DeleteRequest": {"Key": key(f"k{i}")}} for i in range(10)]}
    )
    reply = dynamodb.batch_get_item(
        RequestItems={table: {"Keys": [key(f"k{i}") for i in range(25)], "ConsistentRead": True}}
    )
    assert len(reply["Responses"][table]) == 15


def test_batch_write_limits(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(26)]}
        )
    # AWS's member-path form: the map as Java prints it, WriteRequest@hash for each request
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert message.startswith(
        f"1 validation error detected: Value '{{{table}=[com.amazonaws.dynamodb.v20120810."
        "WriteRequest@"
    )
    assert message.count("WriteRequest@") == 26
    assert message.endswith(
        "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy "
        "constraint: [Member must have length less than or equal to 25, Member must have "
        "length greater than or equal to 1]"
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_write_item(
            RequestItems={
                table: [{"PutRequest": {"Item": key("a")}}, {"DeleteRequest": {"Key": key("a")}}]
            }
        )
    assert error_of(caught) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("a"))


def test_batch_get_limits(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_get_item(RequestItems={table: {"Keys": [key(f"k{i}") for i in range(101)]}})
    assert error_of(caught) == (
        "ValidationException",
        "Too many items requested for the BatchGetItem call",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_get_item(RequestItems={table: {"Keys": [key("a"), key("a")]}})
    assert error_of(caught) == (
        "ValidationException",
        "Provided list of item keys contains duplicates",
    )


def test_batch_missing_table(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_get_item(RequestItems={unique_name: {"Keys": [key("a")]}})
    assert error_of(caught)[0] == "ResourceNotFoundException"


def test_transact_write_all_or_nothing(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**key("exists"), "v": {"N": "1"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("new")}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key("exists"),
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": table, "Key": key("other")}},
            ]
        )
    code, message = error_of(caught)
    assert code == "TransactionCanceledException"
    assert message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed, None]"
    )
    reasons = caught.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"] == {**key("exists"), "v": {"N": "1"}}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("new"))

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": key("new")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("exists"),
                    "UpdateExpression": "SET v = v + :one",
                    "ConditionExpression": "v = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    reply = dynamodb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": key("new")}},
            {"Get": {"TableName": table, "Key": key("exists")}},
            {"Get": {"TableName": table, "Key": key("missing")}},
        ]
    )
    responses = reply["Responses"]
    assert responses[0]["Item"] == key("new")
    assert responses[1]["Item"]["v"] == {"N": "2"}
    assert responses[2] == {}


def test_transact_same_item_twice(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("a")}},
                {"Delete": {"TableName": table, "Key": key("a")}},
            ]
        )
    assert error_of(caught) == (
        "ValidationException",
        "Transaction request cannot include multiple operations on one item",
    )


def test_transact_idempotency(dynamodb: Any, table: str) -> None:
    token = uuid.uuid4().hex
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    dynamodb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    item = dynamodb.get_item(TableName=table, Key=key("counter"))["Item"]
    assert item["n"] == {"N": "1"}
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": key("x")}}],
            ClientRequestToken=token,
        )
    assert error_of(caught)[0] == "IdempotentParameterMismatchException"


def test_resource_batch_writer(ddb_resource: Any, table: str) -> None:
    t = ddb_resource.Table(table)
    with t.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
        for i in range(60):
            writer.put_item(Item={"pk": "bw", "sk": f"{i:03d}", "v": i})
    reply = t.query(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "bw"}, Select="COUNT"
    )
    assert reply["Count"] == 60
