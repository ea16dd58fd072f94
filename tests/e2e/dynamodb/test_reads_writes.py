"""Reads and writes in depth, checked against what AWS answers: scan order and parallel-scan
segments (AWS's partition hash), and the corner cases of Query, Scan, GetItem, UpdateItem and
the batch operations."""

from __future__ import annotations

from typing import Any

from tests.e2e.dynamodb.conftest import make_table


def test_scan_meets_partitions_in_aws_order(dynamodb: Any, ddb_resource: Any, table: str) -> None:
    items = ddb_resource.Table(table)
    with items.batch_writer() as batch:
        for i in range(8):
            batch.put_item(Item={"pk": "A" if i % 2 else "B", "sk": str(i)})
        for i in range(20, 15, -1):
            batch.put_item(Item={"pk": "A", "sk": str(i)})
    pages = []
    reply = items.scan(Limit=3)
    pages.append([(i["pk"], i["sk"]) for i in reply["Items"]])
    while "LastEvaluatedKey" in reply:
        reply = items.scan(Limit=3, ExclusiveStartKey=reply["LastEvaluatedKey"])
        pages.append([(i["pk"], i["sk"]) for i in reply["Items"]])
    assert pages == [
        [("A", "1"), ("A", "16"), ("A", "17")],
        [("A", "18"), ("A", "19"), ("A", "20")],
        [("A", "3"), ("A", "5"), ("A", "7")],
        [("B", "0"), ("B", "2"), ("B", "4")],
        [("B", "6")],
    ]


def test_parallel_scan_segments_hold_what_aws_puts_there(dynamodb: Any, unique_name: str) -> None:
    strings = make_table(dynamodb, unique_name + "s", range_key=None)
    numbers = make_table(dynamodb, unique_name + "n", hash_key=("pk", "N"), range_key=None)
    for value in ["3635", "228", "1668", "3435"]:
        dynamodb.put_item(TableName=strings, Item={"pk": {"S": value}})
    for value in ["251", "2388"]:
        dynamodb.put_item(TableName=numbers, Item={"pk": {"N": value}})

    def segment(name: str, number: int, kind: str) -> set[str]:
        reply = dynamodb.scan(TableName=name, Segment=number, TotalSegments=4096)
        return {item["pk"][kind] for item in reply["Items"]}

    assert segment(strings, 0, "S") == {"3635", "228"}
    assert segment(strings, 1, "S") == {"1668"}
    assert segment(strings, 4, "S") == {"3435"}
    assert segment(numbers, 1, "N") == {"251"}
    assert segment(numbers, 4095, "N") == {"2388"}
