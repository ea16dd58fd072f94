"""ConditionExpression, UpdateItem, ReturnValues, expression attribute checks."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of
from tests.server import RunningServer

KEY = {"pk": {"S": "a"}, "sk": {"S": "b"}}


def test_condition_put(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)")
    assert error_of(caught) == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
    assert "Item" not in caught.value.response


def test_condition_failure_returns_item(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**KEY, "v": {"N": "1"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_item(
            TableName=table,
            Key=KEY,
            ConditionExpression="v = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Item"] == {**KEY, "v": {"N": "1"}}
    dynamodb.delete_item(
        TableName=table,
        Key=KEY,
        ConditionExpression="v = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def test_update_item_actions(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(
        TableName=table,
        Item={**KEY, "n": {"N": "5"}, "l": {"L": [{"S": "x"}]}, "gone": {"S": "y"}},
    )
    reply = dynamodb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression=(
            "SET n = n + :d, l = list_append(l, :more), #m = :map "
            "REMOVE gone ADD cnt :one, tags :tags"
        ),
        ExpressionAttributeNames={"#m": "map"},
        ExpressionAttributeValues={
            ":d": {"N": "0.5"},
            ":more": {"L": [{"S": "z"}]},
            ":map": {"M": {"k": {"BOOL": True}}},
            ":one": {"N": "1"},
            ":tags": {"SS": ["t"]},
        },
        ReturnValues="ALL_NEW",
    )
    assert reply["Attributes"] == {
        **KEY,
        "n": {"N": "5.5"},
        "l": {"L": [{"S": "x"}, {"S": "z"}]},
        "map": {"M": {"k": {"BOOL": True}}},
        "cnt": {"N": "1"},
        "tags": {"SS": ["t"]},
    }
    old = dynamodb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET n = :v",
        ExpressionAttributeValues={":v": {"N": "7"}},
        ReturnValues="UPDATED_OLD",
    )
    assert old["Attributes"] == {"n": {"N": "5.5"}}


def test_update_creates_item(dynamodb: Any, table: str) -> None:
    reply = dynamodb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "new"}},
        ReturnValues="ALL_NEW",
    )
    assert reply["Attributes"] == {**KEY, "v": {"S": "new"}}


def test_update_key_attribute_rejected(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET sk = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute "
        "is part of the key",
    )


def test_unused_expression_values(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(
            TableName=table,
            Item=KEY,
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":unused": {"S": "x"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
    )


def test_names_without_expression(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.get_item(TableName=table, Key=KEY, ExpressionAttributeNames={"#a": "a"})
    assert error_of(caught) == (
        "ValidationException",
        "ExpressionAttributeNames can only be specified when using expressions",
    )


def test_syntax_error_is_validation(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item=KEY, ConditionExpression="a = = b")
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert message.startswith("Invalid ConditionExpression: Syntax error")


def test_get_item_projection(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(
        TableName=table,
        Item={**KEY, "a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}}, "d": {"S": "x"}},
    )
    item = dynamodb.get_item(
        TableName=table,
        Key=KEY,
        ProjectionExpression="a.b, #d",
        ExpressionAttributeNames={"#d": "d"},
    )["Item"]
    assert item == {"a": {"M": {"b": {"N": "1"}}}, "d": {"S": "x"}}
    item = dynamodb.get_item(TableName=table, Key=KEY, AttributesToGet=["d"])["Item"]
    assert item == {"d": {"S": "x"}}


def test_resource_layer_conditions(ddb_resource: Any, table: str) -> None:
    t = ddb_resource.Table(table)
    t.put_item(Item={"pk": "a", "sk": "b", "n": 1})
    t.update_item(
        Key={"pk": "a", "sk": "b"},
        UpdateExpression="SET n = n + :one",
        ConditionExpression=Attr("n").eq(1) & Attr("missing").not_exists(),
        ExpressionAttributeValues={":one": 1},
    )
    assert t.get_item(Key={"pk": "a", "sk": "b"})["Item"]["n"] == Decimal(2)
    with pytest.raises(ClientError) as caught:
        t.put_item(Item={"pk": "a", "sk": "b"}, ConditionExpression=Attr("n").lt(2))
    assert error_of(caught)[0] == "ConditionalCheckFailedException"


def test_concurrent_conditional_puts_one_wins(server: RunningServer, table: str) -> None:
    clients = [client(server, "dynamodb") for _ in range(16)]
    wins: list[int] = []
    failures: list[str] = []
    barrier = threading.Barrier(len(clients))

    def attempt(number: int) -> None:
        barrier.wait()
        try:
            clients[number].put_item(
                TableName=table,
                Item={**KEY, "writer": {"N": str(number)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            wins.append(number)
        except ClientError as exc:
            failures.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert failures == ["ConditionalCheckFailedException"] * (len(clients) - 1)
    item = clients[0].get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"]
    assert item["writer"] == {"N": str(wins[0])}
