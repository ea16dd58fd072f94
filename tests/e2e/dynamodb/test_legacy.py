"""The legacy parameters: Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of
from tests.server import RunningServer

KEY = {"pk": {"S": "a"}, "sk": {"S": "b"}}
INVALID = "One or more parameter values were invalid: "


def fails(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


def test_expected_exists_and_value(dynamodb: Any, table: str) -> None:
    item = {**KEY, "n": {"N": "5"}}
    dynamodb.put_item(TableName=table, Item=item, Expected={"n": {"Exists": False}})
    assert fails(
        dynamodb.put_item, TableName=table, Item=item, Expected={"n": {"Exists": False}}
    ) == ("ConditionalCheckFailedException", "The conditional request failed")
    dynamodb.put_item(TableName=table, Item=item, Expected={"n": {"Value": {"N": "5.0"}}})
    dynamodb.put_item(
        TableName=table, Item=item, Expected={"n": {"Exists": True, "Value": {"N": "5"}}}
    )
    assert (
        fails(
            dynamodb.delete_item, TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "6"}}}
        )[0]
        == "ConditionalCheckFailedException"
    )
    dynamodb.delete_item(TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "5"}}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key=KEY)


@pytest.mark.parametrize(
    ("spec", "passes"),
    [
        ({"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "5"}]}, True),
        ({"ComparisonOperator": "NE", "AttributeValueList": [{"N": "5"}]}, False),
        ({"ComparisonOperator": "GT", "AttributeValueList": [{"N": "4"}]}, True),
        ({"ComparisonOperator": "GE", "Value": {"N": "6"}}, False),
        ({"ComparisonOperator": "LT", "AttributeValueList": [{"N": "6"}]}, True),
        ({"ComparisonOperator": "LE", "AttributeValueList": [{"S": "6"}]}, False),
        ({"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]}, True),
        ({"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]}, True),
        ({"ComparisonOperator": "NOT_NULL"}, True),
        ({"ComparisonOperator": "NULL"}, False),
    ],
)
def test_expected_operators(dynamodb: Any, table: str, spec: dict[str, Any], passes: bool) -> None:
    dynamodb.put_item(TableName=table, Item={**KEY, "n": {"N": "5"}})
    call = {"TableName": table, "Item": {**KEY, "n": {"N": "7"}}, "Expected": {"n": spec}}
    if passes:
        dynamodb.put_item(**call)
    else:
        assert fails(dynamodb.put_item, **call)[0] == "ConditionalCheckFailedException"


def test_expected_string_operators_and_or(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**KEY, "s": {"S": "hello"}, "ss": {"SS": ["x"]}})
    good = {
        "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]},
        "ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "x"}]},
        "missing": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "x"}]},
    }
    dynamodb.update_item(TableName=table, Key=KEY, Expected=good)
    bad = {**good, "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]}}
    assert fails(dynamodb.update_item, TableName=table, Key=KEY, Expected=bad)[0] == (
        "ConditionalCheckFailedException"
    )
    dynamodb.update_item(TableName=table, Key=KEY, Expected=bad, ConditionalOperator="OR")


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (
            {"a": {"Value": {"S": "a"}, "AttributeValueList": [{"S": "a"}]}},
            f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            {"a": {"Exists": True, "ComparisonOperator": "NULL"}},
            f"{INVALID}Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "EQ"}},
            f"{INVALID}Value or AttributeValueList must be used with ComparisonOperator: EQ "
            "for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "BETWEEN", "Value": {"S": "a"}}},
            f"{INVALID}Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "NULL", "AttributeValueList": [{"S": "a"}]}},
            f"{INVALID}Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "a"}, {"N": "1"}]}},
            f"{INVALID}AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            {
                "a": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "2"}, {"N": "1"}],
                }
            },
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        (
            {"a": {"AttributeValueList": [{"S": "a"}]}},
            f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for "
            "Attribute: a",
        ),
        ({"a": {}}, f"{INVALID}Value must be provided when Exists is null for Attribute: a"),
        (
            {"a": {"Exists": True}},
            f"{INVALID}Value must be provided when Exists is true for Attribute: a",
        ),
        (
            {"a": {"Exists": False, "Value": {"S": "a"}}},
            f"{INVALID}Value cannot be used when Exists is false for Attribute: a",
        ),
    ],
)
def test_expected_validation(
    dynamodb: Any, table: str, expected: dict[str, Any], message: str
) -> None:
    assert fails(dynamodb.delete_item, TableName=table, Key=KEY, Expected=expected) == (
        "ValidationException",
        message,
    )


def test_mixing_legacy_and_expressions(dynamodb: Any, table: str) -> None:
    mixed = "Can not use both expression and non-expression parameters in the same request: "
    assert fails(
        dynamodb.put_item,
        TableName=table,
        Item=KEY,
        Expected={"a": {"Exists": False}},
        ConditionExpression="attribute_not_exists(a)",
    ) == (
        "ValidationException",
        f"{mixed}Non-expression parameters: {{Expected}} "
        "Expression parameters: {ConditionExpression}",
    )
    assert fails(
        dynamodb.update_item,
        TableName=table,
        Key=KEY,
        AttributeUpdates={"a": {"Value": {"S": "x"}}},
        Expected={"a": {"Exists": False}},
        UpdateExpression="SET b = :b",
        ExpressionAttributeValues={":b": {"S": "b"}},
    )[1] == (
        f"{mixed}Non-expression parameters: {{AttributeUpdates, Expected}} "
        "Expression parameters: {UpdateExpression}"
    )
    assert fails(
        dynamodb.query,
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
        KeyConditionExpression="pk = :p",
        ProjectionExpression="pk",
        ExpressionAttributeValues={":p": {"S": "a"}},
    )[1] == (
        f"{mixed}Non-expression parameters: {{KeyConditions}} "
        "Expression parameters: {ProjectionExpression, KeyConditionExpression}"
    )
    assert fails(
        dynamodb.scan,
        TableName=table,
        ScanFilter={"a": {"ComparisonOperator": "NULL"}},
        ConditionalOperator="AND",
        FilterExpression="attribute_exists(b)",
    )[1] == (
        f"{mixed}Non-expression parameters: {{ScanFilter, ConditionalOperator}} "
        "Expression parameters: {FilterExpression}"
    )


@pytest.mark.parametrize(
    ("operation", "kwargs", "which"),
    [
        ("put_item", {"Item": KEY}, "ConditionExpression is null"),
        ("delete_item", {"Key": KEY}, "ConditionExpression is null"),
        ("update_item", {"Key": KEY}, "UpdateExpression and ConditionExpression are null"),
        ("scan", {}, "FilterExpression is null"),
    ],
)
def test_values_without_expressions(
    dynamodb: Any, table: str, operation: str, kwargs: dict[str, Any], which: str
) -> None:
    assert fails(
        getattr(dynamodb, operation),
        TableName=table,
        ExpressionAttributeValues={":a": {"S": "a"}},
        **kwargs,
    ) == (
        "ValidationException",
        f"ExpressionAttributeValues can only be specified when using expressions: {which}",
    )


def test_attribute_updates(dynamodb: Any, table: str) -> None:
    reply = dynamodb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": {"N": "2"}},
            "s": {"Value": {"SS": ["x", "y"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "q"}]}},
            "gone": {"Action": "PUT", "Value": {"S": "soon"}},
        },
        ReturnValues="ALL_NEW",
    )
    assert reply["Attributes"] == {
        **KEY,
        "n": {"N": "2"},
        "s": {"SS": ["x", "y"]},
        "l": {"L": [{"S": "q"}]},
        "gone": {"S": "soon"},
    }
    reply = dynamodb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": {"N": "-0.5"}},
            "s": {"Action": "DELETE", "Value": {"SS": ["x"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "r"}]}},
            "gone": {"Action": "DELETE"},
        },
        ReturnValues="UPDATED_NEW",
    )
    assert reply["Attributes"] == {
        "n": {"N": "1.5"},
        "s": {"SS": ["y"]},
        "l": {"L": [{"S": "q"}, {"S": "r"}]},
    }
    dynamodb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={"s": {"Action": "DELETE", "Value": {"SS": ["y"]}}},
    )
    assert "s" not in dynamodb.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"]


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"a": {"Action": "PUT"}},
            f"{INVALID}Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"a": {"Action": "DELETE", "Value": {"S": "x"}}},
            f"{INVALID}DELETE action with value is not supported for the type S",
        ),
        (
            {"a": {"Action": "ADD", "Value": {"S": "x"}}},
            f"{INVALID}ADD action is not supported for the type S",
        ),
        (
            {"sk": {"Value": {"S": "x"}}},
            f"{INVALID}Cannot update attribute sk. This attribute is part of the key",
        ),
        ({"n": {"Action": "ADD", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        (
            {"ss": {"Action": "DELETE", "Value": {"NS": ["1"]}}},
            "Type mismatch for attribute to update",
        ),
    ],
)
def test_attribute_updates_errors(
    dynamodb: Any, table: str, updates: dict[str, Any], message: str
) -> None:
    dynamodb.put_item(TableName=table, Item={**KEY, "n": {"N": "1"}, "ss": {"SS": ["1"]}})
    assert fails(dynamodb.update_item, TableName=table, Key=KEY, AttributeUpdates=updates) == (
        "ValidationException",
        message,
    )


def _fill(dynamodb: Any, table: str) -> None:
    for i in range(5):
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "q"}, "sk": {"S": str(i)}, "v": {"N": str(i)}}
        )


def test_key_conditions_and_query_filter(dynamodb: Any, table: str) -> None:
    _fill(dynamodb, table)
    reply = dynamodb.query(
        TableName=table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "1"}, {"S": "3"}]},
        },
        QueryFilter={
            "v": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "3"}]}
        },
        ScanIndexForward=False,
    )
    assert [i["sk"]["S"] for i in reply["Items"]] == ["3", "1"]
    assert (reply["Count"], reply["ScannedCount"]) == (2, 3)
    # KeyConditions may go with a FilterExpression (only not with KeyConditionExpression)
    reply = dynamodb.query(
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]}},
        FilterExpression="v > :x",
        ExpressionAttributeValues={":x": {"N": "2"}},
    )
    assert reply["Count"] == 2


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"pk": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "q"}]}},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"pk": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "q"}]}},
            "Query key condition not supported",
        ),
        (
            {"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]}},
            "Query condition missed key schema element: pk",
        ),
        (
            {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
            f"{INVALID}Condition parameter type does not match schema type",
        ),
        (
            {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": []}},
            f"{INVALID}Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {
                "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]},
                "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]},
                "v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]},
            },
            "Conditions can be of length 1 or 2 only",
        ),
    ],
)
def test_key_conditions_errors(
    dynamodb: Any, table: str, conditions: dict[str, Any], message: str
) -> None:
    assert fails(dynamodb.query, TableName=table, KeyConditions=conditions) == (
        "ValidationException",
        message,
    )


def test_query_filter_on_key_attributes(dynamodb: Any, table: str) -> None:
    hash_only = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "q"}]}}
    assert (
        fails(
            dynamodb.query,
            TableName=table,
            KeyConditions=hash_only,
            QueryFilter={"sk": {"ComparisonOperator": "NOT_NULL"}},
        )[1]
        == "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
    )
    assert fails(
        dynamodb.query,
        TableName=table,
        KeyConditionExpression="pk = :p",
        FilterExpression="begins_with(#s, :x)",
        ExpressionAttributeNames={"#s": "sk"},
        ExpressionAttributeValues={":p": {"S": "q"}, ":x": {"S": "a"}},
    )[1] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )


def test_scan_filter(dynamodb: Any, table: str) -> None:
    _fill(dynamodb, table)
    reply = dynamodb.scan(
        TableName=table,
        ScanFilter={
            "v": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "3"}]},
            "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "0"}]},
        },
        ConditionalOperator="OR",
        Select="COUNT",
    )
    assert (reply["Count"], reply["ScannedCount"]) == (3, 5)
    reply = dynamodb.scan(
        TableName=table,
        ScanFilter={"v": {"ComparisonOperator": "NOT_NULL"}},
        AttributesToGet=["v"],
    )
    assert sorted(int(i["v"]["N"]) for i in reply["Items"]) == [0, 1, 2, 3, 4]


def test_scan_filter_validation(server: RunningServer, dynamodb: Any, table: str) -> None:
    raw = client(server, "dynamodb", parameter_validation=False)
    assert fails(
        raw.scan,
        TableName=table,
        ScanFilter={"v": {"ComparisonOperator": "XX"}, "w": {}},
    ) == (
        "ValidationException",
        "2 validation errors detected: Value 'XX' at 'scanFilter.v.member.comparisonOperator' "
        "failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, "
        "LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]; Value null at "
        "'scanFilter.w.member.comparisonOperator' failed to satisfy constraint: Member must not "
        "be null",
    )
    assert (
        fails(
            dynamodb.scan,
            TableName=table,
            ScanFilter={"v": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["3"]}]}},
        )[1]
        == f"{INVALID}ComparisonOperator LT is not valid for SS AttributeValue type"
    )
    assert fails(dynamodb.scan, TableName=table, AttributesToGet=["a", "a"])[1] == (
        f"{INVALID}Duplicate value in attribute name: a"
    )
