"""RestoreObject: archived bytes become readable after the retrieval tier's delay, by the
store clock, for the days asked; then the temporary copy is removed.

GLACIER and DEEP_ARCHIVE: a restore is recorded on the version (``restore_ready_ms``,
``restore_days``) and answered 202; when it falls due, ``RestoreEngine`` copies the bytes
from the archive volume into the volume STANDARD writes to (``restored_segments``), and
the copy is readable until midnight UTC after completion + days, as S3 counts them; at
that expiry the copy's references are dropped (the archived version stays). Restoring a
restored version again moves its expiry (200); one still running is 409.

Intelligent-Tiering's archive tiers take no days: the restore moves the object itself
back to the Frequent tier (its bytes to the Frequent volume).

Due work is found through an index in META, ordered by when it falls due::

    META  pack("s3.restore-due") + due_ms (8 bytes) + OBJECTS key -> b""

An entry goes in the batch that schedules it and out in the batch that does the work, so
a crash anywhere leaves either the work still due or done: the bytes are copied before
that batch and are garbage for compaction if it never lands. An entry whose version went
or changed is dropped when it falls due.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import msgspec

from strata.errors import DiskFull, ProtocolError
from strata.service.background import Waker
from strata.service.objects.copies import copy_bytes
from strata.service.objects.moves import joined_segments
from strata.service.objects.objects import ObjectService
from strata.service.objects.records import (
    ARCHIVE_CLASSES,
    ARCHIVE_TIERS,
    ObjectVersion,
    decode_object_key,
    object_key,
)
from strata.service.objects.references import ByteRefs
from strata.service.objects.tiering.tiers import (
    DAY_MS,
    DEEP_ARCHIVE_ACCESS,
    FREQUENT,
    STORAGE_CLASS,
    tier_volume,
)
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.restore")

JOB_TIERS: Final = ("Expedited", "Standard", "Bulk")
# AWS's typical completion times (the upper end of what RestoreObject's documentation
# gives), seconds; Intelligent-Tiering's Archive Access restores like GLACIER, its Deep
# Archive Access like DEEP_ARCHIVE. Scaled by ``restore_delay_scale``.
DELAYS_S: Final = {
    ("GLACIER", "Expedited"): 5 * 60.0,
    ("GLACIER", "Standard"): 5 * 3600.0,
    ("GLACIER", "Bulk"): 12 * 3600.0,
    ("DEEP_ARCHIVE", "Standard"): 12 * 3600.0,
    ("DEEP_ARCHIVE", "Bulk"): 48 * 3600.0,
}
_DUE: Final = keys.pack("s3.restore-due")
_DUE_BATCH_MAX: Final = 64  # due entries one pass reads at a time
RESTORE_DAYS_MAX: Final = 2_147_483_647


def due_key(due_ms: int, raw_object_key: bytes) -> bytes:
    return _DUE + max(0, due_ms).to_bytes(8, "big") + raw_object_key


def expiry_after(done_ms: int, days: int) -> int:
    """S3's expiry of a restored copy: completion + days, rounded up to midnight UTC."""
    return ((done_ms + days * DAY_MS) // DAY_MS + 1) * DAY_MS


def archive_kind(version: ObjectVersion) -> str:
    """GLACIER or DEEP_ARCHIVE: what a restore of ``version`` costs in time."""
    if version.storage_class in ARCHIVE_CLASSES:
        return version.storage_class
    return "DEEP_ARCHIVE" if version.access_tier == DEEP_ARCHIVE_ACCESS else "GLACIER"


@dataclass(frozen=True, slots=True)
class Started:
    version: ObjectVersion
    already_restored: bool  # 200 (the expiry moved) rather than 202 (a new restore)


class Restores:
    """RestoreObject's checks and state, and the engine's work when restores fall due."""

    def __init__(self, objects: ObjectService, delay_scale: float = 1.0) -> None:
        self.objects = objects
        self.store = objects.store
        self.delay_scale = delay_scale
        self.waker = Waker()
        self.started_total = 0
        self.completed_total = 0
        self.expired_total = 0
        self.restored_bytes_total = 0
        # Told of every restore begun: (bucket, storage class, tier, bytes); the cost view.
        self.on_started: Callable[[str, str, str, int], None] | None = None

    def _now_ms(self) -> int:
        return int(self.store.clock.now_s() * 1000)

    async def start(
        self, bucket: str, key: str, version_id: str | None, days: int | None, job_tier: str
    ) -> Started:
        """Begin (or extend) a restore; raises S3's error when the version takes none."""
        _, version = self.objects.get(bucket, key, version_id, "POST")
        intelligent = version.storage_class == STORAGE_CLASS
        if intelligent:
            if days is not None:
                raise ProtocolError(
                    "InvalidArgument",
                    "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not "
                    "specify Days when restoring this object",
                )
            if version.access_tier not in ARCHIVE_TIERS and version.restore_ready_ms is None:
                raise ProtocolError(
                    "ObjectAlreadyInActiveTierError",
                    "This action is not allowed against this storage tier.",
                    403,
                )
        elif version.storage_class not in ARCHIVE_CLASSES:
            raise ProtocolError(
                "InvalidObjectState",
                "Restore is not allowed for the object's current storage class",
                403,
            )
        elif days is None:
            raise ProtocolError("MalformedXML", "The XML you provided was not well-formed or "
                                "did not validate against our published schema")  # fmt: skip
        kind = archive_kind(version)
        delay_s = DELAYS_S.get((kind, job_tier))
        if delay_s is None:
            # Observed wording not known; S3 documents that Expedited is not offered for
            # DEEP_ARCHIVE and Intelligent-Tiering's Deep Archive Access tier.
            raise ProtocolError(
                "InvalidArgument",
                f"{job_tier} retrieval is not supported for the object's storage class",
            )
        now_ms = self._now_ms()
        raw_key = object_key(bucket, key, version.stamp)
        batch = WriteBatch()
        if version.restore_ready_ms is not None:
            return await self._upgrade(version, raw_key, job_tier, now_ms, delay_s, batch)
        expiry_ms = version.restore_expiry_ms
        if days is not None and expiry_ms is not None and expiry_ms > now_ms:
            # Restored already: the period restarts from now (S3 charges the request only).
            new_expiry = expiry_after(now_ms, days)
            batch.delete(spaces.META, due_key(expiry_ms, raw_key))
            batch.put(spaces.META, due_key(new_expiry, raw_key), b"")
            updated = msgspec.structs.replace(
                version, restore_expiry_ms=new_expiry, restore_days=days
            )
            batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
            await self.store.commit(batch)
            return Started(updated, True)
        ready_ms = now_ms + int(delay_s * self.delay_scale * 1000)
        updated = msgspec.structs.replace(
            version, restore_ready_ms=ready_ms, restore_days=days or 0, restore_job_tier=job_tier
        )
        batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
        batch.put(spaces.META, due_key(ready_ms, raw_key), b"")
        await self.store.commit(batch)
        self.started_total += 1
        if self.on_started is not None:
            self.on_started(bucket, version.storage_class, job_tier, version.size_bytes)
        self.waker.wake()  # the engine's next sleep is until this one at the latest
        return Started(updated, False)

    async def _upgrade(
        self,
        version: ObjectVersion,
        raw_key: bytes,
        job_tier: str,
        now_ms: int,
        delay_s: float,
        batch: WriteBatch,
    ) -> Started:
        """A request while a restore runs: S3's restore speed upgrade when it names a
        faster tier (the restore then completes as that tier would from now, 202), else
        ``RestoreAlreadyInProgress``."""
        running = version.restore_job_tier or "Standard"
        ready_ms = now_ms + int(delay_s * self.delay_scale * 1000)
        assert version.restore_ready_ms is not None
        if JOB_TIERS.index(job_tier) >= JOB_TIERS.index(running) or (
            ready_ms >= version.restore_ready_ms
        ):
            raise ProtocolError(
                "RestoreAlreadyInProgress", "Object restore is already in progress", 409
            )
        updated = msgspec.structs.replace(
            version, restore_ready_ms=ready_ms, restore_job_tier=job_tier
        )
        batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
        batch.delete(spaces.META, due_key(version.restore_ready_ms, raw_key))
        batch.put(spaces.META, due_key(ready_ms, raw_key), b"")
        await self.store.commit(batch)
        self.waker.wake()
        return Started(updated, False)

    # ---- the engine ---------------------------------------------------------------------

    def next_due_ms(self) -> int | None:
        for raw_key, _ in self.store.scan(spaces.META, _DUE, keys.prefix_end(_DUE)):
            return int.from_bytes(raw_key[len(_DUE) : len(_DUE) + 8], "big")
        return None

    async def run_due(self) -> int:
        """Every completion and expiry due by now; returns how many were done."""
        done = 0
        while True:
            now_ms = self._now_ms()
            end = _DUE + (now_ms + 1).to_bytes(8, "big")
            due = [k for k, _ in itertools.islice(self.store.scan(spaces.META, _DUE, end),
                                                  _DUE_BATCH_MAX)]  # fmt: skip
            if not due:
                return done
            for entry in due:
                await self._run_one(entry)
                done += 1

    async def _run_one(self, entry: bytes) -> None:
        due_ms = int.from_bytes(entry[len(_DUE) : len(_DUE) + 8], "big")
        raw_key = entry[len(_DUE) + 8 :]
        raw = self.store.get(spaces.OBJECTS, raw_key)
        version = records.decode(raw, ObjectVersion) if raw is not None else None
        if version is not None and version.restore_ready_ms == due_ms:
            await self._complete(entry, raw_key, version)
        elif version is not None and version.restore_expiry_ms == due_ms:
            await self._expire(entry, raw_key, version)
        else:  # the version went, or its restore changed: nothing is due here
            batch = WriteBatch()
            batch.delete(spaces.META, entry)
            await self.store.commit(batch)

    async def _complete(self, entry: bytes, raw_key: bytes, version: ObjectVersion) -> None:
        bucket, key, _ = decode_object_key(raw_key)
        now_ms = self._now_ms()
        if version.storage_class == STORAGE_CLASS:
            # The object itself returns to Frequent (its bytes to the Frequent volume).
            await self.objects.move(
                bucket,
                key,
                version.version_id,
                tier_volume(self.objects.volumes, FREQUENT),
                access_tier=FREQUENT,
                last_access_ms=now_ms,
                restore_ready_ms=None,
                restore_days=0,
                restore_job_tier="",
            )
            batch = WriteBatch()
            batch.delete(spaces.META, entry)
            await self.store.commit(batch)
            self._completed(version)
            return
        # 1. The copy's bytes, checked against the ETag and synced (garbage if 2 never lands).
        received = None
        if version.segments and not (version.encryption and version.encryption.customer):
            # Sealed with the version's data key, as its own bytes are. An SSE-C version's
            # key is the customer's, never kept: its GETs read the archived bytes instead.
            data_key = self.objects.encryptions.stored_data_key("", version.encryption)
            readers = self.objects.segment_readers(version.segments, data_key)
            for reader in readers:
                reader.check()
            volume = self.objects.volume_for("STANDARD")
            disk = self.objects.blobs.disk
            received = await copy_bytes(readers, volume, [], disk, version, data_key)
        # 2. No await from here to the apply: the version must still be this one.
        raw = self.store.get(spaces.OBJECTS, raw_key)
        now = records.decode(raw, ObjectVersion) if raw is not None else None
        refs, batch = ByteRefs(), WriteBatch()
        created = received.created if received is not None else []
        if (
            now is None
            or now.segments != version.segments
            or now.restore_ready_ms != version.restore_ready_ms
        ):
            for _, extent in created:
                self.objects.volumes.give_back(extent)
            batch.delete(spaces.META, entry)  # due again under its new entry, if any
            await self.store.commit(batch)
            return
        restored = joined_segments(received, version) if created and received else []
        expiry_ms = expiry_after(now_ms, now.restore_days or 1)
        updated = msgspec.structs.replace(
            now,
            restore_ready_ms=None,
            restore_expiry_ms=expiry_ms,
            restored_segments=restored,
            restore_job_tier="",
        )
        batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
        batch.delete(spaces.META, entry)
        batch.put(spaces.META, due_key(expiry_ms, raw_key), b"")
        refs.remove(batch, now.restored_segments, raw_key)  # a copy left by a lost expiry
        refs.add(batch, restored, raw_key)
        await self.objects.commit_bytes(batch, refs, created)
        self._completed(version)

    def _completed(self, version: ObjectVersion) -> None:
        self.completed_total += 1
        self.restored_bytes_total += version.size_bytes
        log.info("restore of version %s complete", version.version_id)

    async def _expire(self, entry: bytes, raw_key: bytes, version: ObjectVersion) -> None:
        """The temporary copy's time is up: its bytes go, the archived version stays."""
        updated = msgspec.structs.replace(
            version, restore_expiry_ms=None, restore_days=0, restored_segments=[]
        )
        refs, batch = ByteRefs(), WriteBatch()
        batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
        batch.delete(spaces.META, entry)
        refs.remove(batch, version.restored_segments, raw_key)
        await self.objects.commit_bytes(batch, refs)
        self.expired_total += 1

    async def run(self, interval_s: float) -> None:
        """The engine: due work, then sleep until the next is due (at most ``interval_s``;
        a clock move or a new restore wakes it)."""
        while True:
            pause_s = interval_s
            try:
                await self.run_due()
            except DiskFull:  # the disk guard logged it; due work waits for space
                log.warning("restores wait: the disk is full")
            except Exception:  # tried again after the interval, not in a tight loop
                log.exception("restore pass failed")
            else:
                next_ms = self.next_due_ms()
                if next_ms is not None:
                    pause_s = min(interval_s, max(0.0, (next_ms - self._now_ms()) / 1000 + 0.01))
            await self.waker.pause(pause_s)
