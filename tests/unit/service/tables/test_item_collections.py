"""LSI item collections: the size counter, the 10 GB limit (lowered here), the metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strata.service.tables import item_collections
from strata.service.tables.service import TableOperations
from strata.service.tables.service_errors import (
    ItemCollectionSizeLimitExceeded,
    TransactionCanceled,
)
from strata.service.tables.values import item_size
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[TableOperations]:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    operations = TableOperations(store)
    routes = operations.routes()
    lsi = {
        "IndexName": "byv",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "v", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    asyncio.run(
        routes["CreateTable"](
            {
                "TableName": "tbl",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                    {"AttributeName": "v", "AttributeType": "S"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "LocalSecondaryIndexes": [lsi],
            }
        )
    )
    yield operations
    store.close()


def call(ops: TableOperations, operation: str, req: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(ops.routes()[operation]({"TableName": "tbl", **req}))


def collection_size(ops: TableOperations, pk: str) -> int:
    table = ops.tables.get("tbl")
    return item_collections.Tracker(ops.store).size(table, {"pk": {"S": pk}})


def test_counter_follows_items_and_lsi_entries(ops: TableOperations) -> None:
    plain = {"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "hello"}}
    indexed = {"pk": {"S": "a"}, "sk": {"S": "2"}, "v": {"S": "v"}, "x": {"S": "y"}}
    call(ops, "PutItem", {"Item": plain})
    reply = call(ops, "PutItem", {"Item": indexed, "ReturnItemCollectionMetrics": "SIZE"})
    entry = {k: indexed[k] for k in ("pk", "sk", "v")}  # KEYS_ONLY projection
    expected = item_size(plain) + item_size(indexed) + item_size(entry)
    assert collection_size(ops, "a") == expected
    assert reply["ItemCollectionMetrics"] == {
        "ItemCollectionKey": {"pk": {"S": "a"}},
        "SizeEstimateRangeGB": [0.0, 1.0],
    }
    call(
        ops,
        "UpdateItem",
        {"Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}, "UpdateExpression": "REMOVE v"},
    )
    unindexed = {k: v for k, v in indexed.items() if k != "v"}
    assert collection_size(ops, "a") == item_size(plain) + item_size(unindexed)
    call(
        ops,
        "BatchWriteItem",
        {
            "RequestItems": {
                "tbl": [
                    {"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}},
                    {"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                ]
            }
        },
    )
    assert collection_size(ops, "a") == 0
    assert collection_size(ops, "b") == 0


def test_limit_refuses_growth_only(ops: TableOperations, monkeypatch: pytest.MonkeyPatch) -> None:
    item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "x" * 100}}
    call(ops, "PutItem", {"Item": item})
    monkeypatch.setattr(item_collections, "COLLECTION_BYTES_MAX", item_size(item) + 10)
    with pytest.raises(ItemCollectionSizeLimitExceeded):
        call(ops, "PutItem", {"Item": {"pk": {"S": "a"}, "sk": {"S": "2"}, "x": {"S": "y" * 50}}})
    with pytest.raises(TransactionCanceled) as caught:
        call(
            ops,
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "tbl", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                    {
                        "Put": {
                            "TableName": "tbl",
                            "Item": {"pk": {"S": "a"}, "sk": {"S": "3"}, "x": {"S": "y" * 50}},
                        }
                    },
                ]
            },
        )
    assert [r["Code"] for r in caught.value.reasons] == ["None", "ItemCollectionSizeLimitExceeded"]
    # shrinking and other partitions are fine
    call(ops, "PutItem", {"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}})
    call(ops, "PutItem", {"Item": {"pk": {"S": "b"}, "sk": {"S": "1"}, "x": {"S": "z" * 100}}})
    assert call(ops, "GetItem", {"Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}) == {}
