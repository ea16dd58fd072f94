"""Listing keys and versions: each page is a range scan from its marker.

Nothing scans a bucket from the start: a page begins at the packed marker, and the
scan restarts with a seek (a new iterator at ``prefix_end``) to jump
  - past a key's older versions once its current one was seen (after a few steps, so
    the common case of one version per key keeps one iterator), and
  - past every key under a common prefix once the prefix was rolled up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec

from strata.errors import ProtocolError
from strata.service.objects.records import (
    NULL_VERSION,
    ListedVersion,
    ObjectVersion,
    bucket_key,
    key_prefix,
    object_key,
    object_key_name,
    version_stamp,
)
from strata.storage import keys, records, spaces
from strata.storage.store import Store

_SAME_KEY_STEPS_MAX = 8  # older versions stepped over before seeking past them
_STAMP_AT = -8  # an OBJECTS key ends with its 8-byte inverted stamp
# Listing decodes stored ObjectVersions into the narrow ListedVersion (records.py).
_listed_decoder = msgspec.msgpack.Decoder(ListedVersion)


@dataclass(slots=True)
class ObjectsPage:
    objects: list[tuple[str, ListedVersion]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # last key or common prefix returned: the next marker


@dataclass(slots=True)
class VersionsPage:
    # (key, version, is_latest)
    versions: list[tuple[str, ListedVersion, bool]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_key: str | None = None
    next_version_id: str | None = None


def _after_prefix(bucket: str, common: str) -> bytes:
    end = keys.prefix_end(keys.open_prefix(bucket, common))
    assert end is not None
    return end


def _after_key(bucket: str, key: str) -> bytes:
    end = keys.prefix_end(key_prefix(bucket, key))
    assert end is not None
    return end


def _rollup(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def _bounds(bucket: str, prefix: str) -> tuple[bytes, bytes]:
    start = keys.open_prefix(bucket, prefix)
    end = keys.prefix_end(start)
    assert end is not None
    return start, end


def _start_after(bucket: str, prefix: str, delimiter: str, marker: str | None) -> bytes:
    start, _ = _bounds(bucket, prefix)
    if not marker:
        return start
    position = max(start, _after_key(bucket, marker))
    common = _rollup(marker, prefix, delimiter) if marker.startswith(prefix) else None
    if common is not None:
        position = max(position, _after_prefix(bucket, common))
    return position


def _scan(store: Store, start: bytes, end: bytes) -> Iterator[tuple[bytes, bytes]]:
    return store.scan(spaces.OBJECTS, start, end)


def list_objects(
    store: Store,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str = "",
    marker: str | None = None,
    max_keys: int = 1000,
) -> ObjectsPage:
    """Current versions of keys after ``marker``, with delimiter roll-ups."""
    page = ObjectsPage()
    if max_keys == 0:  # S3: an empty page that is not truncated, whatever the bucket holds
        return page
    _, end = _bounds(bucket, prefix)
    position = _start_after(bucket, prefix, delimiter, marker)
    count = 0
    skip = len(bucket_key(bucket))
    decode = _listed_decoder.decode
    objects = page.objects
    while True:
        seek: bytes | None = None
        last_prefix = b""  # packed bucket+key of the last key met: its versions follow
        steps = 0
        for raw_key, value in _scan(store, position, end):
            packed = raw_key[:_STAMP_AT]
            if packed == last_prefix:
                steps += 1
                if steps > _SAME_KEY_STEPS_MAX:
                    seek = keys.prefix_end(packed)
                    break
                continue
            last_prefix, steps = packed, 0
            name = packed[skip:-2]  # the key component, without its 0x00 0x01 end
            key = name.decode() if b"\x00" not in name else object_key_name(raw_key, skip)
            if delimiter:
                common = _rollup(key, prefix, delimiter)
                if common is not None:
                    if count >= max_keys:
                        page.truncated = True
                        return page
                    page.prefixes.append(common)
                    page.last = common
                    count += 1
                    seek = _after_prefix(bucket, common)
                    break
            assert value[0] == records.FORMAT_V1, f"unknown record format {value[0]}"
            version = decode(memoryview(value)[1:])
            if version.delete_marker:
                continue
            if count >= max_keys:
                page.truncated = True
                return page
            objects.append((key, version))
            page.last = key
            count += 1
        if seek is None:
            return page
        position = seek


async def bucket_usage(store: Store, bucket: str) -> tuple[int, int]:
    """(current objects, their bytes), counted a listing page at a time, yielding to
    requests between pages (``strata ls``; S3 itself keeps no such figure per bucket)."""
    objects = size = 0
    marker: str | None = None
    while True:
        page = list_objects(store, bucket, marker=marker, max_keys=1000)
        objects += len(page.objects)
        size += sum(version.size_bytes for _, version in page.objects)
        if not page.truncated:
            return objects, size
        marker = page.last
        await asyncio.sleep(0)


def _null_stamp(store: Store, bucket: str, key: str) -> int | None:
    prefix = key_prefix(bucket, key)
    for _, value in store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)):
        version = records.decode(value, ObjectVersion)
        if version.version_id == NULL_VERSION:
            return version.stamp
    return None


def list_versions(
    store: Store,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str = "",
    key_marker: str | None = None,
    version_id_marker: str | None = None,
    max_keys: int = 1000,
) -> VersionsPage:
    """Every version and delete marker, by key then newest first, after the markers."""
    page = VersionsPage()
    if max_keys == 0:
        return page
    start, end = _bounds(bucket, prefix)
    position = start
    resumed_key: str | None = None  # a key whose newest versions the previous page had
    if version_id_marker and not key_marker:
        raise ProtocolError(
            "InvalidArgument", "A version-id marker cannot be specified without a key marker."
        )
    if key_marker and version_id_marker:
        if version_id_marker == NULL_VERSION:
            stamp = _null_stamp(store, bucket, key_marker)
        else:
            stamp = version_stamp(version_id_marker)
            if stamp is None:
                raise ProtocolError("InvalidArgument", "Invalid version id specified")
        if stamp is None:
            position = max(start, _start_after(bucket, prefix, delimiter, key_marker))
        else:
            position = max(start, object_key(bucket, key_marker, stamp) + b"\x00")
            resumed_key = key_marker
    elif key_marker:
        position = _start_after(bucket, prefix, delimiter, key_marker)
    count = 0
    last_key: str | None = resumed_key
    skip = len(bucket_key(bucket))
    while True:
        seek: bytes | None = None
        for raw_key, value in _scan(store, position, end):
            key = object_key_name(raw_key, skip)
            common = _rollup(key, prefix, delimiter)
            if common is not None:
                if count >= max_keys:
                    page.truncated = True
                    return page
                page.prefixes.append(common)
                page.next_key, page.next_version_id = common, None
                count += 1
                seek = _after_prefix(bucket, common)
                break
            if count >= max_keys:
                page.truncated = True
                return page
            version = records.decode(value, ListedVersion)
            page.versions.append((key, version, key != last_key))
            last_key = key
            page.next_key, page.next_version_id = key, version.version_id
            count += 1
        if seek is None:
            return page
        position = seek
