"""The change log's cost: bytes it holds per write, and the time of a point-in-time restore.

`python -m benchmarks.changelog [--items 100000]`

In-process, on the service layer (no HTTP), real RocksDB in a temporary directory: a table
with a NEW_AND_OLD_IMAGES stream and PITR on gets ``--items`` inserts, then as many
updates of the same items (so half the records carry two images). It prints the log's
exact size (its counters: keys and records, what the trim subtracts) per write, and the
database's size on disk at close. Then the table is restored to the moment between
the two passes: every item's first change after it is undone (``recovery.items_as_of``)
and the items are written to a new table through ``Changes.stage`` in chunks of 500, as
the restore job does; wall and CPU time are printed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from strata.service.tables import changelog
from strata.service.tables.catalogue import revised
from strata.service.tables.changes import Changes
from strata.service.tables.items import key_bytes
from strata.service.tables.recovery import PointInTimeRecovery
from strata.service.tables.restores import Restores
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore

CHUNK_ITEMS = 500


def _table_request(name: str, stream: bool) -> dict[str, object]:
    req: dict[str, object] = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return req


def item(n: int, version: int) -> Item:
    return {
        "pk": {"S": f"user-{n:08d}"},
        "name": {"S": f"name {n} version {version}"},
        "score": {"N": str(n * 7 + version)},
        "bio": {"S": "x" * 100},
    }


def _du(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files
    )


def write(tables: TableService, version: int, items: int, name: str = "source") -> None:
    """``items`` puts through ``Changes.stage`` in chunks (version 0: inserts; then updates)."""
    table = tables.get(name)
    for start in range(0, items, CHUNK_ITEMS):
        changes = Changes(tables)
        for n in range(start, min(items, start + CHUNK_ITEMS)):
            new = item(n, version)
            old = item(n, version - 1) if version else None
            changes.stage(table, key_bytes(table, new), old, new)
        changes.apply()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        db = os.path.join(data, "db")
        store = LocalStore(db, SystemClock())
        try:
            tables = TableService(store)
            tables.create_table(_table_request("source", stream=True))
            source = tables.get("source")
            tables.save(revised(source.record, pitr_enabled=True, pitr_since_s=time.time()))
            write(tables, 0, args.items)
            time.sleep(0.01)
            moment_ms = int(time.time() * 1000)
            time.sleep(0.01)
            write(tables, 1, args.items)
            held, count = changelog.size(store, tables.get("source").record.table_id)
            writes = 2 * args.items
            print(f"writes: {writes} ({args.items} inserts, {args.items} updates), ~180-byte items")
            print(f"change log: {count} records, {held} bytes = {held / writes:.0f} bytes/write")
            print(f"  per 100k writes: {held * 100_000 / writes / 2**20:.1f} MiB")
            print(
                f"  per million writes: {held * 1_000_000 / writes / 2**20:.0f} MiB "
                f"(extrapolated from {writes} measured)"
            )

            recovery = PointInTimeRecovery(tables, Restores(tables))
            tables.create_table(_table_request("restored", stream=False))
            target = tables.get("restored")
            source_id = tables.get("source").record.table_id
            started, cpu = time.perf_counter(), time.process_time()
            restored = 0
            changes = Changes(tables)
            for item in recovery.items_as_of("source", source_id, moment_ms):
                changes.stage(target, key_bytes(target, item), None, item)
                restored += 1
                if restored % CHUNK_ITEMS == 0:
                    changes.apply()
                    changes = Changes(tables)
            changes.apply()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"restore to the moment between: {restored} items in {wall:.2f} s "
                f"(CPU {cpu:.2f} s), {restored / wall:.0f} items/s"
            )
        finally:
            store.close()  # flushes the memtables: the files below are the whole store
        print(f"database on disk at close: {_du(db) / 2**20:.1f} MiB (both tables and the log)")


if __name__ == "__main__":
    main()
