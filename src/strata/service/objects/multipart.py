"""Multipart uploads: create, upload parts (streamed or copied), complete, abort, list.

Spaces and keys (the bucket is the partition, as everywhere in S3)::

    UPLOADS    pack(bucket, key, upload_id)               -> UploadRecord
    PARTS      pack(bucket, key, upload_id, part_number)  -> PartRecord
    EXTENTS    references of the part's extents, owner: the PARTS key (references.py)

An upload id is 16 hex digits of the HLC stamp of its creation then 16 random hex
digits, so the uploads of one key sort by initiation time, as ListMultipartUploads
shows them. A part's bytes are segments: one new extent (UploadPart), or a range of
the source's extents, shared (UploadPartCopy; ``copies.py``). Parts written before
volumes have a ``blob_id`` (a blob file, ``BLOB_REFS``) instead.

Durable order of a part upload (UploadPart, UploadPartCopy):
  1. The bytes go through the one receive path (``receive.py``: streamed, hashed off
     the loop, verified, synced), or a copy references the source's extents.
  2. With no ``await`` between them: the upload is looked up again (an abort or a
     completion may have happened meanwhile) and one batch holds the part record, its
     references and the removal of the part it replaces (and of its references).

Completion copies no bytes: the new version's segments are the parts' segments. One
batch, built with no ``await`` after the checks, holds the version, the move of the
references from the parts to the version, the removal of the upload record and of
every part record, and the removal of the references of parts the completion left
out. Concurrent
completers (of one upload, or of several uploads of one key under ``If-None-Match: *``)
run their checks and stage their batch in one uninterrupted step, so exactly one wins.

Checksums follow S3: an upload created with ``x-amz-checksum-algorithm`` stores that
digest for every part and combines them at completion, either COMPOSITE (the digest of
the concatenated part digests, shown ``<b64>-N``) or FULL_OBJECT (CRCs combined into the
CRC of the whole object with ``combine_crc``). An upload created without one gets S3's
default, a FULL_OBJECT CRC64NVME.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass

import msgspec

from strata import limits
from strata.errors import ProtocolError
from strata.service.objects import locks
from strata.service.objects.copies import (
    check_copy,
    copy_bytes,
    digest_readers,
    once,
    shareable,
)
from strata.service.objects.encryption import (
    NO_REQUEST,
    CustomerKey,
    EncryptionRequest,
    customer_etag,
    part_data_key,
)
from strata.service.objects.errors import BadDigest, NoSuchKey, ObjectsError
from strata.service.objects.integrity import DEFAULT_ALGORITHM, PayloadChecks
from strata.service.objects.objects import (
    NewObject,
    ObjectService,
    WriteCondition,
)
from strata.service.objects.records import (
    BucketRecord,
    Encryption,
    Grant,
    ObjectVersion,
    Segment,
    sub_segments,
)
from strata.service.objects.references import ByteRefs
from strata.storage import keys, records, spaces
from strata.storage.checksums import b64, combine_crc, new_hasher
from strata.storage.store import WriteBatch
from strata.storage.volumes.extent import Extent, read_extent

CRC_ALGORITHMS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})
COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"

# ---- errors -------------------------------------------------------------------------


class NoSuchUpload(ObjectsError):
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed."
    )

    def __init__(self, upload_id: str) -> None:
        super().__init__(UploadId=upload_id)


class InvalidPart(ObjectsError):
    default_message = (
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag."
    )

    def __init__(self, upload_id: str, part_number: int, etag: str) -> None:
        super().__init__(UploadId=upload_id, PartNumber=str(part_number), ETag=etag)


class InvalidPartOrder(ObjectsError):
    default_message = (
        "The list of parts was not in ascending order. Parts must be ordered by part number."
    )

    def __init__(self, upload_id: str) -> None:
        super().__init__(UploadId=upload_id)


class EntityTooSmall(ObjectsError):
    default_message = "Your proposed upload is smaller than the minimum allowed size"

    def __init__(self, size_bytes: int, part_number: int, etag: str) -> None:
        super().__init__(
            ProposedSize=str(size_bytes),
            MinSizeAllowed=str(limits.part_bytes_min),
            PartNumber=str(part_number),
            ETag=etag,
        )


# ---- records ------------------------------------------------------------------------


class UploadRecord(msgspec.Struct, frozen=True):
    upload_id: str
    key: str
    initiated_ms: int
    headers: dict[str, str] = {}
    user_metadata: dict[str, str] = {}
    tags: list[tuple[str, str]] = []
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""  # as the client named it at creation ("" = none)
    checksum_type: str = FULL_OBJECT
    acl: list[Grant] = []  # grants beyond the owner's, for the completed object
    # The x-amz-object-lock-* headers of the creation (``locks.py``), for the object.
    lock_mode: str = ""
    lock_until_ms: int = 0
    legal_hold: str = ""
    lock_asked: bool = False
    encryption: Encryption | None = None  # every part is sealed with its data key

    @property
    def lock(self) -> locks.Lock | None:
        if not self.lock_asked:
            return None
        return locks.Lock(self.lock_mode, self.lock_until_ms, self.legal_hold)

    @property
    def stored_algorithm(self) -> str:
        """The digest every part records: the named one, else S3's default."""
        return self.checksum_algorithm or DEFAULT_ALGORITHM


class PartRecord(msgspec.Struct, frozen=True):
    part_number: int
    size_bytes: int
    etag: str  # md5 hex, without quotes
    last_modified_ms: int
    blob_id: str  # parts written before volumes: the blob file ("" for segments)
    checksum: bytes = b""  # digest of the upload's stored algorithm
    segments: list[Segment] = []  # where the bytes are (extents)

    @property
    def stored_segments(self) -> list[Segment]:
        return self.segments or [Segment(self.blob_id, 0, self.size_bytes)]


def _keyed(segments: list[Segment], envelope: Encryption | None) -> list[Segment]:
    """Shared segments of an SSE-S3 source, each naming its own (wrapped) data key."""
    if envelope is None:
        return segments
    return [
        s if s.wrapped_key else msgspec.structs.replace(s, wrapped_key=envelope.wrapped_key)
        for s in segments
    ]


def _part_etag(upload: UploadRecord, md5: bytes) -> str:
    """A part's ETag: its MD5, keyed for SSE-C uploads (``encryption.customer_etag``)."""
    if upload.encryption is None or not upload.encryption.customer:
        return md5.hex()
    return customer_etag(upload.encryption, md5)


def upload_key(bucket: str, key: str, upload_id: str) -> bytes:
    return keys.pack(bucket, key, upload_id)


def part_key(bucket: str, key: str, upload_id: str, part_number: int) -> bytes:
    return keys.pack(bucket, key, upload_id, part_number)


def decode_upload_key(raw: bytes) -> tuple[str, str, str]:
    bucket, pos = keys.decode_str(raw, 0)
    key, pos = keys.decode_str(raw, pos)
    upload_id, _ = keys.decode_str(raw, pos)
    return bucket, key, upload_id


@dataclass(frozen=True, slots=True)
class RequestedPart:
    """One ``<Part>`` of a CompleteMultipartUpload body."""

    part_number: int
    etag: str  # without quotes
    checksums: dict[str, str]  # algorithm -> base64 value as sent


@dataclass(frozen=True, slots=True)
class Completion:
    """What CompleteMultipartUpload asks beyond the parts."""

    condition: WriteCondition | None = None
    checksum_type: str | None = None  # x-amz-checksum-type, if sent
    full_checksum: tuple[str, str] | None = None  # (algorithm, value) from a header
    object_size: int | None = None  # x-amz-mp-object-size


@dataclass(frozen=True, slots=True)
class UploadListing:
    uploads: list[UploadRecord]
    common_prefixes: list[str]
    truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


def composite_checksum(algorithm: str, digests: list[bytes]) -> bytes:
    hasher = new_hasher(algorithm)
    for digest in digests:
        hasher.update(digest)
    return hasher.digest()


def full_object_crc(algorithm: str, parts: list[tuple[bytes, int]]) -> bytes:
    """The CRC of the concatenation, from (crc, size) of each part."""
    combined = parts[0][0]
    for crc, size in parts[1:]:
        combined = combine_crc(algorithm, combined, crc, size)
    return combined


def checksum_mismatch(expected: str, actual: str) -> ProtocolError:
    return ProtocolError(
        "InvalidRequest",
        f"Checksum Type mismatch occurred, expected checksum Type: {expected}, "
        f"actual checksum Type: {actual}",
    )


class MultipartService:
    def __init__(self, objects: ObjectService) -> None:
        self.objects = objects
        self.store = objects.store
        self.blobs = objects.blobs
        self.buckets = objects.buckets

    # ---- uploads ----------------------------------------------------------------------

    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord:
        """The upload, after checking the bucket; ``NoSuchUpload`` if absent."""
        self.buckets.get(bucket)
        raw = self.store.get(spaces.UPLOADS, upload_key(bucket, key, upload_id))
        if raw is None:
            raise NoSuchUpload(upload_id)
        return records.decode(raw, UploadRecord)

    async def completed(
        self, bucket: str, key: str, upload_id: str
    ) -> tuple[BucketRecord, ObjectVersion] | None:
        """The version a completed upload made, while it is still the key's current one.

        Returns once that version is durable: the completion that made it may be
        applied and still waiting for its fsync.
        """
        bucket_record = self.buckets.get(bucket)
        if self.store.get(spaces.UPLOADS, upload_key(bucket, key, upload_id)) is not None:
            return None
        current = self.objects.current(bucket, key)
        if current is None or not upload_id or current.upload_id != upload_id:
            return None
        await self.store.commit(WriteBatch())  # an fsync covers every write before it
        return bucket_record, current

    async def create(
        self,
        bucket: str,
        key: str,
        new: NewObject,
        algorithm: str,
        checksum_type: str,
        encryption: EncryptionRequest = NO_REQUEST,
    ) -> UploadRecord:
        """Start an upload; ``algorithm`` "" means none named (S3's default applies). The
        upload's data key (its envelope in the record) seals every part."""
        bucket_record = self.buckets.get(bucket)
        locks.check_write(bucket_record, new.lock)
        sealing = self.objects.encryptions.seal(bucket_record, encryption)
        asked = new.lock or locks.NO_LOCK
        stamp = self.store.hlc.now()
        upload = UploadRecord(
            upload_id=f"{stamp:016x}{secrets.token_hex(8)}",
            key=key,
            initiated_ms=int(self.store.clock.now_s() * 1000),
            headers=new.headers,
            user_metadata=new.user_metadata,
            tags=new.tags,
            storage_class=new.storage_class,
            checksum_algorithm=algorithm,
            checksum_type=checksum_type,
            acl=new.acl,
            lock_mode=asked.mode,
            lock_until_ms=asked.until_ms,
            legal_hold=asked.legal_hold,
            lock_asked=new.lock is not None,
            encryption=sealing.envelope,
        )
        batch = WriteBatch()
        batch.put(spaces.UPLOADS, upload_key(bucket, key, upload.upload_id), records.encode(upload))
        await self.store.commit(batch)
        return upload

    async def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self.get_upload(bucket, key, upload_id)
        batch, refs = WriteBatch(), ByteRefs()
        batch.delete(spaces.UPLOADS, upload_key(bucket, key, upload_id))
        for raw_key, part in self._scan_parts(bucket, key, upload_id):
            batch.delete(spaces.PARTS, raw_key)
            refs.remove(batch, part.stored_segments, raw_key)
        await self.objects.commit_bytes(batch, refs)

    async def delete_bucket(self, bucket: str) -> None:
        """DeleteBucket: refused while versions remain; uploads in progress are aborted.

        S3 deletes a bucket whose only contents are incomplete multipart uploads (observed
        behaviour; the API reference says only that the bucket must be empty), and the
        uploads go with it: one batch removes the bucket, every upload and part record and
        the parts' byte references, as ``abort`` does for one upload.
        """
        batch, refs = WriteBatch(), ByteRefs()
        self.buckets.stage_delete(batch, bucket)
        prefix = keys.pack(bucket)
        end = keys.prefix_end(prefix)
        for raw_key, _ in self.store.scan(spaces.UPLOADS, prefix, end):
            batch.delete(spaces.UPLOADS, raw_key)
        for raw_key, value in self.store.scan(spaces.PARTS, prefix, end):
            batch.delete(spaces.PARTS, raw_key)
            refs.remove(batch, records.decode(value, PartRecord).stored_segments, raw_key)
        await self.objects.commit_bytes(batch, refs)

    # ---- parts ------------------------------------------------------------------------

    def _scan_parts(
        self, bucket: str, key: str, upload_id: str, after: int = 0
    ) -> Iterator[tuple[bytes, PartRecord]]:
        prefix = upload_key(bucket, key, upload_id)
        start = part_key(bucket, key, upload_id, after + 1)
        for raw_key, value in self.store.scan(spaces.PARTS, start, keys.prefix_end(prefix)):
            yield raw_key, records.decode(value, PartRecord)

    def parts(self, bucket: str, key: str, upload_id: str, after: int = 0) -> Iterator[PartRecord]:
        for _, part in self._scan_parts(bucket, key, upload_id, after):
            yield part

    def _part_algorithms(self, upload: UploadRecord, checks: PayloadChecks) -> list[str]:
        """Digests to compute for a part; checks the client's algorithm against the upload's."""
        if upload.checksum_algorithm:
            if checks.algorithm_given and checks.algorithm != upload.checksum_algorithm:
                raise checksum_mismatch(upload.checksum_algorithm.lower(), checks.algorithm.lower())
            if not checks.algorithm_given and upload.checksum_type == COMPOSITE:
                raise checksum_mismatch(upload.checksum_algorithm.lower(), "null")
        algorithms = [upload.stored_algorithm]
        if checks.algorithm not in algorithms:
            algorithms.append(checks.algorithm)
        return algorithms

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: AsyncIterable[bytes],
        checks: PayloadChecks,
        size_hint: int | None = None,
        customer: CustomerKey | None = None,
    ) -> tuple[UploadRecord, PartRecord]:
        upload = self.get_upload(bucket, key, upload_id)  # fail fast; checked again below
        if checks.content_md5 is None and not checks.algorithm_given:
            bucket_record = self.buckets.get(bucket)
            if bucket_record.object_lock and locks.needs_digest(bucket_record, upload.lock):
                raise locks.md5_required()
        data_key = part_data_key(self.objects.encryptions, bucket, upload.encryption, customer)
        received = await self.objects.receive(
            body,
            upload.storage_class,
            algorithms=self._part_algorithms(upload, checks),
            size_hint=size_hint,
            size_max=limits.part_bytes_max,
            checks=checks,
            inline_allowed=False,
            data_key=data_key,
        )
        part = PartRecord(
            part_number=part_number,
            size_bytes=received.size_bytes,
            etag=_part_etag(upload, received.md5),
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            blob_id="",
            checksum=received.checksums[upload.stored_algorithm],
            segments=received.segments,
        )
        await self._commit_part(bucket, key, upload_id, part, received.created)
        return upload, part

    async def copy_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source: ObjectVersion,
        start: int,
        length: int,
        customer: CustomerKey | None = None,
        source_customer: CustomerKey | None = None,
        source_bucket: str = "",
    ) -> tuple[UploadRecord, PartRecord]:
        """A part made of bytes [start, start+length) of ``source``: its extents shared when
        they are in the upload's volume and neither is encrypted (uploads and objects from
        before encryption; read once for the part's digests), else copied and sealed with
        the upload's data key."""
        upload = self.get_upload(bucket, key, upload_id)
        encryptions = self.objects.encryptions
        data_key = part_data_key(encryptions, bucket, upload.encryption, customer)
        source_key = encryptions.data_key(source_bucket, source.encryption, source_customer)
        volume = self.objects.volume_for(upload.storage_class)
        algorithms = [upload.stored_algorithm]
        whole = start == 0 and length == source.size_bytes
        created: list[tuple[str, Extent]] = []
        if source.inline is not None:
            inline = self.objects.locate(source, start, length, source_customer).inline
            assert inline is not None
            received = await self.objects.receive(
                once(inline),
                upload.storage_class,
                algorithms=algorithms,
                size_hint=len(inline),
                size_max=len(inline),
                checks=None,
                inline_allowed=False,
                data_key=data_key,
            )
            md5, sums, segments, created = (
                received.md5,
                received.checksums,
                received.segments,
                received.created,
            )
        else:
            wanted = sub_segments(source.segments, start, length)
            readers = self.objects.segment_readers(wanted, source_key)
            for reader in readers:
                reader.check()
            shares = encryptions.shares_sse_s3(upload.encryption, source.encryption)
            if shares and shareable(self.store, wanted, volume):
                md5, sums, md5s = await asyncio.to_thread(digest_readers, readers, algorithms)
                if whole:  # a range cannot be checked against the ETag
                    check_copy(source, md5, md5s)
                segments = _keyed(wanted, source.encryption)
            else:
                # A whole copy is checked against the ETag before its bytes are synced.
                received = await copy_bytes(
                    readers,
                    volume,
                    algorithms,
                    self.blobs.disk,
                    source if whole else None,
                    data_key,
                )
                md5, sums, segments, created = (
                    received.md5,
                    received.checksums,
                    received.segments,
                    received.created,
                )
        part = PartRecord(
            part_number=part_number,
            size_bytes=length,
            etag=_part_etag(upload, md5),
            last_modified_ms=int(self.store.clock.now_s() * 1000),
            blob_id="",
            checksum=sums[upload.stored_algorithm],
            segments=segments,
        )
        await self._commit_part(bucket, key, upload_id, part, created)
        return upload, part

    async def _commit_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part: PartRecord,
        created: list[tuple[str, Extent]],
    ) -> None:
        # The bytes are durable. From here to the commit: no await, so the upload we check
        # still exists when the batch lands (an abort or completion may have run), and so
        # do the extents a copied part shares.
        self.get_upload(bucket, key, upload_id)
        if not created and any(
            s.extent and read_extent(self.store, s.blob_id) is None for s in part.segments
        ):
            raise NoSuchKey(key)  # the copy's source went while its digests were computed
        raw_key = part_key(bucket, key, upload_id, part.part_number)
        batch, refs = WriteBatch(), ByteRefs()
        old = self.store.get(spaces.PARTS, raw_key)
        if old is not None:
            refs.remove(batch, records.decode(old, PartRecord).stored_segments, raw_key)
        batch.put(spaces.PARTS, raw_key, records.encode(part))
        refs.add(batch, part.stored_segments, raw_key)
        await self.objects.commit_bytes(batch, refs, created)

    # ---- completion -------------------------------------------------------------------

    async def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        requested: list[RequestedPart],
        completion: Completion,
    ) -> tuple[BucketRecord, ObjectVersion]:
        # Everything below runs without an await until the commit: the checks hold
        # when the batch lands, and of concurrent completers exactly one wins.
        upload = self.get_upload(bucket, key, upload_id)
        bucket_record = self.buckets.get(bucket)
        previous = 0
        for wanted in requested:
            if wanted.part_number <= previous:
                raise InvalidPartOrder(upload_id)
            previous = wanted.part_number
        stored = {
            part.part_number: (raw, part) for raw, part in self._scan_parts(bucket, key, upload_id)
        }
        chosen: list[PartRecord] = []
        for wanted in requested:
            found = stored.get(wanted.part_number)
            if found is None or found[1].etag != wanted.etag:
                raise InvalidPart(upload_id, wanted.part_number, wanted.etag)
            chosen.append(found[1])
        for part in chosen[:-1]:
            if part.size_bytes < limits.part_bytes_min:
                raise EntityTooSmall(part.size_bytes, part.part_number, f'"{part.etag}"')
        self._check_part_checksums(upload, requested, chosen)
        algorithm = upload.stored_algorithm
        if (
            completion.checksum_type is not None
            and upload.checksum_algorithm
            and completion.checksum_type != upload.checksum_type
        ):
            raise ProtocolError(
                "InvalidRequest",
                f"The upload was created using the {upload.checksum_type} checksum mode. "
                f"The complete request must use the same checksum mode.",
            )
        if upload.checksum_type == COMPOSITE:
            checksum = composite_checksum(algorithm, [p.checksum for p in chosen])
            shown = f"{b64(checksum)}-{len(chosen)}"
        else:
            checksum = full_object_crc(algorithm, [(p.checksum, p.size_bytes) for p in chosen])
            shown = b64(checksum)
        if completion.full_checksum is not None:
            given_algorithm, value = completion.full_checksum
            if given_algorithm != algorithm:
                raise checksum_mismatch(algorithm.lower(), given_algorithm.lower())
            if value.strip() != shown:
                raise BadDigest(
                    f"The {algorithm.lower()} you specified did not match the calculated checksum."
                )
        size = sum(p.size_bytes for p in chosen)
        if completion.object_size is not None and completion.object_size != size:
            raise ProtocolError(
                "InvalidRequest",
                f"The provided 'x-amz-mp-object-size' header value {completion.object_size} "
                f"does not match what was computed: {size}",
            )
        # The upload id begins with the HLC stamp of its creation: a delete since then is
        # a conflicting operation (409), as S3 answers a completion that raced one.
        self.objects.check_write(bucket, key, completion.condition, started=int(upload_id[:16], 16))
        md5s = b"".join(bytes.fromhex(p.etag) for p in chosen)
        stamp = self.store.hlc.now()
        now_ms = int(self.store.clock.now_s() * 1000)
        lock = locks.version_lock(bucket_record, upload.lock, now_ms)
        version = ObjectVersion(
            version_id=self.objects.new_version(bucket_record, stamp),
            stamp=stamp,
            last_modified_ms=now_ms,
            size_bytes=size,
            etag=f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}",
            headers=upload.headers,
            user_metadata=upload.user_metadata,
            tags=upload.tags,
            storage_class=upload.storage_class,
            segments=[s for p in chosen for s in p.stored_segments],
            part_sizes=[p.size_bytes for p in chosen],
            part_checksums=[p.checksum for p in chosen] if upload.checksum_algorithm else [],
            checksum_algorithm=algorithm,
            checksum=checksum,
            checksum_type=upload.checksum_type,
            acl=upload.acl,
            upload_id=upload_id,
            lock_mode=lock.mode,
            lock_until_ms=lock.until_ms,
            legal_hold=lock.legal_hold,
            encryption=upload.encryption,
        )
        batch, refs = WriteBatch(), ByteRefs()
        batch.delete(spaces.UPLOADS, upload_key(bucket, key, upload_id))
        for raw_key, part in stored.values():
            batch.delete(spaces.PARTS, raw_key)
            refs.remove(batch, part.stored_segments, raw_key)
        # Then the version's references: the parts' bytes it uses change owner.
        self.objects.stage_version(batch, refs, bucket_record, key, version)
        await self.objects.commit_bytes(batch, refs)
        return bucket_record, version

    def _check_part_checksums(
        self, upload: UploadRecord, requested: list[RequestedPart], chosen: list[PartRecord]
    ) -> None:
        if not upload.checksum_algorithm:
            return
        algorithm = upload.checksum_algorithm
        for wanted, part in zip(requested, chosen, strict=True):
            value = wanted.checksums.get(algorithm)
            if value is None:
                if upload.checksum_type == COMPOSITE:
                    raise ProtocolError(
                        "InvalidRequest",
                        f"The upload was created using a {algorithm.lower()} checksum. The "
                        "complete request must include the checksum for each part. It was "
                        f"missing for part {part.part_number} in the request.",
                    )
                continue
            if value.strip() != b64(part.checksum):
                raise InvalidPart(upload.upload_id, part.part_number, f'"{wanted.etag}"')

    # ---- listing ----------------------------------------------------------------------

    def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str,
        delimiter: str,
        key_marker: str,
        upload_id_marker: str,
        max_uploads: int,
    ) -> UploadListing:
        self.buckets.get(bucket)
        base = keys.pack(bucket)
        scan_start = keys.open_prefix(bucket, prefix) if prefix else base
        scan_end = keys.prefix_end(scan_start)
        start = scan_start
        if key_marker:
            rolled = (
                delimiter
                and key_marker.startswith(prefix)
                and key_marker.endswith(delimiter)
                and delimiter in key_marker[len(prefix) :]
            )
            if rolled:
                after = keys.prefix_end(keys.open_prefix(bucket, key_marker))
            elif upload_id_marker:
                after = upload_key(bucket, key_marker, upload_id_marker) + b"\x00"
            else:
                after = keys.prefix_end(keys.pack(bucket, key_marker))
            if after is not None and after > start:
                start = after
        uploads: list[UploadRecord] = []
        prefixes: list[str] = []
        last: tuple[str, str | None] | None = None
        truncated = False
        rescan = True
        while rescan and not truncated:
            rescan = False
            for raw_key, value in self.store.scan(spaces.UPLOADS, start, scan_end):
                _, key, upload_id = decode_upload_key(raw_key)
                if len(uploads) + len(prefixes) >= max_uploads:
                    truncated = True
                    break
                rest = key[len(prefix) :]
                if delimiter and delimiter in rest:
                    common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                    prefixes.append(common)
                    last = (common, None)
                    after_prefix = keys.prefix_end(keys.open_prefix(bucket, common))
                    if after_prefix is not None:
                        start, rescan = after_prefix, True  # seek past the whole prefix
                    break
                uploads.append(records.decode(value, UploadRecord))
                last = (key, upload_id)
        return UploadListing(
            uploads=uploads,
            common_prefixes=prefixes,
            truncated=truncated,
            next_key_marker=last[0] if truncated and last else None,
            next_upload_id_marker=last[1] if truncated and last else None,
        )
