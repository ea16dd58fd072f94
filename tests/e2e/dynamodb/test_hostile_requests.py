"""Hostile but well-signed requests: deep nesting, nulls where structures belong, expressions
at AWS's operator limit. Never a 500, AWS's error, nothing changed; valid ones accepted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of
from tests.e2e.raw import RawClient
from tests.server import RunningServer

VALIDATION = "com.amazon.coral.validate#ValidationException"
SERIALIZATION = "com.amazon.coral.service#SerializationException"


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


def nested_and(levels: int) -> str:
    """``a = :v AND (a = :v AND (...))``: ``levels`` parentheses, 2 * levels + 1 operators
    (AWS counts comparisons and AND/OR/NOT, not parentheses: 149 levels are accepted)."""
    text = "a = :v"
    for _ in range(levels):
        text = f"a = :v AND ({text})"
    return text


def test_condition_nested_149_deep_with_299_operators_is_accepted(
    dynamodb: Any, table: str
) -> None:
    key = {"pk": {"S": "deep"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName=table, Item={**key, "a": {"S": "x"}})
    condition = nested_and(149)
    assert condition.count("(") == 149
    assert condition.count("=") + condition.count("AND") == 299
    dynamodb.put_item(
        TableName=table,
        Item={**key, "a": {"S": "x"}, "b": {"S": "new"}},
        ConditionExpression=condition,
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert dynamodb.get_item(TableName=table, Key=key)["Item"]["b"] == {"S": "new"}
    # as deep through NOT: 149 NOTs, each around a parenthesised condition
    negated = "NOT (" * 149 + "a = :v" + ")" * 149
    dynamodb.scan(
        TableName=table, FilterExpression=negated, ExpressionAttributeValues={":v": {"S": "x"}}
    )


@pytest.mark.parametrize(
    ("condition", "count"),
    [
        (nested_and(150), 301),
        (" OR ".join(["a = :v"] * 160), 319),
        ("NOT " * 300 + "a = :v", 301),
        ("a BETWEEN :v AND :v AND " * 150 + "a = :v", 301),
    ],
)
def test_more_than_300_operators_is_refused(
    dynamodb: Any, table: str, condition: str, count: int
) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": "many"}, "sk": {"S": "1"}},
            ConditionExpression=condition,
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "Invalid ConditionExpression: The expression contains too many operators; "
        f"operator count: {count}",
    )
    assert "Item" not in dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "many"}, "sk": {"S": "1"}}
    )


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 2000 + "a = :v" + ")" * 2000,
        "(" * 1300 + "a" + ")" * 1300 + " = :v",
        "a IN (" + "(" * 1300 + ":v" + ")" * 1300 + ")",
        "size(" * 300 + "a" + ")" * 300 + " = :v",
        "a < " + "size(" * 680 + "b" + ")" * 680,
        "a < " + "f(" * 1355 + "b" + ")" * 1355,
        "NOT (" * 600,
    ],
)
def test_deep_expressions_are_validation_errors(raw: RawClient, table: str, condition: str) -> None:
    status, answer = raw.dynamodb(
        "PutItem",
        {
            "TableName": table,
            "Item": {"pk": {"S": "parens"}, "sk": {"S": "1"}},
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
    )
    assert (status, answer["__type"]) == (400, VALIDATION)
    assert answer["message"].startswith("Invalid ConditionExpression: ")


def test_condition_operand_nested_1000_levels(raw: RawClient, table: str) -> None:
    """A value nested a thousand levels is refused before anything recurses through it."""
    for deep in (
        b'{"L":' + b'[{"L":' * 1000 + b"[]" + b"}]" * 1000 + b"}",
        b'{"M":{"a":' * 1000 + b'{"S":"x"}' + b"}}" * 1000,
    ):
        body = (
            b'{"TableName":"' + table.encode() + b'","Item":{"pk":{"S":"a"},"sk":{"S":"b"}},'
            b'"ConditionExpression":"a = :v","ExpressionAttributeValues":{":v":' + deep + b"}}"
        )
        status, answer = raw.dynamodb("PutItem", body)
        assert status == 400
        assert answer["__type"] in (VALIDATION, SERIALIZATION)
    status, answer = raw.dynamodb("Scan", {"TableName": table})
    assert (status, answer["Count"]) == (200, 0)


@pytest.mark.parametrize("opener", [b'{"M":{"a":', b'{"L":['])
def test_put_item_nested_200000_levels(raw: RawClient, table: str, opener: bytes) -> None:
    closer = b"}}" if opener.endswith(b":") else b"]}"
    body = (
        b'{"TableName":"'
        + table.encode()
        + b'","Item":{"pk":{"S":"a"},"sk":{"S":"b"},"x":'
        + opener * 200_000
        + b'{"S":"x"}'
        + closer * 200_000
        + b"}}"
    )
    status, answer = raw.dynamodb("PutItem", body)
    assert status == 400
    assert answer["__type"] in (VALIDATION, SERIALIZATION)
    assert raw.dynamodb("Scan", {"TableName": table})[1]["Count"] == 0


@pytest.mark.parametrize(
    ("operation", "request_items"),
    [
        ("BatchWriteItem", [None]),
        ("BatchWriteItem", None),
        ("BatchWriteItem", [{"PutRequest": None}]),
        ("BatchWriteItem", [{}]),
        ("BatchGetItem", None),
        ("BatchGetItem", {"Keys": [None]}),
        ("BatchGetItem", {}),
    ],
)
def test_nulls_in_batches_are_client_errors(
    raw: RawClient, table: str, operation: str, request_items: Any
) -> None:
    status, answer = raw.dynamodb(operation, {"RequestItems": {table: request_items}})
    assert status == 400, answer
    assert answer["__type"] in (VALIDATION, SERIALIZATION)
    assert raw.dynamodb("Scan", {"TableName": table})[1]["Count"] == 0
