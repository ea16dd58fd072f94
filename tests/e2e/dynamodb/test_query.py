"""Query and Scan: key conditions, order, paging, filters, Select, parallel scan."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of

NUMBERS = ["-1e10", "-2.5", "-1", "-0.001", "0", "0.001", "1", "2", "10", "1e10", "1.5e20"]


def fill(dynamodb: Any, table: str) -> None:
    for i, n in enumerate(NUMBERS):
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": "p"}, "n": {"N": n}, "i": {"N": str(i)}, "odd": {"BOOL": i % 2 == 1}},
        )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "other"}, "n": {"N": "0"}})


def sks(reply: dict[str, Any]) -> list[float]:
    return [float(item["n"]["N"]) for item in reply["Items"]]


def q(dynamodb: Any, table: str, condition: str, **kwargs: Any) -> dict[str, Any]:
    values = {":p": {"S": "p"}, **kwargs.pop("values", {})}
    reply: dict[str, Any] = dynamodb.query(
        TableName=table,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        **kwargs,
    )
    return reply


def test_query_number_order(dynamodb: Any, num_table: str) -> None:
    fill(dynamodb, num_table)
    expected = sorted(float(n) for n in NUMBERS)
    assert sks(q(dynamodb, num_table, "pk = :p")) == expected
    assert sks(q(dynamodb, num_table, "pk = :p", ScanIndexForward=False)) == expected[::-1]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("n = :a", {":a": "0"}, [0.0]),
        ("n < :a", {":a": "-1"}, [-1e10, -2.5]),
        ("n <= :a", {":a": "-1"}, [-1e10, -2.5, -1.0]),
        ("n > :a", {":a": "2"}, [10.0, 1e10, 1.5e20]),
        ("n >= :a", {":a": "2"}, [2.0, 10.0, 1e10, 1.5e20]),
        ("n BETWEEN :a AND :b", {":a": "-0.001", ":b": "1"}, [-0.001, 0.0, 0.001, 1.0]),
    ],
)
def test_query_sort_conditions(
    dynamodb: Any, num_table: str, condition: str, values: dict[str, str], expected: list[float]
) -> None:
    fill(dynamodb, num_table)
    reply = q(
        dynamodb,
        num_table,
        f"pk = :p AND {condition}",
        values={k: {"N": v} for k, v in values.items()},
    )
    assert sks(reply) == expected


def test_query_begins_with(dynamodb: Any, table: str) -> None:
    for sk in ["a", "ab", "abc", "abd", "b", "a\x00z"]:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    reply = q(dynamodb, table, "pk = :p AND begins_with(sk, :s)", values={":s": {"S": "ab"}})
    assert [i["sk"]["S"] for i in reply["Items"]] == ["ab", "abc", "abd"]
    reply = q(dynamodb, table, "pk = :p AND begins_with(sk, :s)", values={":s": {"S": "a"}})
    assert [i["sk"]["S"] for i in reply["Items"]] == ["a", "a\x00z", "ab", "abc", "abd"]


def test_query_paging(dynamodb: Any, num_table: str) -> None:
    fill(dynamodb, num_table)
    seen: list[float] = []
    start: dict[str, Any] = {}
    pages = 0
    while True:
        reply = q(dynamodb, num_table, "pk = :p", Limit=4, **start)
        seen += sks(reply)
        pages += 1
        if "LastEvaluatedKey" not in reply:
            break
        start = {"ExclusiveStartKey": reply["LastEvaluatedKey"]}
    assert seen == sorted(float(n) for n in NUMBERS)
    assert pages == 3


def test_query_filter_counts(dynamodb: Any, num_table: str) -> None:
    fill(dynamodb, num_table)
    reply = q(
        dynamodb, num_table, "pk = :p", FilterExpression="odd = :t", values={":t": {"BOOL": True}}
    )
    assert reply["Count"] == 5
    assert reply["ScannedCount"] == 11
    reply = q(dynamodb, num_table, "pk = :p", Select="COUNT")
    assert reply["Count"] == 11
    assert "Items" not in reply


def test_query_projection_and_select_errors(dynamodb: Any, num_table: str) -> None:
    fill(dynamodb, num_table)
    reply = q(dynamodb, num_table, "pk = :p", ProjectionExpression="i", Limit=1)
    assert reply["Items"] == [{"i": {"N": "0"}}]
    with pytest.raises(ClientError) as caught:
        q(dynamodb, num_table, "pk = :p", Select="SPECIFIC_ATTRIBUTES")
    assert error_of(caught) == (
        "ValidationException",
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES",
    )
    with pytest.raises(ClientError) as caught:
        q(dynamodb, num_table, "pk = :p", Select="ALL_PROJECTED_ATTRIBUTES")
    assert error_of(caught)[0] == "ValidationException"


def test_query_key_condition_errors(dynamodb: Any, num_table: str) -> None:
    with pytest.raises(ClientError) as caught:
        q(dynamodb, num_table, "n = :a", values={":a": {"N": "1"}})
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        q(
            dynamodb,
            num_table,
            "pk = :p AND n BETWEEN :a AND :b",
            values={":a": {"N": "5"}, ":b": {"N": "1"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
        "operand: AttributeValue: {N:1}",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.query(TableName=num_table)
    assert error_of(caught) == (
        "ValidationException",
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.",
    )


def test_query_page_limit_one_megabyte(dynamodb: Any, table: str) -> None:
    blob = "x" * 100_000
    for i in range(15):
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "big"}, "sk": {"S": f"{i:02d}"}, "v": {"S": blob}}
        )
    reply = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "big"}},
    )
    assert 5 < reply["Count"] < 15
    assert "LastEvaluatedKey" in reply


def test_scan_all_and_parallel(dynamodb: Any, table: str) -> None:
    expected = set()
    for p in range(40):
        for s in range(3):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"p{p}"}, "sk": {"S": f"s{s}"}})
            expected.add((f"p{p}", f"s{s}"))
    found = set()
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=table, PaginationConfig={"PageSize": 7}):
        found |= {(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]}
    assert found == expected
    segments: list[set[tuple[str, str]]] = []
    for segment in range(4):
        part: set[tuple[str, str]] = set()
        for page in paginator.paginate(
            TableName=table, Segment=segment, TotalSegments=4, PaginationConfig={"PageSize": 5}
        ):
            part |= {(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]}
        segments.append(part)
    assert set().union(*segments) == expected
    assert sum(len(s) for s in segments) == len(expected)
    assert all(segments)


def test_scan_segment_errors(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.scan(TableName=table, Segment=3, TotalSegments=2)
    assert error_of(caught) == (
        "ValidationException",
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 3 is not less than TotalSegments: 2",
    )


def test_resource_query_and_scan(ddb_resource: Any, num_table: str) -> None:
    t = ddb_resource.Table(num_table)
    with t.batch_writer() as writer:
        for i in range(10):
            writer.put_item(Item={"pk": "r", "n": i, "even": i % 2 == 0})
    reply = t.query(KeyConditionExpression=Key("pk").eq("r") & Key("n").between(3, 6))
    assert [int(i["n"]) for i in reply["Items"]] == [3, 4, 5, 6]
    reply = t.scan(FilterExpression=Attr("even").eq(True) & Attr("n").gte(4))
    assert sorted(int(i["n"]) for i in reply["Items"]) == [4, 6, 8]
