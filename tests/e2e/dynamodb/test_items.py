"""PutItem, GetItem, DeleteItem: values, keys, sizes, capacity and their errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of

ALL_TYPES = {
    "pk": {"S": "k"},
    "sk": {"S": "s"},
    "s": {"S": "text é"},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\x01bin"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"deep": {"SS": ["a", "b"]}}}]},
    "m": {"M": {"inner": {"N": "3"}}},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"a"]},
    "empty": {"S": ""},
}


def test_put_get_all_types(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item=ALL_TYPES)
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "k"}, "sk": {"S": "s"}})["Item"]
    assert item["n"] == {"N": "-12.5"}
    assert item["b"] == {"B": b"\x00\x01bin"}
    assert item["l"]["L"][2] == {"M": {"deep": {"SS": ["a", "b"]}}}
    assert item["empty"] == {"S": ""}
    assert set(item) == set(ALL_TYPES)


def test_get_missing_item(dynamodb: Any, table: str) -> None:
    reply = dynamodb.get_item(TableName=table, Key={"pk": {"S": "no"}, "sk": {"S": "pe"}})
    assert "Item" not in reply


def test_put_replaces_and_returns_old(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    assert "Attributes" not in dynamodb.put_item(
        TableName=table, Item={**key, "v": {"N": "1"}}, ReturnValues="ALL_OLD"
    )
    old = dynamodb.put_item(TableName=table, Item={**key, "w": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"] == {**key, "v": {"N": "1"}}
    assert dynamodb.get_item(TableName=table, Key=key)["Item"] == {**key, "w": {"N": "2"}}


def test_delete_item(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb.put_item(TableName=table, Item={**key, "v": {"S": "x"}})
    old = dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert old["Attributes"]["v"] == {"S": "x"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)
    again = dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert "Attributes" not in again


def test_number_key_normalised(dynamodb: Any, num_table: str) -> None:
    dynamodb.put_item(TableName=num_table, Item={"pk": {"S": "a"}, "n": {"N": "1.500"}})
    item = dynamodb.get_item(TableName=num_table, Key={"pk": {"S": "a"}, "n": {"N": "1.5"}})
    assert item["Item"]["n"] == {"N": "1.5"}
    item = dynamodb.get_item(TableName=num_table, Key={"pk": {"S": "a"}, "n": {"N": "15E-1"}})
    assert item["Item"]["n"] == {"N": "1.5"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"sk": {"S": "x"}},
            "One or more parameter values were invalid: Missing the key pk in the item",
        ),
        (
            {"pk": {"N": "1"}, "sk": {"S": "x"}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S "
            "actual: N",
        ),
        (
            {"pk": {"S": ""}, "sk": {"S": "x"}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: pk",
        ),
        (
            {"pk": {"S": "a"}, "sk": {"S": "x"}, "set": {"SS": []}},
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
    ],
)
def test_put_item_validation(dynamodb: Any, table: str, item: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item=item)
    assert error_of(caught) == ("ValidationException", message)


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": "a"}},
        {"pk": {"S": "a"}, "sk": {"N": "1"}},
        {"pk": {"S": "a"}, "sk": {"S": "b"}, "extra": {"S": "c"}},
        {"pk": {"S": "a"}, "other": {"S": "b"}},
    ],
)
def test_get_item_key_mismatch(dynamodb: Any, table: str, key: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.get_item(TableName=table, Key=key)
    assert error_of(caught) == (
        "ValidationException",
        "The provided key element does not match the schema",
    )


def test_item_too_large(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb.put_item(TableName=table, Item={**key, "v": {"S": "x" * (400 * 1024 - 100)}})
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item={**key, "v": {"S": "x" * (400 * 1024)}})
    assert error_of(caught) == (
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    )


def test_bad_return_values(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}}, ReturnValues="ALL_NEW"
        )
    assert error_of(caught) == ("ValidationException", "Return values set to invalid value")


def test_consumed_capacity(dynamodb: Any, table: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    put = dynamodb.put_item(
        TableName=table, Item={**key, "v": {"S": "x" * 1500}}, ReturnConsumedCapacity="TOTAL"
    )
    assert put["ConsumedCapacity"]["CapacityUnits"] == 2.0
    assert put["ConsumedCapacity"]["TableName"] == table
    get = dynamodb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert get["ConsumedCapacity"]["CapacityUnits"] == 0.5
    get = dynamodb.get_item(
        TableName=table, Key=key, ReturnConsumedCapacity="INDEXES", ConsistentRead=True
    )
    assert get["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert get["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0


def test_missing_table(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=unique_name, Item={"pk": {"S": "a"}})
    assert error_of(caught) == ("ResourceNotFoundException", "Requested resource not found")


def test_resource_layer_items(ddb_resource: Any, table: str) -> None:
    resource_table = ddb_resource.Table(table)
    resource_table.put_item(
        Item={"pk": "a", "sk": "b", "n": Decimal("3.25"), "tags": {"x", "y"}, "doc": {"k": [1]}}
    )
    item = resource_table.get_item(Key={"pk": "a", "sk": "b"})["Item"]
    assert item == {
        "pk": "a",
        "sk": "b",
        "n": Decimal("3.25"),
        "tags": {"x", "y"},
        "doc": {"k": [Decimal(1)]},
    }
    resource_table.delete_item(Key={"pk": "a", "sk": "b"})
    assert "Item" not in resource_table.get_item(Key={"pk": "a", "sk": "b"})
