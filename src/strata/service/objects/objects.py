"""Objects: write, read, delete, copy, move and tag versions of keys.

Durable order of a write (PUT, copy, move):
  1. The payload goes through the one receive path (``receive.py``): streamed into an
     extent of the volume its storage class maps to (or, if small, kept inline), hashed
     off the loop, verified, made durable by a grouped sync. A copy shares the source's
     extents instead when it can (``copies.py``).
  2. With no ``await`` between them: the bucket and the write conditions are checked
     again, and one batch holds the new version, its references (extent reference keys
     and the location of new extents, ``BLOB_REFS`` for blob files) and the removal of
     the version it replaces (and of its references). ``commit_bytes`` applies it at once
     and acknowledges after the WAL fsync.
  3. Extents nothing references any more are garbage in their file until compaction;
     blob files of removed versions are unlinked after a grace period, so a GET that
     already resolved them can still open them.

Every new version's bytes are sealed with a data key of its own (``encryption.py``):
``put`` asks ``Encryptions.seal`` for it before receiving, the record keeps the envelope,
and every read (``locate``, ``reader``) opens the data key from it first.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field

import msgspec

from strata import limits
from strata.errors import ProtocolError
from strata.service.objects import locks, moves, object_copy, statistics
from strata.service.objects.buckets import BucketService
from strata.service.objects.encryption import (
    NO_REQUEST,
    CustomerKey,
    EncryptionRequest,
    Encryptions,
    sealed_etag,
)
from strata.service.objects.errors import (
    ConditionalRequestConflict,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
)
from strata.service.objects.integrity import PayloadChecks
from strata.service.objects.locator import Locator
from strata.service.objects.receive import Received, Verifier, receive
from strata.service.objects.records import (
    ARCHIVE_CLASSES,
    ARCHIVE_TIERS,
    NULL_VERSION,
    BucketRecord,
    Grant,
    ObjectVersion,
    Segment,
    key_prefix,
    new_version_id,
    object_key,
    version_stamp,
)
from strata.service.objects.references import ByteRefs
from strata.storage import keys, records, spaces
from strata.storage.blobs import BlobStore
from strata.storage.store import Store, WriteBatch
from strata.storage.volumes.cipher import inline_cipher, unseal
from strata.storage.volumes.extent import Extent
from strata.storage.volumes.reader import BlobReader
from strata.storage.volumes.volume import Volume, Volumes

BLOB_GRACE_S = 300.0  # how long a replaced blob stays readable for GETs in flight


@dataclass(frozen=True, slots=True)
class WriteCondition:
    """If-None-Match: * / If-Match on a write."""

    if_none_match: str | None = None
    if_match: str | None = None


@dataclass(slots=True)
class NewObject:
    """What a write sets besides the bytes."""

    headers: dict[str, str] = field(default_factory=dict)
    user_metadata: dict[str, str] = field(default_factory=dict)
    tags: list[tuple[str, str]] = field(default_factory=list)
    storage_class: str = "STANDARD"
    acl: list[Grant] = field(default_factory=list)  # grants beyond the owner's
    lock: locks.Lock | None = None  # the x-amz-object-lock-* headers, if any were sent


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    version_id: str | None  # version removed or marker created (None: unversioned)
    delete_marker: bool


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Where some bytes of an object are: inline bytes, or a reader of stored pieces."""

    inline: bytes | None
    reader: BlobReader | None


class ObjectService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        buckets: BucketService,
        volumes: Volumes,
        encryptions: Encryptions,
    ) -> None:
        self.store = store
        self.encryptions = encryptions
        self.blobs = blobs
        self.buckets = buckets
        self.volumes = volumes
        self.locator = Locator(store, blobs, volumes, encryptions.segment_key)
        self.moves_total = 0  # versions moved between volumes (metrics)
        self.moved_bytes_total = 0

    # ---- reading versions -------------------------------------------------------------

    def versions(self, bucket: str, key: str) -> Iterable[tuple[bytes, ObjectVersion]]:
        """Every version of ``key``, newest first."""
        prefix = key_prefix(bucket, key)
        for raw_key, value in self.store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)):
            yield raw_key, records.decode(value, ObjectVersion)

    def current(self, bucket: str, key: str) -> ObjectVersion | None:
        """The newest version of ``key`` (possibly a delete marker), or None."""
        prefix = key_prefix(bucket, key)
        for _, value in self.store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)):
            return records.decode(value, ObjectVersion)
        return None

    def find_version(self, bucket: str, key: str, version_id: str) -> ObjectVersion | None:
        if version_id == NULL_VERSION:
            for _, version in self.versions(bucket, key):
                if version.version_id == NULL_VERSION:
                    return version
            return None
        stamp = version_stamp(version_id)
        if stamp is None:
            raise ProtocolError(
                "InvalidArgument",
                "Invalid version id specified",
                ArgumentName="versionId",
                ArgumentValue=version_id,
            )
        raw = self.store.get(spaces.OBJECTS, object_key(bucket, key, stamp))
        if raw is None:
            return None
        version = records.decode(raw, ObjectVersion)
        return version if version.version_id == version_id else None

    def get(
        self, bucket: str, key: str, version_id: str | None = None, method: str = "GET"
    ) -> tuple[BucketRecord, ObjectVersion]:
        """The version a GET/HEAD reads; raises NoSuchBucket/NoSuchKey/NoSuchVersion/405."""
        bucket_record = self.buckets.get(bucket)
        if version_id is None:
            version = self.current(bucket, key)
            if version is None:
                raise NoSuchKey(key)
            if version.delete_marker:
                raise NoSuchKey(key, delete_marker_version=version.version_id)
            return bucket_record, version
        found = self.find_version(bucket, key, version_id)
        if found is None:
            raise NoSuchVersion(key, version_id)
        if found.delete_marker:
            raise MethodNotAllowed(method, found.version_id)
        return bucket_record, found

    def locate(
        self,
        version: ObjectVersion,
        start: int,
        length: int,
        customer: CustomerKey | None = None,
        bucket: str = "",
        name: str = "",
    ) -> ByteRange:
        """Bytes [start, start+length) of a version, decrypted as they are read (SSE-C:
        with the customer's key); DataCorruption if a file they need is missing or
        shorter than the record says (``name``: whose bytes, in that report)."""
        data_key = self.encryptions.data_key(bucket, version.encryption, customer)
        if version.inline is not None:
            inline = version.inline
            if data_key is not None:
                inline = unseal(inline_cipher(data_key), inline, f"{bucket} inline object")
            return ByteRange(inline[start : start + length], None)
        reader = self.locator.reader(version.segments, start, length, data_key, name)
        reader.check()
        return ByteRange(None, reader)

    def reader(
        self,
        segments: Iterable[Segment],
        start: int,
        length: int,
        data_key: bytes | None = None,
    ) -> BlobReader:
        """The one read path: bytes [start, start+length) of the object ``segments`` make
        (decrypted with ``data_key``, the version's, when it is sealed)."""
        return self.locator.reader(segments, start, length, data_key)

    def segment_readers(
        self, segments: Iterable[Segment], data_key: bytes | None = None
    ) -> list[BlobReader]:
        return self.locator.segment_readers(segments, data_key)

    # ---- writing ------------------------------------------------------------------------

    def check_write(
        self,
        bucket: str,
        key: str,
        condition: WriteCondition | None,
        *,
        live_before: bool = False,
        started: int | None = None,
    ) -> bool:
        """Check a conditional write's headers; whether the key has a live version.

        S3 answers 409 ConditionalRequestConflict when a delete lands while a conditional
        write is under way: ``live_before`` says an earlier check of this write saw the
        object, ``started`` (an HLC stamp) when the write began; a delete marker newer
        than that is such a delete, in a versioned bucket.
        """
        if condition is None:
            return False
        current = self.current(bucket, key)
        live = current is not None and not current.delete_marker
        header = "If-None-Match" if condition.if_none_match is not None else "If-Match"
        deleted_since = started is not None and current is not None and current.stamp > started
        if deleted_since and current is not None and current.delete_marker:
            raise ConditionalRequestConflict(header, key)
        if condition.if_none_match is not None and live:
            raise PreconditionFailed("If-None-Match")
        if condition.if_match is not None:
            if not live:
                if live_before:
                    raise ConditionalRequestConflict(header, key)
                raise NoSuchKey(key)
            assert current is not None
            from strata.service.objects.conditions import etag_matches

            if not etag_matches(condition.if_match, current.etag):
                raise PreconditionFailed("If-Match")
        return live

    def new_version(self, bucket_record: BucketRecord, stamp: int) -> str:
        if bucket_record.versioning == "Enabled":
            return new_version_id(stamp, secrets.token_hex(8))
        return NULL_VERSION

    def volume_for(self, storage_class: str) -> Volume:
        return self.volumes.for_class(storage_class)

    def stage_version(
        self,
        batch: WriteBatch,
        refs: ByteRefs,
        bucket_record: BucketRecord,
        key: str,
        version: ObjectVersion,
    ) -> None:
        """Add ``version`` to ``batch`` with its references, removing the version it
        replaces: unversioned and suspended buckets keep one ``null`` version per key.
        Call with no ``await`` between this and ``commit_bytes``."""
        bucket = bucket_record.name
        if version.version_id == NULL_VERSION:
            existing: Iterable[tuple[bytes, ObjectVersion]] = self.versions(bucket, key)
            if not bucket_record.versioning:
                # Never versioned: a key has at most one version, the first one. Stopping
                # there matters: overwrites leave tombstones behind it, and walking them
                # costs far more than the write itself.
                existing = itertools.islice(existing, 1)
            for raw_key, old in existing:
                if old.version_id == NULL_VERSION:
                    self._stage_removal(batch, refs, raw_key, old)
        raw_key = object_key(bucket, key, version.stamp)
        batch.put(spaces.OBJECTS, raw_key, records.encode(version))
        statistics.stage_added(batch, bucket, version, self.store.clock.now_s())
        refs.add(batch, version.segments, raw_key)

    def _stage_removal(
        self,
        batch: WriteBatch,
        refs: ByteRefs,
        raw_key: bytes,
        version: ObjectVersion,
        *,
        bypass: bool = False,
    ) -> None:
        """Every removal of a version passes here: a locked one raises ``ObjectLocked``
        before anything is staged (the batch is applied in this same step)."""
        if version.lock_mode or version.legal_hold:
            locks.check_removal(version, int(self.store.clock.now_s() * 1000), bypass)
        batch.delete(spaces.OBJECTS, raw_key)
        statistics.stage_removed(batch, raw_key, version, self.store.clock.now_s())
        refs.remove(batch, version.segments, raw_key)
        refs.remove(batch, version.restored_segments, raw_key)  # a restore's copy goes too

    async def commit_bytes(
        self,
        batch: WriteBatch,
        refs: ByteRefs,
        created: Iterable[tuple[str, Extent]] = (),
    ) -> None:
        """Stage ``refs`` (and the locations of ``created`` extents) into ``batch``, apply
        it and acknowledge once durable. Call with no ``await`` since the checks.

        ``apply`` raising (a full disk) means nothing landed: the new extents' ranges are
        punched out. Once applied, the live-byte accounting follows the batch."""
        created = list(created)
        for extent_id, extent in created:
            refs.extents.created(extent_id, extent)
        freed = refs.extents.stage(self.store, batch)
        try:
            sequence = self.store.apply(batch)
        except BaseException:
            for _, extent in created:  # nothing landed: their space goes back at once
                self.volumes.give_back(extent)
            raise
        for _, extent in created:
            self._volume_of(extent).added(extent)
        for _, extent in freed:
            self._volume_of(extent).freed(extent)
        await self.store.durable(sequence)
        self.release_blobs(refs.freed_blobs())

    def _volume_of(self, extent: Extent) -> Volume:
        return self.volumes[extent.volume]

    def release_blobs(self, blob_ids: list[str]) -> None:
        """Unlink blobs whose references were committed away, after the grace period."""
        if not blob_ids:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.blobs.delete(blob_ids)
            return
        loop.call_later(BLOB_GRACE_S, self.blobs.delete, list(blob_ids), self.blobs.generation)

    async def receive(
        self,
        body: AsyncIterable[bytes],
        storage_class: str,
        *,
        algorithms: list[str],
        size_hint: int | None,
        size_max: int,
        checks: Verifier | None,
        inline_allowed: bool = True,
        data_key: bytes | None = None,
    ) -> Received:
        """The one receive path (``receive.py``) into the volume of ``storage_class``."""
        return await receive(
            body,
            self.volume_for(storage_class),
            algorithms=algorithms,
            size_hint=size_hint,
            size_max=size_max,
            checks=checks,
            inline_allowed=inline_allowed,
            disk=self.blobs.disk,
            data_key=data_key,
        )

    async def put(
        self,
        bucket: str,
        key: str,
        body: AsyncIterable[bytes],
        *,
        declared_size: int | None,
        new: NewObject,
        checks: PayloadChecks,
        condition: WriteCondition | None = None,
        encryption: EncryptionRequest = NO_REQUEST,
    ) -> tuple[BucketRecord, ObjectVersion]:
        bucket_before = self.buckets.get(bucket)
        if bucket_before.object_lock or new.lock is not None:
            locks.check_write(bucket_before, new.lock)
            no_digest = checks.content_md5 is None and not checks.algorithm_given
            if no_digest and locks.needs_digest(bucket_before, new.lock):
                raise locks.md5_required()
        sealing = self.encryptions.seal(bucket_before, encryption)
        started = self.store.hlc.now() if condition is not None else None
        live = self.check_write(bucket, key, condition)  # fail fast; again before commit
        received = await self.receive(
            body,
            new.storage_class,
            algorithms=[checks.algorithm],
            size_hint=declared_size,
            size_max=limits.object_bytes_max,
            checks=checks,
            data_key=sealing.data_key,
        )
        # From here to the commit: no await, so the checks below hold when the batch lands.
        bucket_record = self.buckets.get(bucket)
        self.check_write(bucket, key, condition, live_before=live, started=started)
        stamp = self.store.hlc.now()
        now_ms = int(self.store.clock.now_s() * 1000)
        lock = locks.NO_LOCK
        if bucket_record.object_lock:
            lock = locks.version_lock(bucket_record, new.lock, now_ms)
        version = ObjectVersion(
            version_id=self.new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=now_ms,
            size_bytes=received.size_bytes,
            etag=sealed_etag(sealing, received.md5),
            headers=new.headers,
            user_metadata=new.user_metadata,
            tags=new.tags,
            storage_class=new.storage_class,
            acl=new.acl,
            inline=received.inline,
            segments=received.segments,
            checksum_algorithm=checks.algorithm,
            checksum=received.checksums[checks.algorithm],
            lock_mode=lock.mode,
            lock_until_ms=lock.until_ms,
            legal_hold=lock.legal_hold,
            restore_ready_ms=None,
            restore_days=0,
            restored_segments=[],
            restore_job_tier="",
            access_tier="",
            last_access_ms=0,
            encryption=sealing.envelope,
        )
        batch, refs = WriteBatch(), ByteRefs()
        self.stage_version(batch, refs, bucket_record, key, version)
        await self.commit_bytes(batch, refs, received.created)
        return bucket_record, version

    # ---- deleting -----------------------------------------------------------------------

    async def delete(
        self, bucket: str, key: str, version_id: str | None = None, *, bypass: bool = False
    ) -> tuple[BucketRecord, DeleteOutcome]:
        """Remove a version (``version_id``), or add a delete marker. ``bypass``: the caller
        may bypass GOVERNANCE retention (``locks.check_removal``, in ``_stage_removal``)."""
        bucket_record = self.buckets.get(bucket)
        batch, refs = WriteBatch(), ByteRefs()
        if version_id is not None:
            found: tuple[bytes, ObjectVersion] | None = None
            if version_id == NULL_VERSION:
                for raw_key, old in self.versions(bucket, key):
                    if old.version_id == NULL_VERSION:
                        found = (raw_key, old)
                        break
            else:
                old_version = self.find_version(bucket, key, version_id)
                if old_version is not None:
                    found = (object_key(bucket, key, old_version.stamp), old_version)
            if found is None:
                return bucket_record, DeleteOutcome(version_id, False)
            self._stage_removal(batch, refs, *found, bypass=bypass)
            await self.commit_bytes(batch, refs)
            return bucket_record, DeleteOutcome(version_id, found[1].delete_marker)
        if not bucket_record.versioning:
            current = self.current(bucket, key)
            if current is None:
                return bucket_record, DeleteOutcome(None, False)
            self._stage_removal(batch, refs, object_key(bucket, key, current.stamp), current)
            await self.commit_bytes(batch, refs)
            return bucket_record, DeleteOutcome(None, False)
        stamp = self.store.hlc.now()
        marker = ObjectVersion(
            version_id=self.new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            delete_marker=True,
        )
        self.stage_version(batch, refs, bucket_record, key, marker)
        await self.commit_bytes(batch, refs)
        return bucket_record, DeleteOutcome(marker.version_id, True)

    # ---- copying and moving (object_copy.py, moves.py) -------------------------------------

    # The functions take the service as their first argument: they are its methods.
    copy = object_copy.copy  # CopyObject's new version
    move = moves.move  # a version's bytes to another volume, crash-safe

    # ---- tagging and ACLs -----------------------------------------------------------------

    async def put_tags(
        self, bucket: str, key: str, version_id: str | None, tags: list[tuple[str, str]]
    ) -> ObjectVersion:
        _, version = self.get(bucket, key, version_id, "PUT")
        updated = msgspec.structs.replace(version, tags=tags)
        batch = WriteBatch()
        batch.put(spaces.OBJECTS, object_key(bucket, key, version.stamp), records.encode(updated))
        await self.store.commit(batch)
        return updated

    def readable(self, version: ObjectVersion) -> bool:
        """Whether a version's bytes can be read: not archived (a storage class, or an
        Intelligent-Tiering archive tier), or restored and unexpired."""
        if version.storage_class not in ARCHIVE_CLASSES:
            return version.access_tier not in ARCHIVE_TIERS or (
                version.storage_class != "INTELLIGENT_TIERING"
            )
        expiry_ms = version.restore_expiry_ms
        return expiry_ms is not None and expiry_ms > self.store.clock.now_s() * 1000

    async def put_acl(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        grants: list[Grant],
        batch: WriteBatch | None = None,
    ) -> ObjectVersion:
        """Replace a version's ACL (``batch`` may carry more changes to commit with it)."""
        _, version = self.get(bucket, key, version_id, "PUT")
        updated = msgspec.structs.replace(version, acl=grants)
        batch = batch if batch is not None else WriteBatch()
        batch.put(spaces.OBJECTS, object_key(bucket, key, version.stamp), records.encode(updated))
        await self.store.commit(batch)
        return updated
