"""AWS's "N validation error(s) detected: Value '...' at '...' failed to satisfy
constraint: ..." wording: table names on table and item operations, missing members, Query's
Limit, enum values in AWS's order, batches (sent raw: boto3 refuses most of these itself)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.raw import RawClient
from tests.server import RunningServer

VALIDATION = "com.amazon.coral.validate#ValidationException"
PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
NOT_NULL = "Member must not be null"
BATCH_MAP = (
    "failed to satisfy constraint: Map value must satisfy constraint: [Member must have length "
    "less than or equal to 25, Member must have length greater than or equal to 1]"
)


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


def refused(raw: RawClient, operation: str, body: dict[str, Any]) -> str:
    status, answer = raw.dynamodb(operation, body)
    assert (status, answer.get("__type")) == (400, VALIDATION), answer
    message: str = answer["message"]
    return message


def at(value: str, path: str, constraint: str) -> str:
    return f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"


@pytest.mark.parametrize("operation", ["DescribeTable", "DeleteTable", "DescribeTimeToLive"])
def test_table_operations_take_names_of_3_to_255(raw: RawClient, operation: str) -> None:
    assert refused(raw, operation, {"TableName": "ab"}) == "1 validation error detected: " + at(
        "'ab'", "tableName", "Member must have length greater than or equal to 3"
    )
    long = "a" * 256
    assert refused(raw, operation, {"TableName": long}) == "1 validation error detected: " + at(
        f"'{long}'", "tableName", "Member must have length less than or equal to 255"
    )
    assert refused(raw, operation, {"TableName": "a;"}) == (
        "2 validation errors detected: "
        + at("'a;'", "tableName", PATTERN)
        + "; "
        + at("'a;'", "tableName", "Member must have length greater than or equal to 3")
    )
    assert refused(raw, operation, {}) == "1 validation error detected: " + at(
        "null", "tableName", NOT_NULL
    )


def test_item_operations_take_names_of_1_to_255(raw: RawClient) -> None:
    key = {"pk": {"S": "a"}}
    status, answer = raw.dynamodb("GetItem", {"TableName": "ab", "Key": key})
    assert (status, answer["__type"]) == (
        400,
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
    )
    assert refused(raw, "GetItem", {"TableName": "", "Key": key}) == (
        "2 validation errors detected: "
        + at("''", "tableName", PATTERN)
        + "; "
        + at("''", "tableName", "Member must have length greater than or equal to 1")
    )
    long = "a" * 256
    assert refused(raw, "PutItem", {"TableName": long, "Item": key}) == (
        "1 validation error detected: "
        + at(f"'{long}'", "tableName", "Member must have length less than or equal to 255")
    )
    # every error in the model's order: the table name, then the missing key
    assert refused(raw, "DeleteItem", {"TableName": "a;"}) == (
        "2 validation errors detected: "
        + at("'a;'", "tableName", PATTERN)
        + "; "
        + at("null", "key", NOT_NULL)
    )
    assert refused(raw, "GetItem", {"Key": key}) == "1 validation error detected: " + at(
        "null", "tableName", NOT_NULL
    )


def test_query_limit(raw: RawClient, table: str) -> None:
    assert refused(
        raw,
        "Query",
        {
            "TableName": table,
            "Limit": 0,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}},
        },
    ) == "1 validation error detected: " + at(
        "'0'", "limit", "Member must have value greater than or equal to 1"
    )


def test_enum_values_in_aws_order(raw: RawClient, table: str) -> None:
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    assert refused(
        raw, "PutItem", {"TableName": table, "Item": item, "ReturnValues": "X"}
    ) == "1 validation error detected: " + at(
        "'X'",
        "returnValues",
        "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
    )
    assert refused(
        raw, "Scan", {"TableName": table, "Select": "X", "ReturnConsumedCapacity": "Y"}
    ) == (
        "2 validation errors detected: "
        + at(
            "'X'",
            "select",
            "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
            "ALL_PROJECTED_ATTRIBUTES]",
        )
        + "; "
        + at(
            "'Y'",
            "returnConsumedCapacity",
            "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
        )
    )


@pytest.mark.parametrize("operation", ["BatchGetItem", "BatchWriteItem"])
def test_empty_request_items(raw: RawClient, operation: str) -> None:
    assert refused(raw, operation, {"RequestItems": {}}) == (
        f"The requestItems parameter is required for {operation}"
    )


def test_over_limit_batches_in_member_path_form(raw: RawClient, table: str) -> None:
    assert refused(raw, "BatchWriteItem", {"RequestItems": {table: []}}) == (
        f"1 validation error detected: Value '{{{table}=[]}}' at 'requestItems' {BATCH_MAP}"
    )
    puts = [{"PutRequest": {"Item": {"pk": {"S": str(i)}, "sk": {"S": "s"}}}} for i in range(26)]
    message = refused(raw, "BatchWriteItem", {"RequestItems": {table: puts}})
    assert message.startswith(f"1 validation error detected: Value '{{{table}=[")
    assert message.count("com.amazonaws.dynamodb.v20120810.WriteRequest@") == 26
    assert message.endswith(f"]}}' at 'requestItems' {BATCH_MAP}")
    status, answer = raw.dynamodb("Scan", {"TableName": table})
    assert (status, answer["Count"]) == (200, 0)
    keys = [{"pk": {"S": str(i)}, "sk": {"S": "s"}} for i in range(101)]
    assert refused(raw, "BatchGetItem", {"RequestItems": {table: {"Keys": keys}}}) == (
        "Too many items requested for the BatchGetItem call"
    )
