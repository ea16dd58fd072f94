"""Details compatibility suites check against AWS: paging keys, sizes, headers, limits."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of


def fails(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


def _query(dynamodb: Any, table: str, start: dict[str, Any], condition: str = "pk = :p") -> Any:
    values = {":p": {"S": "q"}}
    if ":s" in condition:
        values[":s"] = {"S": "3"}
    return dynamodb.query(
        TableName=table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        ExclusiveStartKey=start,
    )


@pytest.mark.parametrize(
    ("start", "condition", "message"),
    [
        (
            {"pk": {"S": "other"}, "sk": {"S": "1"}},
            "pk = :p",
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        (
            {"pk": {"S": "q"}, "sk": {"S": "1"}},
            "pk = :p AND sk > :s",
            "The provided starting key does not match the range key predicate",
        ),
        (
            {"pk": {"S": "q"}},
            "pk = :p",
            "Exclusive Start Key must have same size as table's key schema",
        ),
        (
            {"pk": {"S": "q"}, "x": {"S": "1"}},
            "pk = :p",
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            {"pk": {"S": "q"}, "sk": {"N": "1"}},
            "pk = :p",
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
    ],
)
def test_query_bad_exclusive_start_key(
    dynamodb: Any, table: str, start: dict[str, Any], condition: str, message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        _query(dynamodb, table, start, condition)
    assert error_of(caught) == ("ValidationException", message)


def test_query_pages_with_start_key(dynamodb: Any, table: str) -> None:
    for i in range(5):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "q"}, "sk": {"S": str(i)}})
    reply = _query(dynamodb, table, {"pk": {"S": "q"}, "sk": {"S": "1"}})
    assert [i["sk"]["S"] for i in reply["Items"]] == ["2", "3", "4"]
