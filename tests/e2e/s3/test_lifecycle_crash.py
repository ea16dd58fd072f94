"""kill -9 in the middle of a lifecycle pass, then restart: the pass resumes from its stored
position and completes, and nothing is done twice (each expired key of a versioned bucket
has exactly one delete marker over its one version)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from strata.remote import Credentials, Remote
from strata.storage import keys, spaces
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore
from tests.conftest import client
from tests.e2e.s3.test_lifecycle import metric
from tests.server import RunningServer, start_server

KEYS = 3000
WAIT_S = 60.0
# Small paced chunks: the pass takes long enough to be cut in the middle.
ENV = {"STRATA_LIFECYCLE_CHUNK_VERSIONS": "10", "STRATA_LIFECYCLE_INTERVAL_S": "3600"}


def _position(data_dir: Path) -> bytes | None:
    """The engine's stored position, read from the stopped server's store."""
    store = LocalStore(str(data_dir / "db"), SystemClock())
    try:
        return store.get(spaces.META, keys.pack("s3.lifecycle.position"))
    finally:
        store.close()


def _all_versions(s3: Any, bucket: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
    return versions, markers


def test_kill_during_a_pass_resumes_and_does_nothing_twice(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server: RunningServer = start_server(data_dir, env=ENV)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"}, max_pool_connections=16)
        s3.create_bucket(Bucket="crash")
        s3.put_bucket_versioning(Bucket="crash", VersioningConfiguration={"Status": "Enabled"})
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: s3.put_object(Bucket="crash", Key=f"k{n:05d}", Body=b"x"),
                          range(KEYS)))  # fmt: skip
        s3.put_bucket_lifecycle_configuration(
            Bucket="crash",
            LifecycleConfiguration={
                "Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
            },
        )
        Remote(server.endpoint, Credentials(server.access_key, server.secret_key)).clock(
            {"advance_s": 3 * 86400}
        )
        deadline = time.monotonic() + WAIT_S
        while metric(server, "strata_lifecycle_expired_total") < KEYS // 10:
            assert time.monotonic() < deadline, "the pass did not start"
            time.sleep(0.02)
        server.kill()  # mid-pass: some keys have their marker, the rest not yet
    finally:
        server.stop()
    assert _position(data_dir) is not None  # the pass was cut short, its position kept

    server = start_server(data_dir, env=ENV)
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        deadline = time.monotonic() + WAIT_S
        while metric(server, "strata_lifecycle_passes_total") < 1:
            assert time.monotonic() < deadline, "the resumed pass did not complete"
            time.sleep(0.1)
        resumed = metric(server, "strata_lifecycle_examined_versions_total")
        if metric(server, "strata_lifecycle_passes_total") == 1:
            # the resumed pass read only the keys after its position, not all of them
            assert resumed < KEYS
        versions, markers = _all_versions(s3, "crash")
        assert len(versions) == KEYS  # the data stays, noncurrent
        assert all(not v["IsLatest"] for v in versions)
        assert sorted(m["Key"] for m in markers) == [f"k{n:05d}" for n in range(KEYS)]
        assert all(m["IsLatest"] for m in markers)  # one marker per key: none added twice
    finally:
        server.stop()
    assert _position(data_dir) is None  # the pass completed
