"""CopyObject's new version: the source's bytes shared when the target's volume and
encryption allow it (SSE-S3 to SSE-S3 keeps the source's envelope), else copied and
sealed anew through ``copies.py``; the write's checks run again with no ``await`` before
the commit, as ``ObjectService.put``'s do.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import TYPE_CHECKING

import msgspec

from strata.service.objects import locks
from strata.service.objects.copies import copy_bytes, shareable
from strata.service.objects.encryption import (
    NO_REQUEST,
    SSE_S3,
    CustomerKey,
    EncryptionRequest,
    Encryptions,
    Sealing,
    sealed_etag,
)
from strata.service.objects.errors import NoSuchKey
from strata.service.objects.receive import receive
from strata.service.objects.records import BucketRecord, ObjectVersion, Segment
from strata.service.objects.references import ByteRefs
from strata.storage.store import WriteBatch
from strata.storage.volumes.cipher import inline_cipher, unseal
from strata.storage.volumes.extent import Extent, read_extent

if TYPE_CHECKING:
    from strata.service.objects.objects import NewObject, ObjectService, WriteCondition


async def copy(
    objects: ObjectService,
    source: ObjectVersion,
    bucket: str,
    key: str,
    *,
    new: NewObject,
    condition: WriteCondition | None = None,
    encryption: EncryptionRequest = NO_REQUEST,
    source_customer: CustomerKey | None = None,
    source_bucket: str = "",
) -> tuple[BucketRecord, ObjectVersion]:
    """Write a new version of ``bucket/key`` with the bytes of ``source``: its extents
    shared when they are in the target class's volume and the target keeps the
    source's encryption (SSE-S3 to SSE-S3: the source's envelope), else copied and
    sealed anew (``copies.py``)."""
    source_key = objects.encryptions.data_key(source_bucket, source.encryption, source_customer)
    target = objects.buckets.get(bucket)
    sealing: Sealing | None = None  # None: the copy keeps the source's envelope
    if not _keeps_envelope(source, target, encryption, objects.encryptions):
        sealing = objects.encryptions.seal(target, encryption)
    if target.object_lock or new.lock is not None:
        locks.check_write(target, new.lock)
    started = objects.store.hlc.now() if condition is not None else None
    live = objects.check_write(bucket, key, condition)
    segments, created, inline, md5 = await _copy_segments(
        objects, source, new.storage_class, source_key, sealing
    )
    # From here to the commit: no await.
    bucket_record = objects.buckets.get(bucket)
    objects.check_write(bucket, key, condition, live_before=live, started=started)
    if source.segments and not _still_referenced(objects, source.segments, created):
        raise NoSuchKey(key)  # the source went while its bytes were being copied
    stamp = objects.store.hlc.now()
    now_ms = int(objects.store.clock.now_s() * 1000)
    # The source's lock stays with the source: the copy gets what it asked, or the
    # target bucket's default.
    lock = locks.version_lock(bucket_record, new.lock, now_ms)
    recoded = _recoded(source, sealing, md5)
    version = msgspec.structs.replace(
        recoded,
        version_id=objects.new_version(bucket_record, stamp),
        stamp=stamp,
        last_modified_ms=now_ms,
        headers=new.headers,
        user_metadata=new.user_metadata,
        tags=new.tags,
        storage_class=new.storage_class,
        acl=new.acl,
        segments=segments,
        inline=inline,
        restore_expiry_ms=None,
        upload_id="",
        lock_mode=lock.mode,
        lock_until_ms=lock.until_ms,
        legal_hold=lock.legal_hold,
        restore_ready_ms=None,
        restore_days=0,
        restored_segments=[],
        restore_job_tier="",
        access_tier="",
        last_access_ms=0,
    )
    batch, refs = WriteBatch(), ByteRefs()
    objects.stage_version(batch, refs, bucket_record, key, version)
    await objects.commit_bytes(batch, refs, created)
    return bucket_record, version


async def _copy_segments(
    objects: ObjectService,
    source: ObjectVersion,
    storage_class: str,
    source_key: bytes | None,
    sealing: Sealing | None,
) -> tuple[list[Segment], list[tuple[str, Extent]], bytes | None, bytes | None]:
    """The segments of a whole-object copy, the extents it had to write, its inline
    bytes, and the MD5 of its bytes when they were re-received (else None)."""
    if source.inline is not None or not source.segments:
        if sealing is None or source.inline is None:
            return [], [], source.inline, None
        plain = source.inline
        if source_key is not None:
            plain = unseal(inline_cipher(source_key), plain, "inline copy source")
        received = await receive(
            _once(plain), objects.volume_for(storage_class), algorithms=[],
            size_hint=len(plain), size_max=len(plain), checks=None,
            data_key=sealing.data_key,
        )  # fmt: skip
        return [], [], received.inline, received.md5
    volume = objects.volume_for(storage_class)
    if sealing is None and shareable(objects.store, source.segments, volume):
        return list(source.segments), [], None, None
    readers = objects.segment_readers(source.segments, source_key)
    for reader in readers:
        reader.check()
    data_key = sealing.data_key if sealing is not None else source_key
    received = await copy_bytes(readers, volume, [], objects.blobs.disk, source, data_key)
    return received.segments, received.created, None, received.md5


def _still_referenced(
    objects: ObjectService, segments: list[Segment], created: list[tuple[str, Extent]]
) -> bool:
    """Shared extents must still exist when the copy's batch lands (no await since)."""
    if created:
        return True
    return all(not s.extent or read_extent(objects.store, s.blob_id) is not None for s in segments)


def _keeps_envelope(
    source: ObjectVersion,
    target: BucketRecord,
    request: EncryptionRequest,
    encryptions: Encryptions,
) -> bool:
    """Whether a copy would be sealed as its source is (SSE-S3 under the same master
    key), so it can share the source's bytes and envelope."""
    envelope = source.encryption
    if envelope is None or envelope.customer or envelope.algorithm != SSE_S3:
        return False
    if request.customer is not None or request.kms_key_id is not None:
        return False
    default = target.encryption.algorithm if target.encryption is not None else SSE_S3
    if (request.algorithm or default) != SSE_S3:
        return False
    return encryptions.master_key_id == envelope.key_id


def _recoded(source: ObjectVersion, sealing: Sealing | None, md5: bytes | None) -> ObjectVersion:
    """The source's record with the copy's encryption: its own envelope and an ETag to
    match when it was sealed anew (an SSE-C side's ETag is not an MD5)."""
    if sealing is None:
        return source
    customer_side = (sealing.envelope is not None and sealing.envelope.customer) or (
        source.encryption is not None and source.encryption.customer
    )
    if not customer_side or md5 is None:
        return msgspec.structs.replace(source, encryption=sealing.envelope)
    # The parts' own MD5s are not known here: the copy is one part, its ETag a whole MD5.
    composite = source.checksum_type == "COMPOSITE"
    return msgspec.structs.replace(
        source,
        encryption=sealing.envelope,
        etag=sealed_etag(sealing, md5),
        part_sizes=[],
        part_checksums=[],
        checksum_algorithm="" if composite else source.checksum_algorithm,
        checksum=b"" if composite else source.checksum,
        checksum_type="FULL_OBJECT",
    )


async def _once(data: bytes) -> AsyncIterable[bytes]:
    yield data
