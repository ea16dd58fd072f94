"""Item semantics where AWS's answer is easy to get wrong: REMOVE on an absent item, `<>`
between absent attributes, SET past a list's end, a bad key in TransactGetItems, the legacy
Expected and ConditionalOperator checks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of

INVALID = "One or more parameter values were invalid: "


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "1"}}


def fails(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


@pytest.mark.parametrize("expression", ["REMOVE a", "REMOVE a.b", "REMOVE a[1], b", "REMOVE #n.c"])
def test_remove_on_an_absent_item_creates_nothing(
    dynamodb: Any, table: str, expression: str
) -> None:
    names = {"ExpressionAttributeNames": {"#n": "n"}} if "#n" in expression else {}
    answer = dynamodb.update_item(
        TableName=table,
        Key=key("absent"),
        UpdateExpression=expression,
        ReturnValues="ALL_NEW",
        ReturnConsumedCapacity="TOTAL",
        **names,
    )
    assert "Attributes" not in answer
    assert answer["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("absent"))
    assert dynamodb.scan(TableName=table)["Count"] == 0


def test_remove_on_a_present_item_still_writes(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**key("here"), "a": {"S": "x"}, "b": {"S": "y"}})
    answer = dynamodb.update_item(
        TableName=table, Key=key("here"), UpdateExpression="REMOVE a", ReturnValues="ALL_NEW"
    )
    assert answer["Attributes"] == {**key("here"), "b": {"S": "y"}}


def test_not_equal_between_absent_attributes_is_true(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item=key("ne"), ConditionExpression="a <> b")
    dynamodb.put_item(
        TableName=table, Item={**key("ne"), "a": {"S": "x"}}, ConditionExpression="a <> b"
    )
    # equal attributes: false
    dynamodb.put_item(TableName=table, Item={**key("ne"), "a": {"S": "x"}, "b": {"S": "x"}})
    assert (
        fails(dynamodb.put_item, TableName=table, Item=key("ne"), ConditionExpression="a <> b")[0]
        == "ConditionalCheckFailedException"
    )
    scanned = dynamodb.scan(TableName=table, FilterExpression="c <> d")
    assert scanned["Count"] == 1


def test_set_past_the_end_appends_in_index_order(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**key("list"), "l": {"L": [{"S": "0"}]}})
    answer = dynamodb.update_item(
        TableName=table,
        Key=key("list"),
        UpdateExpression="SET l[9] = :nine, l[3] = :three, l[5] = :five",
        ExpressionAttributeValues={
            ":nine": {"S": "nine"},
            ":three": {"S": "three"},
            ":five": {"S": "five"},
        },
        ReturnValues="ALL_NEW",
    )
    assert answer["Attributes"]["l"]["L"] == [
        {"S": "0"},
        {"S": "three"},
        {"S": "five"},
        {"S": "nine"},
    ]


@pytest.mark.parametrize(
    "bad_key",
    [
        {"pk": {"N": "1"}, "sk": {"S": "1"}},
        {"zz": {"S": "1"}, "sk": {"S": "1"}},
        {"pk": {"S": "1"}},
    ],
)
def test_transact_get_items_with_an_invalid_key_is_cancelled(
    dynamodb: Any, table: str, bad_key: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": table, "Key": key("good")}},
                {"Get": {"TableName": table, "Key": bad_key}},
            ]
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError]"
    )
    reasons = error["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ValidationError"
    assert reasons[1]["Message"] == "The provided key element does not match the schema"


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (
            {"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}},
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "NULL", "AttributeValueList": [{"S": "x"}]}},
            INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {"a": {"ComparisonOperator": "LT", "AttributeValueList": [{"BOOL": True}]}},
            INVALID + "ComparisonOperator LT is not valid for BOOL AttributeValue type",
        ),
        (
            {"a": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"L": []}]}},
            INVALID + "ComparisonOperator CONTAINS is not valid for L AttributeValue type",
        ),
        (
            {"a": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]}},
            INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        (
            {"a": {"ComparisonOperator": "GT", "Value": {"SS": ["x"]}}},
            INVALID + "ComparisonOperator GT is not valid for SS AttributeValue type",
        ),
    ],
)
def test_legacy_expected_values_checked_per_operator(
    dynamodb: Any, table: str, expected: dict[str, Any], message: str
) -> None:
    assert fails(dynamodb.put_item, TableName=table, Item=key("legacy"), Expected=expected) == (
        "ValidationException",
        message,
    )
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("legacy"))


def test_conditional_operator_needs_two_conditions(dynamodb: Any, table: str) -> None:
    assert fails(dynamodb.put_item, TableName=table, Item=key("op"), ConditionalOperator="AND") == (
        "ValidationException",
        "ConditionalOperator cannot be used without Filter or Expected",
    )
    assert fails(
        dynamodb.delete_item,
        TableName=table,
        Key=key("op"),
        ConditionalOperator="OR",
        Expected={"a": {"Exists": False}},
    ) == (
        "ValidationException",
        "ConditionalOperator can only be used when Filter or Expected has two or more elements",
    )
    assert fails(dynamodb.scan, TableName=table, ConditionalOperator="OR") == (
        "ValidationException",
        "ConditionalOperator cannot be used without Filter or Expected",
    )
    # two conditions: fine
    dynamodb.put_item(
        TableName=table,
        Item=key("op"),
        ConditionalOperator="OR",
        Expected={"a": {"Exists": False}, "b": {"Exists": False}},
    )
    assert (
        dynamodb.scan(
            TableName=table,
            ConditionalOperator="OR",
            ScanFilter={
                "a": {"ComparisonOperator": "NULL"},
                "b": {"ComparisonOperator": "NOT_NULL"},
            },
        )["Count"]
        == 1
    )


def test_consumed_capacity_shapes(dynamodb: Any, table: str) -> None:
    """Single-item operations, Query and Scan answer the aggregate CapacityUnits alone (and
    the table's under INDEXES); transactions add the read/write split (AWS, observed)."""
    item = {**key("cap"), "d": {"S": "x" * 5000}}
    put = dynamodb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 5.0}
    got = dynamodb.get_item(
        TableName=table, Key=key("cap"), ReturnConsumedCapacity="INDEXES", ConsistentRead=True
    )
    assert got["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
    }
    dynamodb.put_item(TableName=table, Item={**key("cap2"), "d": {"S": "y" * 3000}})
    # Scan: the items read together (about 8 KB), rounded up to 4 KB once, halved
    scanned = dynamodb.scan(TableName=table, ReturnConsumedCapacity="TOTAL")
    assert scanned["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    filtered = dynamodb.scan(
        TableName=table,
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
        FilterExpression="attribute_not_exists(d)",
    )
    assert (filtered["Count"], filtered["ConsumedCapacity"]["CapacityUnits"]) == (0, 2.0)
    queried = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "cap"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert queried["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    transaction = dynamodb.transact_get_items(
        TransactItems=[{"Get": {"TableName": table, "Key": key("cap")}}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert transaction["ConsumedCapacity"] == [
        {"TableName": table, "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0}
    ]
