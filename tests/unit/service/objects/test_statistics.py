"""Bucket statistics: kept with each write, and counted once for an older store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from strata.service.objects import statistics
from strata.service.objects.records import ObjectVersion, object_key
from strata.storage import records, spaces
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore, WriteBatch


def _version(stamp: int, size: int, cls: str = "STANDARD", marker: bool = False) -> ObjectVersion:
    return ObjectVersion(
        version_id=f"v{stamp}",
        stamp=stamp,
        last_modified_ms=0,
        size_bytes=size,
        storage_class=cls,
        delete_marker=marker,
    )


def test_a_store_written_before_statistics_is_counted_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    batch = WriteBatch()  # records as an older Strata wrote them: no counters
    for stamp, (bucket, size, cls, marker) in enumerate(
        [
            ("a", 10, "STANDARD", False),
            ("a", 5, "GLACIER", False),
            ("a", 0, "STANDARD", True),
            ("b", 7, "STANDARD", False),
        ]
    ):
        version = _version(stamp + 1, size, cls, marker)
        batch.put(
            spaces.OBJECTS, object_key(bucket, f"k{stamp}", stamp + 1), records.encode(version)
        )
    store.commit_blocking(batch)
    with caplog.at_level(logging.INFO, logger="strata.objects"):
        statistics.ensure(store)
    assert "counted bucket statistics: 4 object versions in 2 buckets" in caplog.text
    stats = statistics.read_all(store)
    assert stats["a"].classes == {"STANDARD": (1, 10), "GLACIER": (1, 5)}
    assert stats["a"].delete_markers == 1
    assert stats["b"].size_bytes == 7
    # Counted once: a second start leaves the (since updated) figures alone.
    update = WriteBatch()
    statistics.stage_added(update, "b", _version(9, 3), 1_765_000_000.0)
    store.commit_blocking(update)
    statistics.ensure(store)
    assert statistics.read_all(store)["b"].classes == {"STANDARD": (2, 10)}
    store.close()
