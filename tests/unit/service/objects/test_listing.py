"""Listing over a real store: markers, roll-ups, and that roll-ups seek instead of iterating."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from strata.service.objects import listing
from strata.service.objects.records import ObjectVersion, new_version_id, object_key
from strata.storage import records, spaces
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore, WriteBatch


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore(str(tmp_path / "db"), ManualClock())
    yield store
    store.close()


def put(store: LocalStore, key: str, *, marker: bool = False, bucket: str = "b") -> str:
    stamp = store.hlc.now()
    version = ObjectVersion(
        version_id=new_version_id(stamp, "0" * 16),
        stamp=stamp,
        last_modified_ms=0,
        delete_marker=marker,
    )
    batch = WriteBatch()
    batch.put(spaces.OBJECTS, object_key(bucket, key, stamp), records.encode(version))
    asyncio.run(store.commit(batch))
    return version.version_id


def keys_of(page: listing.ObjectsPage) -> list[str]:
    return [k for k, _ in page.objects]


def test_current_versions_only(store: LocalStore) -> None:
    for _ in range(20):
        put(store, "a")
    put(store, "b")
    put(store, "c")
    put(store, "c", marker=True)
    put(store, "a", bucket="other")
    page = listing.list_objects(store, "b")
    assert keys_of(page) == ["a", "b"]
    assert not page.truncated


def test_prefix_delimiter_and_marker(store: LocalStore) -> None:
    for key in ["x/1", "x/2", "x/y/3", "y", "z/1", "x", "x0"]:
        put(store, key)
    page = listing.list_objects(store, "b", delimiter="/")
    assert keys_of(page) == ["x", "x0", "y"]
    assert page.prefixes == ["x/", "z/"]
    page = listing.list_objects(store, "b", prefix="x/", delimiter="/")
    assert keys_of(page) == ["x/1", "x/2"]
    assert page.prefixes == ["x/y/"]
    page = listing.list_objects(store, "b", delimiter="/", max_keys=2)
    assert keys_of(page) == ["x"]
    assert page.prefixes == ["x/"]
    assert page.truncated
    assert page.last == "x/"
    page = listing.list_objects(store, "b", delimiter="/", marker="x/")
    assert keys_of(page) == ["x0", "y"]
    assert page.prefixes == ["z/"]


def test_rollup_seeks_past_prefix(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(200):
        put(store, f"big/{i:04d}")
    put(store, "small")
    seen = 0
    real_scan = store.scan

    def counting_scan(*args: object, **kwargs: object) -> Iterator[tuple[bytes, bytes]]:
        nonlocal seen
        for item in real_scan(*args, **kwargs):  # type: ignore[arg-type]
            seen += 1
            yield item

    monkeypatch.setattr(store, "scan", counting_scan)
    page = listing.list_objects(store, "b", delimiter="/")
    assert page.prefixes == ["big/"]
    assert keys_of(page) == ["small"]
    assert seen <= 3


def test_versions_paging(store: LocalStore) -> None:
    ids = [put(store, "k") for _ in range(3)]
    put(store, "l")
    page = listing.list_versions(store, "b", max_keys=2)
    assert [(k, v.version_id, latest) for k, v, latest in page.versions] == [
        ("k", ids[2], True),
        ("k", ids[1], False),
    ]
    assert page.truncated
    assert page.next_key == "k"
    assert page.next_version_id == ids[1]
    page = listing.list_versions(store, "b", key_marker="k", version_id_marker=ids[1])
    assert [(k, latest) for k, _, latest in page.versions] == [("k", False), ("l", True)]
