"""Details compatibility suites check against AWS: paging keys, sizes, headers, limits."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of, make_table


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


def test_table_size_bytes_is_item_size(dynamodb: Any, table: str) -> None:
    # AWS's item size: names + values; "1" is 2 bytes (1 digit pair + 1), strings their UTF-8.
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "c"}, "é": {"S": "ü"}})
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 2
    assert described["TableSizeBytes"] == 9 + 10


def test_crc32_header_on_answers_and_errors(dynamodb: Any, table: str) -> None:
    seen: list[tuple[str, bytes]] = []

    def capture(response_dict: dict[str, Any], **_: Any) -> None:
        seen.append((response_dict["headers"]["x-amz-crc32"], response_dict["body"]))

    dynamodb.meta.events.register("before-parse.dynamodb.*", capture)
    try:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "é"}})
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "é"}})
        fails(dynamodb.get_item, TableName=table, Key={"pk": {"S": "a"}})
    finally:
        dynamodb.meta.events.unregister("before-parse.dynamodb.*", capture)
    assert len(seen) == 3
    for header, body in seen:
        assert int(header) == zlib.crc32(body)


def test_item_collection_metrics(dynamodb: Any, unique_name: str, table: str) -> None:
    lsi = make_table(
        dynamodb,
        unique_name + "-lsi",
        LocalSecondaryIndexes=[
            {
                "IndexName": "byv",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "v", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    metrics = {"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "x"}}
    reply = dynamodb.put_item(TableName=lsi, Item=item, ReturnItemCollectionMetrics="SIZE")
    assert reply["ItemCollectionMetrics"] == metrics
    reply = dynamodb.batch_write_item(
        RequestItems={
            lsi: [{"PutRequest": {"Item": {**item, "sk": {"S": "2"}}}}],
            table: [{"PutRequest": {"Item": item}}],
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert reply["ItemCollectionMetrics"] == {lsi: [metrics]}
    reply = dynamodb.transact_write_items(
        TransactItems=[{"Delete": {"TableName": lsi, "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}}],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert reply["ItemCollectionMetrics"] == {lsi: [metrics]}
    # tables without local secondary indexes have no item collections to report
    reply = dynamodb.put_item(TableName=table, Item=item, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in reply
    dynamodb.delete_table(TableName=lsi)


def test_too_many_transaction_actions(dynamodb: Any, table: str) -> None:
    actions = [
        {"Put": {"TableName": table, "Item": {"pk": {"S": str(i)}, "sk": {"S": "x"}}}}
        for i in range(101)
    ]
    code, message = fails(dynamodb.transact_write_items, TransactItems=actions)
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value '[com.amazonaws.dynamodb.v20120810.TransactWriteItem@"
    )
    assert message.endswith(
        "]' at 'transactItems' failed to satisfy constraint: Member must have length less than "
        "or equal to 100"
    )
    assert message.count("TransactWriteItem@") == 101
