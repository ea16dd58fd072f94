"""kill -9 during concurrent writes and transactions: nothing acknowledged is lost, no
transaction is half applied, no index entry outlives or precedes its item."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import make_table
from tests.server import start_server

WRITERS = 6
TX_WRITERS = 3


@pytest.mark.slow
def test_kill_during_writes_and_transactions(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    acked_puts: list[tuple[int, int]] = []
    acked_tx: list[str] = []
    stop = threading.Event()
    try:
        admin = client(server, "dynamodb")
        make_table(
            admin,
            "crash-table",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_owner",
                    "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )

        def put_loop(writer: int) -> None:
            ddb = client(server, "dynamodb")
            seq = 0
            while not stop.is_set():
                try:
                    ddb.put_item(
                        TableName="crash-table",
                        Item={
                            "pk": {"S": f"w{writer}"},
                            "sk": {"S": f"{seq:08d}"},
                            "owner": {"S": f"o{seq % 7}"},
                        },
                    )
                except (ClientError, ConnectionClosedError, EndpointConnectionError, OSError):
                    return
                except Exception:
                    return
                acked_puts.append((writer, seq))
                seq += 1

        def tx_loop(writer: int) -> None:
            ddb = client(server, "dynamodb")
            seq = 0
            while not stop.is_set():
                tx = f"tx{writer}-{seq}"
                try:
                    ddb.transact_write_items(
                        TransactItems=[
                            {
                                "Put": {
                                    "TableName": "crash-table",
                                    "Item": {
                                        "pk": {"S": tx},
                                        "sk": {"S": part},
                                        "owner": {"S": tx},
                                    },
                                }
                            }
                            for part in ("a", "b", "c")
                        ]
                    )
                except Exception:
                    return
                acked_tx.append(tx)
                seq += 1

        threads = [threading.Thread(target=put_loop, args=(w,)) for w in range(WRITERS)]
        threads += [threading.Thread(target=tx_loop, args=(w,)) for w in range(TX_WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(acked_puts) < 300 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        server.kill()
    assert acked_puts
    assert acked_tx

    server = start_server(data_dir, port=None)
    try:
        ddb = client(server, "dynamodb")
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for page in ddb.get_paginator("scan").paginate(
            TableName="crash-table", ConsistentRead=True
        ):
            for item in page["Items"]:
                items[(item["pk"]["S"], item["sk"]["S"])] = item
        for writer, seq in acked_puts:
            assert (f"w{writer}", f"{seq:08d}") in items
        by_tx: dict[str, int] = {}
        for pk, _ in items:
            if pk.startswith("tx"):
                by_tx[pk] = by_tx.get(pk, 0) + 1
        assert all(count == 3 for count in by_tx.values()), by_tx
        for tx in acked_tx:
            assert by_tx.get(tx) == 3
        index_entries = [
            item
            for page in ddb.get_paginator("scan").paginate(
                TableName="crash-table", IndexName="by_owner"
            )
            for item in page["Items"]
        ]
        assert len(index_entries) == len(items)
        for entry in index_entries:
            assert items[(entry["pk"]["S"], entry["sk"]["S"])] == entry
    finally:
        server.stop()
