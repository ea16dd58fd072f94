"""Moving a version's bytes to another volume, crash-safe: lifecycle transitions and
Intelligent-Tiering's tier changes call it through ``ObjectService.move``.

A version whose bytes need not move (inline, already in that volume, or SSE-C, which
cannot be re-sealed without the customer's key) takes its new class and fields alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from strata.service.objects import statistics
from strata.service.objects.copies import copy_bytes, shareable
from strata.service.objects.encryption import CustomerKeyed
from strata.service.objects.errors import NoSuchVersion
from strata.service.objects.receive import Received
from strata.service.objects.records import ObjectVersion, Segment, object_key
from strata.service.objects.references import ByteRefs
from strata.storage import records, spaces
from strata.storage.store import WriteBatch

if TYPE_CHECKING:
    from strata.service.objects.objects import ObjectService


async def move(
    objects: ObjectService,
    bucket: str,
    key: str,
    version_id: str,
    volume_name: str,
    storage_class: str | None = None,
    **changes: object,
) -> ObjectVersion:
    """Move a version's bytes to another volume, crash-safe (lifecycle transitions:
    ``storage_class`` is then the version's new class, set in the same batch;
    Intelligent-Tiering: ``changes``, record fields such as the access tier, land in the
    same batch too, also when the bytes are already there).

    1. Every segment's bytes are copied into new extents of ``volume_name`` through
       the receive path, checked against the ETag, and synced.
    2. With no ``await`` after: if the version still exists with the same segments,
       one batch re-points it at the new extents and drops its references to the old
       ones (freed unless a copy still shares them).
    A crash before 2 leaves the new extents as garbage; after it, the old ones."""
    if volume_name not in objects.volumes.by_name:
        raise ValueError(f"unknown volume {volume_name}")
    volume = objects.volumes[volume_name]
    _, version = objects.get(bucket, key, version_id)
    if (
        version.inline is not None
        or not version.segments
        or shareable(objects.store, version.segments, volume)  # already there
    ):
        return await _set_class(objects, bucket, key, version, storage_class, changes)
    try:
        data_key = objects.encryptions.stored_data_key(bucket, version.encryption)
    except CustomerKeyed:
        # SSE-C: re-sealing needs the customer's key, which the server never kept; the
        # bytes stay where they are (ciphertext would not compress anyway).
        return await _set_class(objects, bucket, key, version, storage_class, changes)
    readers = objects.segment_readers(version.segments, data_key)
    for reader in readers:
        reader.check()
    received = await copy_bytes(readers, volume, [], objects.blobs.disk, version, data_key)
    # From here to the commit: no await.
    raw_key = object_key(bucket, key, version.stamp)
    raw = objects.store.get(spaces.OBJECTS, raw_key)
    now = records.decode(raw, ObjectVersion) if raw is not None else None
    if now is None or now.segments != version.segments:
        raise NoSuchVersion(key, version_id)  # removed or rewritten meanwhile
    moved = msgspec.structs.replace(
        now,
        segments=joined_segments(received, version),
        storage_class=storage_class or now.storage_class,
        **changes,
    )
    batch, refs = WriteBatch(), ByteRefs()
    batch.put(spaces.OBJECTS, raw_key, records.encode(moved))
    if moved.storage_class != now.storage_class:
        moved_at = objects.store.clock.now_s()
        statistics.stage_removed(batch, raw_key, now, moved_at)
        statistics.stage_added(batch, bucket, moved, moved_at)
    refs.remove(batch, version.segments, raw_key)
    refs.add(batch, moved.segments, raw_key)
    await objects.commit_bytes(batch, refs, received.created)
    objects.moves_total += 1
    objects.moved_bytes_total += version.size_bytes
    return moved


async def _set_class(
    objects: ObjectService,
    bucket: str,
    key: str,
    version: ObjectVersion,
    storage_class: str | None,
    changes: dict[str, object],
) -> ObjectVersion:
    """A version whose bytes need not move takes its new class (and ``changes``) alone
    (no await since it was read)."""
    if storage_class == version.storage_class:
        storage_class = None
    if storage_class is None and not changes:
        return version
    raw_key = object_key(bucket, key, version.stamp)
    moved = msgspec.structs.replace(
        version, storage_class=storage_class or version.storage_class, **changes
    )
    batch = WriteBatch()
    batch.put(spaces.OBJECTS, raw_key, records.encode(moved))
    if storage_class is not None:
        moved_at = objects.store.clock.now_s()
        statistics.stage_removed(batch, raw_key, version, moved_at)
        statistics.stage_added(batch, bucket, moved, moved_at)
    await objects.store.commit(batch)
    return moved


def joined_segments(received: Received, version: ObjectVersion) -> list[Segment]:
    """The moved version's segments: its bytes now one extent, cut where its segments
    were, so a multipart object keeps one segment per part (``partNumber`` GETs)."""
    [(extent_id, _)] = received.created
    segments, position = [], 0
    for old in version.segments:
        segments.append(Segment(extent_id, position, old.length, extent=True))
        position += old.length
    return segments
