"""Object Lock: a bucket's lock configuration, each version's retention and legal hold, and
the one check every removal of a version passes.

Where it lives: the bucket's switch and default retention in its ``BucketRecord``
(``object_lock``, ``lock_default``), a version's retention and legal hold in its
``ObjectVersion`` (``lock_mode``, ``lock_until_ms``, ``legal_hold``), so the check needs no
read beyond the record the removal already holds.

Enforcement: ``ObjectService._stage_removal`` (the one place a version leaves OBJECTS:
DeleteObject with a version id, DeleteObjects, and whatever else removes versions, such as
lifecycle) calls ``check_removal`` in the same event-loop step that stages and applies the
batch, with no ``await`` between: there is no window between the check and the write.
Retention changes are read-check-write in one step the same way. COMPLIANCE binds every
principal, root included; GOVERNANCE yields to a caller that sent
``x-amz-bypass-governance-retention: true`` and holds ``s3:BypassGovernanceRetention``
(decided by the API layer: ``bypass``); a legal hold blocks whatever the retention says.
Retention is judged by the store clock, so moving it past retain-until frees the version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import msgspec

from strata.errors import ProtocolError
from strata.service.objects.records import BucketRecord, DefaultRetention, ObjectVersion, object_key
from strata.storage import records, spaces
from strata.storage.store import WriteBatch

if TYPE_CHECKING:
    from strata.service.objects.objects import ObjectService

GOVERNANCE: Final = "GOVERNANCE"
COMPLIANCE: Final = "COMPLIANCE"
MODES: Final = frozenset({GOVERNANCE, COMPLIANCE})
LEGAL_HOLDS: Final = frozenset({"ON", "OFF"})
DAY_MS: Final = 86_400_000
YEAR_DAYS: Final = 365
# S3's bounds on a default retention period (100 years).
DAYS_MAX: Final = 36_500
YEARS_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class Lock:
    """What a write asks for (the x-amz-object-lock-* headers), or what a version gets."""

    mode: str = ""
    until_ms: int = 0
    legal_hold: str = ""

    @property
    def retention(self) -> bool:
        return bool(self.mode)


NO_LOCK: Final = Lock()


class ObjectLocked(ProtocolError):
    """A removal or a retention change the version's lock forbids."""

    def __init__(self) -> None:
        super().__init__("AccessDenied", "Access Denied", 403)


def lock_not_enabled() -> ProtocolError:
    """Retention or legal hold on a bucket without Object Lock."""
    return ProtocolError("InvalidRequest", "Bucket is missing Object Lock Configuration")


def headers_without_lock() -> ProtocolError:
    """x-amz-object-lock-* headers on a write to a bucket without Object Lock (S3's words
    differ from the retention operations' here: "ObjectLockConfiguration", one word)."""
    return ProtocolError("InvalidRequest", "Bucket is missing ObjectLockConfiguration")


def no_lock_configuration() -> ProtocolError:
    return ProtocolError(
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
        404,
    )


def configuration_not_found(bucket: str) -> ProtocolError:
    return ProtocolError(
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket",
        404,
        BucketName=bucket,
    )


def versioning_locked() -> ProtocolError:
    return ProtocolError(
        "InvalidBucketState",
        "An Object Lock configuration is present on this bucket, so the versioning state "
        "cannot be changed.",
        409,
    )


def retain_until_past() -> ProtocolError:
    return ProtocolError("InvalidArgument", "The retain until date must be in the future!")


def md5_required() -> ProtocolError:
    return ProtocolError(
        "InvalidRequest",
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
        "with Object Lock parameters",
    )


# ---- the checks ----------------------------------------------------------------------


def retained(version: ObjectVersion, now_ms: int) -> bool:
    """Whether the version's retention still runs."""
    return bool(version.lock_mode) and version.lock_until_ms > now_ms


def check_removal(version: ObjectVersion, now_ms: int, bypass: bool) -> None:
    """``ObjectLocked`` unless ``version`` may be removed now. Call in the step that stages
    the removal (no ``await`` before its batch is applied)."""
    if version.legal_hold == "ON":
        raise ObjectLocked()
    if retained(version, now_ms) and (version.lock_mode == COMPLIANCE or not bypass):
        raise ObjectLocked()


def check_retention_change(old: ObjectVersion, new: Lock, now_ms: int, bypass: bool) -> None:
    """Extending retention, or GOVERNANCE to COMPLIANCE, is always allowed; shortening,
    removing, or COMPLIANCE to GOVERNANCE only once the retention has run out, except that
    GOVERNANCE yields to ``bypass``."""
    if not retained(old, now_ms):
        return
    weakened = not new.mode or new.until_ms < old.lock_until_ms
    if old.lock_mode == COMPLIANCE:
        if weakened or new.mode != COMPLIANCE:
            raise ObjectLocked()
    elif weakened and not bypass:
        raise ObjectLocked()


def check_write(bucket: BucketRecord, asked: Lock | None) -> None:
    """A write's lock headers need a bucket with Object Lock."""
    if asked is not None and not bucket.object_lock:
        raise headers_without_lock()


def needs_digest(bucket: BucketRecord, asked: Lock | None) -> bool:
    """Whether an upload must carry Content-MD5 or a checksum: it asks for retention, or
    the bucket gives new versions one by default."""
    return (asked is not None and asked.retention) or bucket.lock_default is not None


def default_period_ms(rule: DefaultRetention) -> int:
    return (rule.days or rule.years * YEAR_DAYS) * DAY_MS


def version_lock(bucket: BucketRecord, asked: Lock | None, now_ms: int) -> Lock:
    """The lock a new version gets: the retention the write asked for, else the bucket's
    default counted from now; the legal hold the write asked for."""
    if not bucket.object_lock:
        return NO_LOCK
    asked = asked or NO_LOCK
    if asked.mode or bucket.lock_default is None:
        return asked
    rule = bucket.lock_default
    return Lock(rule.mode, now_ms + default_period_ms(rule), asked.legal_hold)


def with_lock(version: ObjectVersion, lock: Lock) -> ObjectVersion:
    return msgspec.structs.replace(
        version, lock_mode=lock.mode, lock_until_ms=lock.until_ms, legal_hold=lock.legal_hold
    )


# ---- the operations ------------------------------------------------------------------


class ObjectLocks:
    """Put/GetObjectLockConfiguration, Put/GetObjectRetention, Put/GetObjectLegalHold."""

    def __init__(self, objects: ObjectService) -> None:
        self.objects = objects
        self.buckets = objects.buckets
        self.store = objects.store

    def now_ms(self) -> int:
        return int(self.store.clock.now_s() * 1000)

    # ---- the bucket's configuration --------------------------------------------------

    def configuration(self, bucket: str) -> BucketRecord:
        record = self.buckets.get(bucket)
        if not record.object_lock:
            raise configuration_not_found(bucket)
        return record

    async def put_configuration(self, bucket: str, rule: DefaultRetention | None) -> None:
        """Turn Object Lock on (a versioned bucket may have it turned on later, as S3 now
        allows) and set or clear its default retention. No await before the commit."""
        record = self.buckets.get(bucket)
        if not record.object_lock and record.versioning != "Enabled":
            raise ProtocolError(
                "InvalidBucketState",
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                409,
                BucketName=bucket,
            )
        await self.buckets.update(bucket, object_lock=True, lock_default=rule)

    # ---- a version's retention and legal hold ----------------------------------------

    def _locked_version(
        self, bucket: str, key: str, version_id: str | None, method: str
    ) -> ObjectVersion:
        record = self.buckets.get(bucket)
        if not record.object_lock:
            raise lock_not_enabled()
        _, version = self.objects.get(bucket, key, version_id, method)
        return version

    def retention(self, bucket: str, key: str, version_id: str | None) -> ObjectVersion:
        version = self._locked_version(bucket, key, version_id, "GET")
        if not version.lock_mode:
            raise no_lock_configuration()
        return version

    def legal_hold(self, bucket: str, key: str, version_id: str | None) -> ObjectVersion:
        version = self._locked_version(bucket, key, version_id, "GET")
        if not version.legal_hold:
            raise no_lock_configuration()
        return version

    async def put_retention(
        self, bucket: str, key: str, version_id: str | None, new: Lock, bypass: bool
    ) -> ObjectVersion:
        """Set, extend, shorten or remove (``new.mode`` "") a version's retention, as its
        current lock allows. From the read to the commit: no await."""
        version = self._locked_version(bucket, key, version_id, "PUT")
        now_ms = self.now_ms()
        if new.mode and new.until_ms <= now_ms:
            raise retain_until_past()
        check_retention_change(version, new, now_ms, bypass)
        updated = msgspec.structs.replace(
            version, lock_mode=new.mode, lock_until_ms=new.until_ms if new.mode else 0
        )
        await self._write(bucket, key, updated)
        return updated

    async def put_legal_hold(
        self, bucket: str, key: str, version_id: str | None, status: str
    ) -> ObjectVersion:
        assert status in LEGAL_HOLDS
        version = self._locked_version(bucket, key, version_id, "PUT")
        updated = msgspec.structs.replace(version, legal_hold=status)
        await self._write(bucket, key, updated)
        return updated

    async def _write(self, bucket: str, key: str, version: ObjectVersion) -> None:
        batch = WriteBatch()
        batch.put(spaces.OBJECTS, object_key(bucket, key, version.stamp), records.encode(version))
        await self.store.commit(batch)
