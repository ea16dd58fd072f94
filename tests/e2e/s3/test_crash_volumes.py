"""kill -9 during a move between volumes and during compaction, then restart.

Every acknowledged object must read back whole (content hash checked), a move that was
acknowledged must have left the bytes in the target volume, and after the next start-up
and a compaction pass no space is left that no record references.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from strata.service.objects.records import ObjectVersion, key_prefix
from strata.storage import keys, records, spaces
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore
from strata.storage.volumes.extent import read_extent
from tests.conftest import client
from tests.e2e.s3.test_crash import check_extents
from tests.server import RunningServer, start_server

MIB = 1024 * 1024
BUCKET = "crash"

MOVER = textwrap.dedent(
    """
    import asyncio, sys
    from strata.app import build
    from strata.config import load
    strata = build(load(None, environ={"STRATA_DATA_DIR": sys.argv[1]}))
    objects = strata.app.s3.context.objects
    async def main():
        for key in sys.argv[2:]:
            await objects.move("crash", key, "null", "cold")
            print(key, flush=True)
    asyncio.run(main())
    """
)


def s3_of(server: RunningServer) -> Any:
    return client(server, "s3", s3={"addressing_style": "path"})


def metric(server: RunningServer, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics")


def fill(server: RunningServer, count: int, size: int) -> dict[str, bytes]:
    s3 = s3_of(server)
    s3.create_bucket(Bucket=BUCKET)
    bodies = {}
    for n in range(count):
        body = os.urandom(size + n)
        s3.put_object(Bucket=BUCKET, Key=f"k{n:03}", Body=body)
        bodies[f"k{n:03}"] = hashlib.sha256(body).digest()
    return bodies


def check_objects(server: RunningServer, bodies: dict[str, bytes]) -> None:
    s3 = s3_of(server)
    for key, digest in bodies.items():
        got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")["Body"].read()
        assert hashlib.sha256(got).digest() == digest, key
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert sorted(o["Key"] for o in listed) == sorted(bodies)


def volumes_of(data_dir: Path, keys_: list[str]) -> dict[str, set[str]]:
    """With the server stopped: the volumes each key's bytes are in."""
    store = LocalStore(str(data_dir / "db"), SystemClock())
    try:
        found = {}
        for key in keys_:
            prefix = key_prefix(BUCKET, key)
            [(_, raw)] = list(store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)))
            version = records.decode(raw, ObjectVersion)
            located = [read_extent(store, s.blob_id) for s in version.segments]
            found[key] = {e.volume for e in located if e is not None}
        return found
    finally:
        store.close()


def compact_fully(data_dir: Path) -> None:
    """A compaction pass, then a restart (which removes the files it emptied): every
    volume is left with nothing reclaimable."""
    eager = {
        "STRATA_COMPACTION_INTERVAL_S": "0.2",
        "STRATA_COMPACTION_GARBAGE_FRACTION_MIN": "0.01",
    }
    server = start_server(data_dir, env=eager)
    try:
        deadline = time.monotonic() + 60
        while metric(server, "strata_compaction_passes_total") < 2:
            assert time.monotonic() < deadline, "no compaction pass"
            time.sleep(0.2)
    finally:
        server.stop()
    server = start_server(data_dir)
    try:
        for volume in ("hot", "cold", "archive"):
            name = f'strata_volume_reclaimable_bytes{{volume="{volume}"}}'
            assert metric(server, name) < 64 * 1024, volume
    finally:
        server.stop()


def test_kill_during_moves(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        bodies = fill(server, 30, 2 * MIB)
    finally:
        server.stop()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env["STRATA_LOG_LEVEL"] = "warning"
    mover = subprocess.Popen(
        [sys.executable, "-c", MOVER, str(data_dir), *sorted(bodies)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert mover.stdout is not None
    moved = [mover.stdout.readline().strip() for _ in range(5)]
    mover.kill()
    mover.wait()
    mover.stdout.close()
    assert all(moved), moved
    placed = volumes_of(data_dir, sorted(bodies))
    for key in moved:
        assert placed[key] == {"cold"}, key
    check_extents(data_dir)

    server = start_server(data_dir)
    try:
        check_objects(server, bodies)
    finally:
        server.stop()
    compact_fully(data_dir)


def test_kill_during_compaction(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        bodies = fill(server, 40, 300 * 1024)
    finally:
        server.stop()  # the file is sealed: the next run writes to another one
    slow = {"STRATA_COMPACTION_INTERVAL_S": "0.2", "STRATA_COMPACTION_BYTES_PER_S": "200000"}
    server = start_server(data_dir, env=slow)
    try:
        s3 = s3_of(server)
        for key in sorted(bodies)[10:]:
            s3.delete_object(Bucket=BUCKET, Key=key)
            del bodies[key]
        deadline = time.monotonic() + 60
        while metric(server, "strata_compaction_moved_bytes_total") == 0:
            assert time.monotonic() < deadline, "compaction never started"
            time.sleep(0.05)
        server.kill()  # paced at 200 kB/s: the first of ten 300 KiB extents has moved
    finally:
        server.kill()
    check_extents(data_dir)
    server = start_server(data_dir)
    try:
        check_objects(server, bodies)
    finally:
        server.stop()
    compact_fully(data_dir)
    server = start_server(data_dir)
    try:
        check_objects(server, bodies)
    finally:
        server.stop()
