"""ItemCount and sizes: exact for small tables, counted in the background for big ones."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from strata.service.tables import statistics
from strata.service.tables.service import TableOperations
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

GSI = {
    "IndexName": "byg",
    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}


async def scenario(ops: TableOperations, items: int) -> list[dict[str, Any]]:
    await ops.start()  # the lifespan's part: the background jobs
    routes = ops.routes()
    await routes["CreateTable"](
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [GSI],
        }
    )
    for first in range(0, items, 25):
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n:05d}"}, "g": {"S": "x"}}}}
            for n in range(first, min(first + 25, items))
        ]
        await routes["BatchWriteItem"]({"RequestItems": {"tbl": batch}})
    described = [(await routes["DescribeTable"]({"TableName": "tbl"}))["Table"]]
    for _ in range(1000):  # let a background count run (it pauses between chunks)
        if not ops.tables.stats.counting():
            break
        await asyncio.sleep(0.005)
    described.append((await routes["DescribeTable"]({"TableName": "tbl"}))["Table"])
    await ops.stop()
    return described


@pytest.fixture
def ops(tmp_path: Path) -> Any:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    yield TableOperations(store)
    store.close()


def test_small_table_is_counted_exactly(ops: TableOperations) -> None:
    first, second = asyncio.run(scenario(ops, 60))
    assert first["ItemCount"] == second["ItemCount"] == 60
    assert first["GlobalSecondaryIndexes"][0]["ItemCount"] == 60


def test_big_table_is_counted_in_the_background(
    ops: TableOperations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "EXACT_COUNT_ITEMS_MAX", 20)
    monkeypatch.setattr(statistics, "STATS_CHUNK_ITEMS", 7)
    first, second = asyncio.run(scenario(ops, 60))
    # The request path stops at the bound and answers a lower bound at once...
    assert first["ItemCount"] == 20
    # ...and the count finished in chunks between requests.
    assert second["ItemCount"] == 60
    assert second["TableSizeBytes"] > first["TableSizeBytes"]
    assert second["GlobalSecondaryIndexes"][0]["ItemCount"] == 60
