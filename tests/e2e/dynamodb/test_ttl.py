"""Time to Live end to end: a server's sweeper deletes expired items from reads and indexes.

The server runs with its clock ``OFFSET_S`` ahead (``STRATA_CLOCK_OFFSET_S``), the one
clock that TTL and SigV4 both read. The offset stays inside SigV4's allowed skew, so
boto3 signs with the real clock unchanged, while an item whose TTL is still ahead of the
real clock, but behind the server's, expires: the server's clock decides, not the client's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from strata import limits
from tests.conftest import client
from tests.e2e.dynamodb.conftest import make_table
from tests.server import RunningServer, start_server

OFFSET_S = limits.clock_skew_s_max * 2 // 3  # 10 minutes: a signature still passes
WAIT_S = 60.0  # bound on the wait for a sweep; it normally takes a fraction of a second


@pytest.fixture(scope="module")
def ahead(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("ttl") / "data",
        env={"STRATA_CLOCK_OFFSET_S": str(OFFSET_S), "STRATA_TTL_SWEEP_INTERVAL_S": "0.2"},
    )
    yield running
    running.stop()


def key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def test_expired_items_disappear_from_get_scan_and_index(ahead: RunningServer) -> None:
    ddb = client(ahead, "dynamodb")
    gsi = {
        "IndexName": "byg",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    table = make_table(ddb, "ttl-e2e", GlobalSecondaryIndexes=[gsi])
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True}
    )
    real_now = int(time.time())
    ttls: dict[str, dict[str, str] | None] = {
        "stale": {"N": str(real_now - 60)},
        "ahead-of-client": {"N": str(real_now + OFFSET_S // 2)},  # behind the server's clock
        "alive": {"N": str(real_now + 86_400)},
        "no-ttl": None,
        "text": {"S": str(real_now - 60)},
    }
    for sk, ttl in ttls.items():
        item = {**key(sk), "g": {"S": "G"}}
        if ttl is not None:
            item["expires"] = ttl
        ddb.put_item(TableName=table, Item=item)
    expired = {"stale", "ahead-of-client"}
    remaining = sorted(set(ttls) - expired)

    deadline = time.monotonic() + WAIT_S
    while any("Item" in ddb.get_item(TableName=table, Key=key(sk)) for sk in expired):
        assert time.monotonic() < deadline, f"not expired in {WAIT_S} s:\n{ahead.log()}"
        time.sleep(0.1)

    scanned = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    assert sorted(item["sk"]["S"] for item in scanned) == remaining
    queried = ddb.query(
        TableName=table,
        IndexName="byg",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
    )["Items"]
    assert sorted(item["sk"]["S"] for item in queried) == remaining
    for sk in remaining:
        assert ddb.get_item(TableName=table, Key=key(sk), ConsistentRead=True)["Item"]["sk"] == {
            "S": sk
        }
    description = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert description == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
