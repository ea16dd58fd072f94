"""TTL expiry: which items the sweeper deletes, with their index entries, a slice at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from strata.service.tables import item_collections
from strata.service.tables.expiry import EXPIRY_HORIZON_S, TtlSweeper
from strata.service.tables.service import TableOperations
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

NOW = 1_700_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def ops(tmp_path: Path, clock: ManualClock) -> Iterator[TableOperations]:
    store = LocalStore(str(tmp_path / "db"), clock)
    operations = TableOperations(store)
    call(
        operations,
        "CreateTable",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
                {"AttributeName": "v", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "byg",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "LocalSecondaryIndexes": [
                {
                    "IndexName": "byv",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "v", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )
    yield operations
    store.close()


def call(ops: TableOperations, operation: str, req: dict[str, Any]) -> dict[str, Any]:
    """Run one operation; the answer as plain JSON (stored items are spliced in raw)."""

    async def run() -> dict[str, Any]:
        return await ops.routes()[operation]({"TableName": "tbl", **req})

    answer = asyncio.run(run())
    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(answer))
    return decoded


def enable_ttl(ops: TableOperations, attribute: str = "expires") -> None:
    spec = {"AttributeName": attribute, "Enabled": True}
    call(ops, "UpdateTimeToLive", {"TimeToLiveSpecification": spec})


def put(ops: TableOperations, sk: str, **attributes: dict[str, Any]) -> None:
    item = {"pk": {"S": "p"}, "sk": {"S": sk}, "g": {"S": "G"}, "v": {"S": sk}, **attributes}
    call(ops, "PutItem", {"Item": item})


def expiring(seconds_from_now: float) -> dict[str, str]:
    return {"N": str(NOW + seconds_from_now)}


def sort_keys(ops: TableOperations) -> list[str]:
    return sorted(item["sk"]["S"] for item in call(ops, "Scan", {})["Items"])


def sweep(sweeper: TtlSweeper) -> int:
    return asyncio.run(sweeper.sweep())


def test_deletes_only_items_whose_number_ttl_has_passed(ops: TableOperations) -> None:
    enable_ttl(ops)
    put(ops, "past", expires=expiring(-1))
    put(ops, "past-fraction", expires={"N": str(NOW - 0.5)})
    put(ops, "future", expires=expiring(3600))
    put(ops, "now", expires=expiring(0))  # not earlier than now: still alive
    put(ops, "missing")
    put(ops, "string", expires={"S": str(NOW - 100)})
    put(ops, "number-set", expires={"NS": [str(NOW - 100)]})
    put(ops, "nested", m={"M": {"expires": expiring(-100)}})
    put(ops, "ancient", expires=expiring(-EXPIRY_HORIZON_S - 10))
    put(ops, "five-years", expires=expiring(-EXPIRY_HORIZON_S + 10))
    put(ops, "other-attribute", ttl=expiring(-100))

    assert sweep(ops.expiry) == 3

    assert sort_keys(ops) == [
        "ancient",
        "future",
        "missing",
        "nested",
        "now",
        "number-set",
        "other-attribute",
        "string",
    ]
    assert ops.expiry.expired_total == 3


def test_items_expire_when_the_clock_passes_them(ops: TableOperations, clock: ManualClock) -> None:
    enable_ttl(ops)
    put(ops, "soon", expires=expiring(60))
    put(ops, "later", expires=expiring(86_400))
    assert sweep(ops.expiry) == 0
    clock.advance(61)
    assert sweep(ops.expiry) == 1
    assert sort_keys(ops) == ["later"]
    clock.advance(86_400)
    assert sweep(ops.expiry) == 1
    assert sort_keys(ops) == []


def test_nothing_expires_while_ttl_is_disabled(ops: TableOperations) -> None:
    put(ops, "past", expires=expiring(-1))
    assert sweep(ops.expiry) == 0
    enable_ttl(ops)
    call(
        ops,
        "UpdateTimeToLive",
        {"TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": False}},
    )
    assert sweep(ops.expiry) == 0
    assert sort_keys(ops) == ["past"]


def test_expiry_removes_index_entries_and_collection_size(ops: TableOperations) -> None:
    enable_ttl(ops)
    put(ops, "gone", expires=expiring(-1))
    put(ops, "kept", expires=expiring(3600))
    table = ops.tables.get("tbl")
    tracker = item_collections.Tracker(ops.store)
    before = tracker.size(table, {"pk": {"S": "p"}})

    assert sweep(ops.expiry) == 1

    by_g = call(
        ops,
        "Query",
        {
            "IndexName": "byg",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "G"}},
        },
    )
    assert [item["sk"]["S"] for item in by_g["Items"]] == ["kept"]
    by_v = call(
        ops,
        "Query",
        {
            "IndexName": "byv",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
        },
    )
    assert [item["sk"]["S"] for item in by_v["Items"]] == ["kept"]
    assert call(ops, "GetItem", {"Key": {"pk": {"S": "p"}, "sk": {"S": "gone"}}}) == {}
    # The collection shrank by exactly what deleting the item by hand would have removed.
    call(ops, "DeleteItem", {"Key": {"pk": {"S": "p"}, "sk": {"S": "kept"}}})
    assert item_collections.Tracker(ops.store).size(table, {"pk": {"S": "p"}}) == 0
    assert before > 0
    assert ops.tables.describe_table("tbl")["ItemCount"] == 0


def test_a_big_table_is_swept_a_slice_at_a_time_resuming(ops: TableOperations) -> None:
    enable_ttl(ops)
    for n in range(20):
        put(ops, f"{n:02}", expires=expiring(-1))
    sweeper = TtlSweeper(ops.tables, chunk_items=3, sweep_items_max=6)

    assert sweep(sweeper) == 6
    assert sort_keys(ops) == [f"{n:02}" for n in range(6, 20)]
    assert sweep(sweeper) == 6  # resumes after the sixth item, not from the start
    assert sort_keys(ops) == [f"{n:02}" for n in range(12, 20)]
    assert sweep(sweeper) == 6
    assert sweep(sweeper) == 2  # the table's end: the next sweep starts over
    assert sort_keys(ops) == []
    put(ops, "00", expires=expiring(-1))
    assert sweep(sweeper) == 1


def test_sweep_yields_to_other_tasks_between_chunks(ops: TableOperations) -> None:
    enable_ttl(ops)
    for n in range(10):
        put(ops, f"{n:02}", expires=expiring(-1))
    sweeper = TtlSweeper(ops.tables, chunk_items=2, sweep_items_max=100)
    turns = 0

    async def other_request() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def main() -> int:
        other = asyncio.get_running_loop().create_task(other_request())
        await asyncio.sleep(0)
        deleted = await sweeper.sweep()
        other.cancel()
        return deleted

    assert asyncio.run(main()) == 10
    assert turns >= 5  # at least one turn per chunk of two


def test_background_task_sweeps_until_stopped(
    ops: TableOperations, caplog: pytest.LogCaptureFixture
) -> None:
    enable_ttl(ops)
    put(ops, "past", expires=expiring(-1))
    sweeper = TtlSweeper(ops.tables, interval_s=0.01)

    async def main() -> None:
        sweeper.start()
        for _ in range(500):  # bounded: the first sweep runs at once
            if sweeper.expired_total:
                break
            await asyncio.sleep(0.01)
        await sweeper.stop()
        await sweeper.stop()  # idempotent

    with caplog.at_level(logging.INFO, logger="strata.tables.ttl"):
        asyncio.run(main())
    assert sweeper.expired_total == 1
    assert sort_keys(ops) == []
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1  # later sweeps found nothing: they say nothing
    assert infos[0].startswith("TTL: deleted 1 expired items from 1 tables in ")


def test_a_table_created_again_is_swept_from_its_start(ops: TableOperations) -> None:
    enable_ttl(ops)
    for n in range(6):
        put(ops, f"{n:02}", expires=expiring(3600))
    sweeper = TtlSweeper(ops.tables, chunk_items=2, sweep_items_max=2)
    assert sweep(sweeper) == 0  # remembers a position two items in
    table = ops.tables.get("tbl")
    description = ops.tables.describe_table("tbl")
    call(ops, "DeleteTable", {})
    call(
        ops,
        "CreateTable",
        {
            "KeySchema": description["KeySchema"],
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    assert ops.tables.get("tbl").record.table_id != table.record.table_id
    enable_ttl(ops)
    call(ops, "PutItem", {"Item": {"pk": {"S": "p"}, "sk": {"S": "00"}, "expires": expiring(-1)}})
    assert sweep(sweeper) == 1
