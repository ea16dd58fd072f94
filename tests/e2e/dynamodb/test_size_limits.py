"""DynamoDB's size limits with its messages: key values, attribute names, key attribute
names in table and index definitions, a transaction's items, expressions, nesting."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of, make_table

INVALID = "One or more parameter values were invalid: "
HASH_TOO_LARGE = INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
RANGE_TOO_LARGE = (
    INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)
NAME_TOO_LARGE = (
    "1 validation error detected: Attribute name is too large, must be less than 65536 bytes"
)


def fails(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


@pytest.mark.parametrize(
    ("hash_value", "range_value", "message"),
    [
        ({"S": "a" * 2049}, {"S": "s"}, HASH_TOO_LARGE),
        ({"S": "é" * 1025}, {"S": "s"}, HASH_TOO_LARGE),  # 2050 bytes of UTF-8
        ({"S": "p"}, {"S": "a" * 1025}, RANGE_TOO_LARGE),
        ({"S": "p"}, {"S": "€" * 342}, RANGE_TOO_LARGE),  # 1026 bytes
    ],
)
def test_key_values_over_the_limit(
    dynamodb: Any, table: str, hash_value: Any, range_value: Any, message: str
) -> None:
    key = {"pk": hash_value, "sk": range_value}
    assert fails(dynamodb.put_item, TableName=table, Item=key) == ("ValidationException", message)
    assert fails(dynamodb.get_item, TableName=table, Key=key) == ("ValidationException", message)
    assert fails(dynamodb.delete_item, TableName=table, Key=key) == (
        "ValidationException",
        message,
    )
    assert dynamodb.scan(TableName=table)["Count"] == 0


def test_key_values_at_the_limit(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "a" * 2048}, "sk": {"S": "€" * 341}}  # 2048 and 1023 bytes
    dynamodb.put_item(TableName=table, Item=key)
    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == key


def test_binary_keys_count_decoded_bytes(dynamodb: Any, unique_name: str) -> None:
    name = make_table(dynamodb, unique_name, ("pk", "B"), ("sk", "B"))
    try:
        dynamodb.put_item(TableName=name, Item={"pk": {"B": b"x" * 2048}, "sk": {"B": b"y" * 1024}})
        assert fails(
            dynamodb.put_item,
            TableName=name,
            Item={"pk": {"B": b"x" * 2049}, "sk": {"B": b"y"}},
        ) == ("ValidationException", HASH_TOO_LARGE)
        assert fails(
            dynamodb.put_item,
            TableName=name,
            Item={"pk": {"B": b"x"}, "sk": {"B": b"y" * 1025}},
        ) == ("ValidationException", RANGE_TOO_LARGE)
    finally:
        dynamodb.delete_table(TableName=name)


def test_index_key_values_over_the_limit(dynamodb: Any, unique_name: str) -> None:
    name = make_table(
        dynamodb,
        unique_name,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "h", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    try:
        base = {"pk": {"S": "p"}, "sk": {"S": "s"}}
        assert fails(dynamodb.put_item, TableName=name, Item={**base, "g": {"S": "g" * 2049}}) == (
            "ValidationException",
            HASH_TOO_LARGE,
        )
        assert fails(
            dynamodb.put_item,
            TableName=name,
            Item={**base, "g": {"S": "g"}, "h": {"S": "h" * 1025}},
        ) == ("ValidationException", RANGE_TOO_LARGE)
        assert dynamodb.scan(TableName=name)["Count"] == 0
    finally:
        dynamodb.delete_table(TableName=name)


def test_attribute_names_up_to_65535_bytes(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "names"}, "sk": {"S": "1"}}
    longest = "n" * 65535
    dynamodb.put_item(TableName=table, Item={**key, longest: {"S": "v"}})
    assert longest in dynamodb.get_item(TableName=table, Key=key)["Item"]
    too_long = "n" * 65536
    for item in (
        {**key, too_long: {"S": "v"}},
        {**key, "m": {"M": {too_long: {"S": "v"}}}},
        {**key, "l": {"L": [{"M": {"é" * 32768: {"S": "v"}}}]}},
    ):
        assert fails(dynamodb.put_item, TableName=table, Item=item) == (
            "ValidationException",
            NAME_TOO_LARGE,
        )
    assert fails(
        dynamodb.update_item,
        TableName=table,
        Key=key,
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": too_long},
        ExpressionAttributeValues={":v": {"S": "v"}},
    ) == ("ValidationException", NAME_TOO_LARGE)


def test_empty_attribute_names(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "empty"}, "sk": {"S": "1"}}
    for item in ({**key, "": {"S": "v"}}, {**key, "m": {"M": {"": {"S": "v"}}}}):
        code, _ = fails(dynamodb.put_item, TableName=table, Item=item)
        assert code == "ValidationException"
    assert fails(
        dynamodb.update_item,
        TableName=table,
        Key=key,
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": ""},
        ExpressionAttributeValues={":v": {"S": "v"}},
    ) == (
        "ValidationException",
        "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n",
    )
    assert dynamodb.scan(TableName=table)["Count"] == 0


def _create(dynamodb: Any, name: str, **request: Any) -> tuple[str, str]:
    return fails(dynamodb.create_table, TableName=name, BillingMode="PAY_PER_REQUEST", **request)


def test_key_attribute_names_at_most_255_characters(dynamodb: Any, unique_name: str) -> None:
    long = "k" * 256
    code, message = _create(
        dynamodb,
        unique_name,
        KeySchema=[{"AttributeName": long, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": long, "AttributeType": "S"}],
    )
    assert code == "ValidationException"
    assert message == (
        f"2 validation errors detected: Value '{long}' at "
        "'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member "
        f"must have length less than or equal to 255; Value '{long}' at "
        "'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have "
        "length less than or equal to 255"
    )
    code, message = _create(
        dynamodb,
        unique_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": long, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    assert code == "ValidationException"
    assert (
        f"Value '{long}' at 'globalSecondaryIndexes.1.member.keySchema.1.member.attributeName' "
        "failed to satisfy constraint: Member must have length less than or equal to 255"
    ) in message
    assert unique_name not in dynamodb.list_tables()["TableNames"]
    # 255 characters are fine
    name = make_table(dynamodb, unique_name, ("h" * 255, "S"), ("r" * 255, "S"))
    dynamodb.delete_table(TableName=name)


def test_transaction_items_at_most_4_mb(dynamodb: Any, table: str) -> None:
    def put(i: int) -> dict[str, Any]:
        item = {"pk": {"S": f"t{i}"}, "sk": {"S": "1"}, "d": {"S": "x" * 390_000}}
        return {"Put": {"TableName": table, "Item": item}}

    assert fails(dynamodb.transact_write_items, TransactItems=[put(i) for i in range(11)]) == (
        "ValidationException",
        "The aggregate size of the items in the transaction cannot exceed 4 MB",
    )
    assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 0
    dynamodb.transact_write_items(TransactItems=[put(i) for i in range(10)])
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    assert sum(page["Count"] for page in pages) == 10


def test_expressions_at_most_4096_bytes(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "expr"}, "sk": {"S": "1"}}
    spaces = " " * 4085
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression=f"SET{spaces}a = :val",
        ExpressionAttributeValues={":val": {"N": "1"}},
    )
    code, message = fails(
        dynamodb.update_item,
        TableName=table,
        Key=key,
        UpdateExpression=f"SET {spaces}a = :val",
        ExpressionAttributeValues={":val": {"N": "1"}},
    )
    assert code == "ValidationException"
    assert message.startswith("Invalid UpdateExpression: Expression size has exceeded")
    assert fails(
        dynamodb.update_item,
        TableName=table,
        Key=key,
        UpdateExpression="SET a = :val",
        ConditionExpression="a" + " " * 4090 + "= :val",  # 4097 bytes
        ExpressionAttributeValues={":val": {"N": "1"}},
    ) == (
        "ValidationException",
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097",
    )


def test_document_nesting_at_most_32_levels(dynamodb: Any, table: str) -> None:
    def nested(levels: int) -> dict[str, Any]:
        value: dict[str, Any] = {"S": "leaf"}
        for _ in range(levels):
            value = {"M": {"k": value}}
        return value

    key = {"pk": {"S": "nest"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName=table, Item={**key, "d": nested(32)})
    assert fails(dynamodb.put_item, TableName=table, Item={**key, "d": nested(33)}) == (
        "ValidationException",
        INVALID + "Nesting Levels have exceeded supported limits",
    )
