"""What GET/HEAD say and do for archived and Intelligent-Tiering versions:
``x-amz-restore``, ``x-amz-archive-status``, InvalidObjectState until restored, the
restored copy's bytes, and the access Intelligent-Tiering counts."""

from __future__ import annotations

from typing import Final

import msgspec

from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context
from strata.errors import ProtocolError
from strata.service.objects.records import ARCHIVE_TIERS, ObjectVersion
from strata.service.objects.tiering.tiers import STORAGE_CLASS

# The classes whose GET/HEAD go through ``archived_read`` (one set test on the hot path).
WATCHED_CLASSES: Final = frozenset({"GLACIER", "DEEP_ARCHIVE", STORAGE_CLASS})


def restore_headers(version: ObjectVersion) -> list[tuple[str, str]]:
    """``x-amz-restore`` while a restore runs or its copy lasts; ``x-amz-archive-status``
    for an Intelligent-Tiering version in an archive tier."""
    headers = []
    if version.restore_ready_ms is not None:
        headers.append(("x-amz-restore", 'ongoing-request="true"'))
    elif version.restore_expiry_ms is not None:
        expiry = xml.http_date(version.restore_expiry_ms)
        headers.append(("x-amz-restore", f'ongoing-request="false", expiry-date="{expiry}"'))
    if version.access_tier in ARCHIVE_TIERS and version.storage_class == STORAGE_CLASS:
        headers.append(("x-amz-archive-status", version.access_tier))
    return headers


def archived_state(version: ObjectVersion) -> ProtocolError:
    """GET of an archived version that is not restored (HEAD is allowed)."""
    if version.access_tier in ARCHIVE_TIERS and version.storage_class == STORAGE_CLASS:
        return ProtocolError(
            "InvalidObjectState",
            "The operation is not valid for the object's access tier",
            403,
            StorageClass=version.storage_class,
            AccessTier=version.access_tier,
        )
    return ProtocolError(
        "InvalidObjectState",
        "The operation is not valid for the object's storage class",
        403,
        StorageClass=version.storage_class,
    )


def archived_read(s3: S3Context, call: Call, version: ObjectVersion, method: str) -> ObjectVersion:
    """The version a GET of a watched class reads: InvalidObjectState unless restored; the
    restored copy's bytes in place of the archived ones; an Intelligent-Tiering access."""
    if method != "GET":
        return version
    if not s3.objects.readable(version):
        raise archived_state(version)
    if version.restored_segments:
        version = msgspec.structs.replace(version, segments=version.restored_segments)
    if version.storage_class == STORAGE_CLASS and s3.tiering is not None:
        s3.tiering.engine.accessed(call.bucket, call.key, version)
    return version


def copy_accessed(s3: S3Context, bucket: str, key: str, source: ObjectVersion) -> None:
    """A copy reads its source: Intelligent-Tiering counts it as an access."""
    if source.storage_class == STORAGE_CLASS and s3.tiering is not None:
        s3.tiering.engine.accessed(bucket, key, source)
