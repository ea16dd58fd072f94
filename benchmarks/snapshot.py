"""Snapshot save and restore of a running server's whole store (issue 8: restore < 2 s).

    python -m benchmarks.snapshot --items 100000 --objects 10000
    python -m benchmarks.snapshot --items 10000 --objects 1000      # quick look

Against a fresh ``strata server`` in a temporary data directory: the table and bucket of
``benchmarks.scale`` (a GSI with projection ALL, so every item has an index entry) are
loaded with ``--items`` items and ``--objects`` objects of ``--object-size`` bytes (by
default past the 64 KiB inline threshold: each object is a blob file, hard-linked by a
snapshot). Then, ``--rounds`` times: ``POST /_strata/snapshots/bench`` (save, replacing),
a few writes, ``POST /_strata/snapshots/bench/restore`` — each timed from the client
(request sent to last byte received) — and a check that the restored store answers a
GetItem and a GetObject written before the save and no longer has the later write.
Medians are printed with every round's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.scale import (
    TABLE,
    Api,
    Server,
    create_table,
    dir_mb,
    item,
    item_key,
    load_items,
    load_objects,
    object_key,
)
from strata.remote import Credentials, Remote
from tests.server import ACCESS_KEY, SECRET_KEY, free_port


def timed_admin(remote: Remote, method: str, path: str, **options: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    if path.endswith("/restore"):
        events = list(remote.admin_events(method, path))
        elapsed = time.perf_counter() - started
        assert events[-1]["stage"] == "done", events
        return elapsed, events
    answer = remote.admin(method, path, **options)
    return time.perf_counter() - started, answer


LATER = 10**9  # the number of the item written after each save


async def check_restored(api: Api) -> None:
    client = api.client()
    try:
        got = await api.dynamodb(
            client, "GetItem", {"TableName": TABLE, "Key": item_key(0), "ConsistentRead": True}
        )
        assert got.get("Item") == item(0), "item written before the save is missing"
        later = await api.dynamodb(
            client, "GetItem", {"TableName": TABLE, "Key": item_key(LATER), "ConsistentRead": True}
        )
        assert "Item" not in later, "a write made after the save survived the restore"
        await api.s3.get(client, object_key(0))  # raises unless 200
    finally:
        client.close()


async def write_after_save(api: Api) -> None:
    client = api.client()
    try:
        await api.dynamodb(client, "PutItem", {"TableName": TABLE, "Item": item(LATER)})
    finally:
        client.close()


async def run(args: argparse.Namespace, work: Path) -> None:
    port = free_port()
    server = Server(work / "data", port, work / "server.log")
    api = Api(port, args.object_size)
    remote = Remote(f"http://127.0.0.1:{port}", Credentials(ACCESS_KEY, SECRET_KEY))
    server.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            remote.admin("GET", "summary")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
    try:
        await create_table(api)
        started = time.monotonic()
        await load_items(api, args.items, args.concurrency)
        await load_objects(api, args.objects, args.concurrency)
        load_s = time.monotonic() - started
        size_mb = dir_mb(server.data_dir)
        loaded = f"{args.items:,} items, {args.objects:,} objects"
        print(f"loaded {loaded} in {load_s:.1f} s; data directory {size_mb:,.0f} MB")
        saves: list[float] = []
        restores: list[float] = []
        for round_ in range(args.rounds):
            save_s, info = timed_admin(
                remote, "POST", "snapshots/bench", query=[("replace", "true")]
            )
            await write_after_save(api)
            restore_s, events = timed_admin(remote, "POST", "snapshots/bench/restore")
            await check_restored(api)
            saves.append(save_s)
            restores.append(restore_s)
            stages = ", ".join(f"{e['stage']} {e['elapsed_s']:.3f}" for e in events)
            print(
                f"round {round_ + 1}: save {save_s:.3f} s ({info['blobs']:,} blobs, "
                f"{(info['db_bytes'] + info['blob_bytes']) / 2**20:,.0f} MB); "
                f"restore {restore_s:.3f} s ({stages})"
            )
        print(
            f"median of {args.rounds}: save {statistics.median(saves):.3f} s, "
            f"restore {statistics.median(restores):.3f} s"
        )
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--object-size", type=int, default=80 * 1024)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="strata-snapshot-bench-"))
    try:
        asyncio.run(run(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
