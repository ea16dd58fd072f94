"""The S3 records and how their keys are laid out.

Spaces and keys (``keys.pack`` order-preserving encoding; the bucket is the partition)::

    BUCKETS    pack(bucket)                       -> BucketRecord
    OBJECTS    pack(bucket, key, ~stamp)          -> ObjectVersion
    BLOB_REFS  blob_id.encode()                   -> OBJECTS key of the version owning it

``~stamp`` is ``STAMP_MAX - hlc_stamp`` as an 8-byte big-endian int, so a forward scan
of ``pack(bucket, key)`` meets a key's versions newest first; the first entry of a key
is its current version (which may be a delete marker). Every version of a key shares
the prefix ``pack(bucket, key)``, and ``keys.prefix_end`` of it is the first key after
all of them: listing seeks past older versions and past whole common prefixes.

A version id names its stamp: 16 hex digits of the stamp then 16 random hex digits, so
``GET ?versionId=`` is one point read. The ``null`` version (unversioned or suspended
buckets) has version id "null" and is found by scanning the key's versions.

Where bytes live: ``inline`` holds objects of at most ``limits.inline_object_bytes_max``
inside the record; otherwise ``segments`` lists blob ranges whose concatenation is the
object. A plain PUT has one segment; a completed multipart upload has one segment per
part (``part_sizes`` then gives the part boundaries for ``partNumber`` GETs), so
completing an upload never copies bytes. Every blob a version references has a
``BLOB_REFS`` entry committed in the same batch as the version; ``volume`` says which
storage volume holds the blob, so lifecycle can later move bytes between tiers.

Inline threshold, measured in-process (300 concurrent PUTs, then GETs, one SSD):
4 KiB inline 106 us/PUT vs blob 520; 32 KiB 319 vs 457; 64 KiB 580 vs 834; reads
10-11 us inline vs 15-66 us from a blob. Inline wins up to the 64 KiB limit.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from strata.storage import keys

STAMP_MAX = (1 << 64) - 1
NULL_VERSION = "null"
# Storage classes whose bytes S3 serves only from a restored copy (RestoreObject).
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# Intelligent-Tiering's opt-in tiers, which also need a RestoreObject (``access_tier``).
ARCHIVE_TIERS = frozenset({"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"})


class Segment(msgspec.Struct, frozen=True):
    """A byte range of an extent (``extent``: ``blob_id`` is the extent id, its location
    is in the ``EXTENTS`` space) or of a blob file of the format before volumes."""

    blob_id: str
    offset: int
    length: int
    volume: str = "hot"  # blob files only: extents say where they are themselves
    extent: bool = False
    # The extent's own data key, wrapped by the master key, when it is not the version's:
    # a part copied from another SSE-S3 object shares that object's sealed extent.
    wrapped_key: bytes = b""

    @property
    def end(self) -> int:
        return self.offset + self.length


def sub_segments(segments: Iterable[Segment], start: int, length: int) -> list[Segment]:
    """The segments covering bytes [start, start + length) of an object, cut to it."""
    out: list[Segment] = []
    position, end = 0, start + length
    for segment in segments:
        seg_start, seg_end = position, position + segment.length
        position = seg_end
        if seg_end <= start or seg_start >= end:
            continue
        lo, hi = max(start, seg_start), min(end, seg_end)
        cut = msgspec.structs.replace(
            segment, offset=segment.offset + lo - seg_start, length=hi - lo
        )
        out.append(cut)
    return out


class Encryption(msgspec.Struct, frozen=True):
    """How a version's bytes are encrypted: the envelope (``service/objects/encryption.py``).

    The version's data key (which its extents and inline bytes are sealed with,
    ``storage/volumes/cipher.py``) is kept only wrapped: by the server's master key
    (SSE-S3, ``key_id`` names it), by a KMS key (``aws:kms``, ``key_id`` is its ARN) or by
    the customer's key (SSE-C: the key itself is never stored, only ``customer_key_hmac``,
    ``HMAC-SHA256(salt, key)``, to tell a wrong key). A version without one is plain
    (written before encryption)."""

    algorithm: str  # "AES256" (SSE-S3 and SSE-C), "aws:kms", "aws:kms:dsse"
    wrapped_key: bytes
    key_id: str = ""
    customer: bool = False  # SSE-C
    customer_key_hmac: bytes = b""
    salt: bytes = b""
    context: str = ""  # KMS encryption context, as given (JSON)
    bucket_key: bool = False  # S3 Bucket Keys (KMS)


class BucketEncryption(msgspec.Struct, frozen=True):
    """A bucket's default encryption (PutBucketEncryption); absent: S3's default,
    SSE-S3 with SSE-C blocked (new buckets since April 2026)."""

    algorithm: str = "AES256"  # "AES256", "aws:kms", "aws:kms:dsse"
    kms_key_id: str = ""
    bucket_key: bool = False
    # BlockedEncryptionTypes: ("SSE-C",), or empty ("NONE").
    blocked: tuple[str, ...] = ("SSE-C",)


class CorsRule(msgspec.Struct, frozen=True):
    allowed_origins: list[str]
    allowed_methods: list[str]
    allowed_headers: list[str] = []
    expose_headers: list[str] = []
    max_age_s: int | None = None
    id: str | None = None


class Grant(msgspec.Struct, frozen=True):
    """One ACL grant: ``kind`` is CanonicalUser, Group or AmazonCustomerByEmail."""

    kind: str
    grantee: str  # canonical id, group URI or e-mail address
    permission: str  # FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP


class DefaultRetention(msgspec.Struct, frozen=True):
    """An Object Lock default retention: a mode and a period of ``days`` or ``years``."""

    mode: str  # GOVERNANCE or COMPLIANCE
    days: int = 0
    years: int = 0


class BucketRecord(msgspec.Struct, frozen=True):
    name: str
    created_ms: int
    region: str
    versioning: str = ""  # "", "Enabled" or "Suspended" ("" = never enabled)
    tags: list[tuple[str, str]] | None = None
    cors: list[CorsRule] | None = None
    # Object Lock (``locks.py``): once on, never off (and versioning stays Enabled).
    object_lock: bool = False
    lock_default: DefaultRetention | None = None
    encryption: BucketEncryption | None = None  # None: S3's default


class ObjectVersion(msgspec.Struct, frozen=True, omit_defaults=True):
    """One version of an object, or a delete marker.

    Fields at their default are not stored (``omit_defaults``): decoding gives them back,
    so records written with every field read the same, and a field most versions leave at
    its default (the Object Lock ones, ACLs, parts) costs them no byte: a 0-byte version
    is 199 bytes instead of 407 with every field written, and encodes + decodes in about
    three quarters of the time (``benchmarks/object_lock_cost.py``, docs/benchmarks.md).
    Narrow views of the record (``ListedVersion``, lifecycle's) must keep the same defaults.
    """

    version_id: str
    stamp: int  # HLC stamp: orders the versions of a key
    last_modified_ms: int
    delete_marker: bool = False
    size_bytes: int = 0
    etag: str = ""  # without quotes: md5 hex, or "<md5 of part md5s>-N"
    # Content-Type, Content-Encoding, Content-Disposition, Content-Language,
    # Cache-Control, Expires: lower-case header name -> value as sent.
    headers: dict[str, str] = {}
    user_metadata: dict[str, str] = {}  # x-amz-meta-* name (without prefix) -> value
    tags: list[tuple[str, str]] = []
    storage_class: str = "STANDARD"
    inline: bytes | None = None
    segments: list[Segment] = []
    part_sizes: list[int] = []  # empty unless the object came from a multipart upload
    # Per-part digests (``checksum_algorithm``) when the upload named an algorithm.
    part_checksums: list[bytes] = []
    checksum_algorithm: str = ""  # "CRC32", ... ("" = none)
    checksum: bytes = b""  # raw digest (base64 on the wire)
    checksum_type: str = "FULL_OBJECT"  # or "COMPOSITE" (multipart "<digest>-N")
    # ACL grants beyond the owner's FULL_CONTROL (empty: the owner alone), written in the
    # same batch as the version. Records older than this field decode with it empty.
    acl: list[Grant] = []
    # GLACIER / DEEP_ARCHIVE: until when a RestoreObject copy is readable (None: none).
    restore_expiry_ms: int | None = None
    upload_id: str = ""  # the multipart upload that made this version ("" = none)
    # Object Lock (``locks.py``): retention mode ("" none, GOVERNANCE, COMPLIANCE) until
    # ``lock_until_ms`` by the store clock; legal hold ("" never set, "ON", "OFF").
    lock_mode: str = ""
    lock_until_ms: int = 0
    legal_hold: str = ""
    # RestoreObject in progress: when it completes by the store clock (None: none), and
    # the days its copy is asked for; the copy's bytes, once made, in ``restored_segments``
    # (references owned like ``segments``; empty while the restore runs or for inline
    # bytes). ``service/objects/tiering/restore.py``.
    restore_ready_ms: int | None = None
    restore_days: int = 0
    restored_segments: list[Segment] = []
    restore_job_tier: str = ""  # Expedited, Standard or Bulk: only a faster one may follow
    # INTELLIGENT_TIERING: the access tier ("" = Frequent; ``tiering/tiers.py``) and the
    # last GET or copy by the store clock (0: none since it was written).
    access_tier: str = ""
    last_access_ms: int = 0
    encryption: Encryption | None = None  # None: bytes stored plain (written before SSE)


class ListedVersion(msgspec.Struct, frozen=True):
    """The fields of an ``ObjectVersion`` that listings show.

    Decoding a stored ``ObjectVersion`` into this skips everything else (inline bytes,
    metadata, tags, segments) without building it: a listing page decodes 1,000 records.
    """

    version_id: str
    last_modified_ms: int
    delete_marker: bool = False
    size_bytes: int = 0
    etag: str = ""
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""
    checksum_type: str = "FULL_OBJECT"
    restore_expiry_ms: int | None = None  # RestoreStatus (OptionalObjectAttributes)
    restore_ready_ms: int | None = None


_BUCKET_KEYS_MAX = 1024
_bucket_keys: dict[str, bytes] = {}
_STAMP_BYTES = 8


def bucket_key(bucket: str) -> bytes:
    """``keys.pack(bucket)``, remembered: every object request builds it."""
    packed = _bucket_keys.get(bucket)
    if packed is None:
        if len(_bucket_keys) >= _BUCKET_KEYS_MAX:
            _bucket_keys.clear()
        packed = _bucket_keys[bucket] = keys.pack(bucket)
    return packed


def object_key(bucket: str, key: str, stamp: int) -> bytes:
    """``keys.pack(bucket, key, STAMP_MAX - stamp)``."""
    return bucket_key(bucket) + keys.encode_str(key) + (STAMP_MAX - stamp).to_bytes(8, "big")


def key_prefix(bucket: str, key: str) -> bytes:
    """The prefix shared by every version of ``key``: ``keys.pack(bucket, key)``."""
    return bucket_key(bucket) + keys.encode_str(key)


def decode_object_key(raw: bytes) -> tuple[str, str, int]:
    """(bucket, key, stamp) of an OBJECTS key."""
    bucket, pos = keys.decode_str(raw, 0)
    key, pos = keys.decode_str(raw, pos)
    inverted, _ = keys.decode_uint(raw, pos)
    return bucket, key, STAMP_MAX - inverted


def object_key_name(raw: bytes, bucket_key_bytes: int) -> str:
    """The object key of an OBJECTS key whose bucket part is ``bucket_key_bytes`` long.

    The key component sits between the bucket and the 8-byte stamp, ended by 0x00 0x01;
    only a key holding NUL bytes (escaped) needs the general decoder.
    """
    packed = raw[bucket_key_bytes : -_STAMP_BYTES - 2]
    if b"\x00" in packed:
        return keys.decode_str(raw, bucket_key_bytes)[0]
    return packed.decode()


def new_version_id(stamp: int, random_hex: str) -> str:
    return f"{stamp:016x}{random_hex}"


def version_stamp(version_id: str) -> int | None:
    """The stamp a version id names, or None if it is not one of ours."""
    if len(version_id) != 32:
        return None
    try:
        int(version_id[16:], 16)
        return int(version_id[:16], 16)
    except ValueError:
        return None
