"""Objects: write, read, delete, copy and tag versions of keys.

Durable order of a write (PUT, copy):
  1. The payload streams into a blob (or, if small, a buffer kept inline); digests are
     verified once the last byte is in. The blob is fsynced and renamed (``finish``).
  2. With no ``await`` between them: the bucket and the write conditions are checked
     again, and one batch holds the new version, its ``BLOB_REFS`` entries and the
     removal of the version it replaces (and that version's refs). ``commit`` applies
     it at once and acknowledges after the WAL fsync.
  3. Blobs of removed versions are unlinked after a grace period, so a GET that already
     resolved them can still open them; a crash before that leaves an unreferenced blob
     that start-up garbage collection removes.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import secrets
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field

import msgspec

from strata import limits
from strata.errors import BodyTooLarge, DataCorruption, ProtocolError
from strata.service.objects import statistics
from strata.service.objects.buckets import BucketService
from strata.service.objects.errors import (
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
)
from strata.service.objects.integrity import PayloadChecks
from strata.service.objects.records import (
    ARCHIVE_CLASSES,
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
from strata.storage import keys, records, spaces
from strata.storage.blobs import BlobStore, BlobWriter
from strata.storage.checksums import Hasher, etag, new_hasher
from strata.storage.store import Store, WriteBatch

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


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    version_id: str | None  # version removed or marker created (None: unversioned)
    delete_marker: bool


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Where some bytes of an object are: inline bytes, or file ranges."""

    inline: bytes | None
    files: list[tuple[str, int, int]]  # (path, offset, length)


class _InlineSink:
    """A small payload kept in memory (bounded by ``limits.inline_object_bytes_max``)."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self.data = bytearray()
        self._md5 = hashlib.md5()
        self._hashers: dict[str, Hasher] = {a: new_hasher(a) for a in algorithms}

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    def write(self, chunk: bytes | memoryview) -> None:
        self.data += chunk
        self._md5.update(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def digests(self) -> tuple[bytes, dict[str, bytes]]:
        return self._md5.digest(), {n: h.digest() for n, h in self._hashers.items()}


class ObjectService:
    def __init__(self, store: Store, blobs: BlobStore, buckets: BucketService) -> None:
        self.store = store
        self.blobs = blobs
        self.buckets = buckets

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

    def locate(self, version: ObjectVersion, start: int, length: int) -> ByteRange:
        """Where bytes [start, start+length) of a version are; DataCorruption if a blob
        they need is missing or shorter than the record says."""
        if version.inline is not None:
            return ByteRange(version.inline[start : start + length], [])
        files: list[tuple[str, int, int]] = []
        position = 0
        end = start + length
        for segment in version.segments:
            seg_start, seg_end = position, position + segment.length
            position = seg_end
            if seg_end <= start or seg_start >= end:
                continue
            lo = max(start, seg_start)
            hi = min(end, seg_end)
            self.blobs.check_size(segment.blob_id, segment.offset + segment.length)
            files.append(
                (self.blobs.path(segment.blob_id), segment.offset + lo - seg_start, hi - lo)
            )
        return ByteRange(None, files)

    # ---- writing ------------------------------------------------------------------------

    def _check_write(self, bucket: str, key: str, condition: WriteCondition | None) -> None:
        if condition is None:
            return
        current = self.current(bucket, key)
        live = current is not None and not current.delete_marker
        if condition.if_none_match is not None and live:
            raise PreconditionFailed("If-None-Match")
        if condition.if_match is not None:
            if not live:
                raise NoSuchKey(key)
            assert current is not None
            from strata.service.objects.conditions import etag_matches

            if not etag_matches(condition.if_match, current.etag):
                raise PreconditionFailed("If-Match")

    def _new_version(self, bucket_record: BucketRecord, stamp: int) -> str:
        if bucket_record.versioning == "Enabled":
            return new_version_id(stamp, secrets.token_hex(8))
        return NULL_VERSION

    def stage_version(
        self, batch: WriteBatch, bucket_record: BucketRecord, key: str, version: ObjectVersion
    ) -> list[str]:
        """Add ``version`` to ``batch`` with its blob refs, removing the version it replaces.

        Unversioned and suspended buckets keep one ``null`` version per key: a new null
        version replaces it. Returns the blob ids that become unreferenced.
        Call with no ``await`` between this and the commit of ``batch``.
        """
        bucket = bucket_record.name
        freed: list[str] = []
        if version.version_id == NULL_VERSION:
            existing: Iterable[tuple[bytes, ObjectVersion]] = self.versions(bucket, key)
            if not bucket_record.versioning:
                # Never versioned: a key has at most one version, the first one. Stopping
                # there matters: overwrites leave tombstones behind it, and walking them
                # costs far more than the write itself.
                existing = itertools.islice(existing, 1)
            for raw_key, old in existing:
                if old.version_id == NULL_VERSION:
                    freed += self._stage_removal(batch, raw_key, old)
        raw_key = object_key(bucket, key, version.stamp)
        batch.put(spaces.OBJECTS, raw_key, records.encode(version))
        statistics.stage_added(batch, bucket, version)
        for segment in version.segments:
            batch.put(spaces.BLOB_REFS, segment.blob_id.encode(), raw_key)
        return [b for b in freed if all(s.blob_id != b for s in version.segments)]

    def _stage_removal(
        self, batch: WriteBatch, raw_key: bytes, version: ObjectVersion
    ) -> list[str]:
        batch.delete(spaces.OBJECTS, raw_key)
        statistics.stage_removed(batch, raw_key, version)
        freed = []
        for segment in version.segments:
            batch.delete(spaces.BLOB_REFS, segment.blob_id.encode())
            freed.append(segment.blob_id)
        return freed

    async def commit_new_blobs(self, batch: WriteBatch, blob_ids: list[str]) -> None:
        """Commit a batch that references blobs just written; unapplied, they go with it.

        ``apply`` raising (a full disk) means nothing of the batch landed: the blobs are
        removed at once. Once applied they belong to the record, even if the fsync after
        fails: the record may still reach the disk (start-up GC takes them if not)."""
        try:
            sequence = self.store.apply(batch)
        except BaseException:
            self.blobs.delete(blob_ids)
            raise
        await self.store.durable(sequence)

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
    ) -> tuple[BucketRecord, ObjectVersion]:
        self.buckets.get(bucket)
        self._check_write(bucket, key, condition)  # fail fast; checked again before commit
        algorithms = [checks.algorithm]
        sink: _InlineSink | BlobWriter
        if declared_size is not None and declared_size <= limits.inline_object_bytes_max:
            sink = _InlineSink(algorithms)
        else:
            sink = self.blobs.writer(algorithms)
        segments: list[Segment] = []
        try:
            async for chunk in body:
                if sink.size_bytes + len(chunk) > limits.object_bytes_max:
                    raise BodyTooLarge()
                if isinstance(sink, _InlineSink) and (
                    sink.size_bytes + len(chunk) > limits.inline_object_bytes_max
                ):
                    sink = self._spill(sink, algorithms)
                sink.write(chunk)
            md5, sums = sink.digests()
            checks.verify(md5, sums)
            if isinstance(sink, BlobWriter):
                info = await sink.finish()
                segments = [Segment(info.blob_id, 0, info.size_bytes)]
        except BaseException:
            if isinstance(sink, BlobWriter):
                sink.abort()
            raise
        # From here to the commit: no await, so the checks below hold when the batch lands.
        try:
            bucket_record = self.buckets.get(bucket)
            self._check_write(bucket, key, condition)
        except BaseException:
            self.blobs.delete(s.blob_id for s in segments)
            raise
        stamp = self.store.hlc.now()
        version = ObjectVersion(
            version_id=self._new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            size_bytes=sink.size_bytes,
            etag=md5.hex(),
            headers=new.headers,
            user_metadata=new.user_metadata,
            tags=new.tags,
            storage_class=new.storage_class,
            acl=new.acl,
            inline=bytes(sink.data) if isinstance(sink, _InlineSink) else None,
            segments=segments,
            checksum_algorithm=checks.algorithm,
            checksum=sums[checks.algorithm],
        )
        batch = WriteBatch()
        freed = self.stage_version(batch, bucket_record, key, version)
        await self.commit_new_blobs(batch, [s.blob_id for s in segments])
        self.release_blobs(freed)
        return bucket_record, version

    def _spill(self, sink: _InlineSink, algorithms: list[str]) -> BlobWriter:
        writer = self.blobs.writer(algorithms)
        writer.write(memoryview(sink.data))
        return writer

    # ---- deleting -----------------------------------------------------------------------

    async def delete(
        self, bucket: str, key: str, version_id: str | None = None
    ) -> tuple[BucketRecord, DeleteOutcome]:
        bucket_record = self.buckets.get(bucket)
        batch = WriteBatch()
        freed: list[str] = []
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
            freed = self._stage_removal(batch, *found)
            await self.store.commit(batch)
            self.release_blobs(freed)
            return bucket_record, DeleteOutcome(version_id, found[1].delete_marker)
        if not bucket_record.versioning:
            current = self.current(bucket, key)
            if current is None:
                return bucket_record, DeleteOutcome(None, False)
            freed = self._stage_removal(batch, object_key(bucket, key, current.stamp), current)
            await self.store.commit(batch)
            self.release_blobs(freed)
            return bucket_record, DeleteOutcome(None, False)
        stamp = self.store.hlc.now()
        marker = ObjectVersion(
            version_id=self._new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            delete_marker=True,
        )
        freed = self.stage_version(batch, bucket_record, key, marker)
        await self.store.commit(batch)
        self.release_blobs(freed)
        return bucket_record, DeleteOutcome(marker.version_id, True)

    # ---- copying ------------------------------------------------------------------------

    async def copy(
        self,
        source: ObjectVersion,
        bucket: str,
        key: str,
        *,
        new: NewObject,
        condition: WriteCondition | None = None,
    ) -> tuple[BucketRecord, ObjectVersion]:
        """Write a new version of ``bucket/key`` with the bytes of ``source``.

        The bytes are copied into a new blob (in a worker thread, chunk by chunk), so
        versions never share a blob and deleting one never affects another.
        """
        self.buckets.get(bucket)
        self._check_write(bucket, key, condition)
        segments: list[Segment] = []
        if source.inline is None and source.segments:
            writer = self.blobs.writer(())
            try:
                ranges = self.locate(source, 0, source.size_bytes).files
                parts = bool(source.part_sizes)
                md5s = await asyncio.to_thread(copy_ranges, ranges, writer, parts)
                check_copy(source, writer.digests()[0], md5s, len(ranges))
                info = await writer.finish()
            except BaseException:
                writer.abort()
                raise
            segments = [Segment(info.blob_id, 0, info.size_bytes)]
        try:
            bucket_record = self.buckets.get(bucket)
            self._check_write(bucket, key, condition)
        except BaseException:
            self.blobs.delete(s.blob_id for s in segments)
            raise
        stamp = self.store.hlc.now()
        version = msgspec.structs.replace(
            source,
            version_id=self._new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            headers=new.headers,
            user_metadata=new.user_metadata,
            tags=new.tags,
            storage_class=new.storage_class,
            acl=new.acl,
            segments=segments,
            restore_expiry_ms=None,
            upload_id="",
        )
        batch = WriteBatch()
        freed = self.stage_version(batch, bucket_record, key, version)
        await self.commit_new_blobs(batch, [s.blob_id for s in segments])
        self.release_blobs(freed)
        return bucket_record, version

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

    async def restore(
        self, bucket: str, key: str, version_id: str | None, days: int
    ) -> tuple[ObjectVersion, bool]:
        """Make an archived version readable for ``days`` days; True if it already was.

        Restoring is immediate here: the bytes never left the disk. S3 counts the days from
        the restore's completion, rounded up to the next midnight UTC.
        """
        _, version = self.get(bucket, key, version_id, "POST")
        if version.storage_class not in ARCHIVE_CLASSES:
            raise ProtocolError(
                "InvalidObjectState",
                "Restore is not allowed for the object's current storage class",
                403,
            )
        now_ms = int(self.store.clock.now_s() * 1000)
        already = version.restore_expiry_ms is not None and version.restore_expiry_ms > now_ms
        day_ms = 86_400_000
        expiry_ms = (now_ms // day_ms + 1 + days) * day_ms
        updated = msgspec.structs.replace(version, restore_expiry_ms=expiry_ms)
        batch = WriteBatch()
        batch.put(spaces.OBJECTS, object_key(bucket, key, version.stamp), records.encode(updated))
        await self.store.commit(batch)
        return updated, already

    def readable(self, version: ObjectVersion) -> bool:
        """Whether a version's bytes can be read: not archived, or restored and unexpired."""
        if version.storage_class not in ARCHIVE_CLASSES:
            return True
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


def copy_ranges(
    ranges: list[tuple[str, int, int]], writer: BlobWriter, per_range: bool = False
) -> list[bytes]:
    """Copy file ranges into a blob writer; runs in a worker thread. With ``per_range``,
    returns each range's MD5 (to check a multipart source against its ETag)."""
    chunk_bytes = limits.stream_chunk_bytes * 4
    md5s: list[bytes] = []
    for path, offset, length in ranges:
        fd = os.open(path, os.O_RDONLY)
        md5 = hashlib.md5()
        try:
            position, end = offset, offset + length
            while position < end:
                data = os.pread(fd, min(chunk_bytes, end - position), position)
                if not data:
                    raise DataCorruption(f"blob {path} ended early while copied")
                writer.write(data)
                if per_range:
                    md5.update(data)
                position += len(data)
        finally:
            os.close(fd)
        md5s.append(md5.digest())
    return md5s


def check_copy(
    source: ObjectVersion, whole_md5: bytes, range_md5s: list[bytes], ranges: int
) -> None:
    """A copy of a whole object must hash to its ETag: else it would turn damaged bytes
    into a new, self-consistent blob."""
    parts = len(source.part_sizes)
    if parts and ranges != parts:
        return  # not one range per part: the ETag cannot be recomputed
    computed = etag(range_md5s if parts else [whole_md5], parts)
    if computed != source.etag:
        raise DataCorruption(
            f"copy source version {source.version_id}: bytes of blob "
            f"{', '.join(s.blob_id for s in source.segments)} hash to {computed}, the record "
            f"says {source.etag}"
        )
