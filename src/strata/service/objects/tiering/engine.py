"""The Intelligent-Tiering engine: access times kept cheaply, and the paced pass that moves
objects between tiers by the store clock.

Access tracking. A GET or copy of a monitored ``INTELLIGENT_TIERING`` version (HEAD,
listings and tagging do not count, as on S3) costs the request one dict store: the time
is kept in memory and written to the versions' records in one batch per
``flush_interval_s`` (and before every pass), never a durable write per GET. The loss
window is documented: a crash forgets the accesses of the last interval at most, so such
an object can look idle since its previous access; tiers are days apart, so that moves
it down at most one interval early. A clean stop writes what is pending.

The pass. Every ``interval_s`` (and whenever the store clock moves: ``wake_all``), a scan
of every version of the buckets that hold INTELLIGENT_TIERING ones (their statistics say
which, so a store without any pays one read), in chunks, each decoded into a narrow view;
a monitored version whose due tier (``tiers.due_tier``: idle time since its last access
or its write, and the bucket's configurations) differs from its tier is moved with
``ObjectService.move``, which copies its bytes into the tier's volume and sets the tier
in the same batch. A
version that was accessed in Infrequent or Archive Instant goes back to Frequent right
after its access time is written. Every decision is recomputed from the record, so a
move is idempotent; the scan's position is kept in META after each chunk, so a pass cut
by a crash resumes where it was instead of starting over.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from typing import Final

import msgspec

from strata.errors import DiskFull, StrataError
from strata.service.background import Waker
from strata.service.objects import statistics
from strata.service.objects.objects import ObjectService
from strata.service.objects.records import (
    ObjectVersion,
    bucket_key,
    decode_object_key,
    object_key,
)
from strata.service.objects.tiering.configuration import (
    TieringConfiguration,
    TieringConfigurations,
)
from strata.service.objects.tiering.tiers import (
    ARCHIVE_INSTANT,
    INFREQUENT,
    MONITORED_BYTES_MIN,
    STORAGE_CLASS,
    due_tier,
    tier_volume,
)
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.tiering")

CHUNK_VERSIONS: Final = 512  # versions a pass reads between yields (and cursor saves)
FLUSH_BATCH_MAX: Final = 512  # access times per batch
PENDING_MAX: Final = 100_000  # access times held before a flush is asked for early
_CURSOR: Final = keys.pack("s3.tiering-cursor")


class TieringView(msgspec.Struct, frozen=True):
    """What a pass reads of a stored ``ObjectVersion`` (the rest is skipped undecoded)."""

    version_id: str
    last_modified_ms: int
    delete_marker: bool = False
    size_bytes: int = 0
    tags: list[tuple[str, str]] = []
    storage_class: str = "STANDARD"
    restore_ready_ms: int | None = None
    access_tier: str = ""
    last_access_ms: int = 0


class TieringEngine:
    def __init__(
        self,
        objects: ObjectService,
        configurations: TieringConfigurations,
        interval_s: float = 3600.0,
        flush_interval_s: float = 1.0,
    ) -> None:
        self.objects = objects
        self.store = objects.store
        self.configurations = configurations
        self.interval_s = interval_s
        self.flush_interval_s = flush_interval_s
        self.pending: dict[bytes, int] = {}  # OBJECTS key -> last access (ms, store clock)
        self.waker = Waker()
        self.flush_waker = Waker()
        self.passes_total = 0
        self.moves_total: Counter[str] = Counter()  # by target tier ("" = Frequent)
        self.moved_bytes_total = 0
        self.accesses_written_total = 0
        self._scanned = 0  # versions the running pass read (its log line)

    # ---- access tracking ----------------------------------------------------------------

    def accessed(self, bucket: str, key: str, version: ObjectVersion) -> None:
        """A GET or copy of an INTELLIGENT_TIERING version (the caller checked the class)."""
        if version.size_bytes < MONITORED_BYTES_MIN:
            return
        self.pending[object_key(bucket, key, version.stamp)] = int(self.store.clock.now_s() * 1000)
        if len(self.pending) >= PENDING_MAX:
            self.flush_waker.wake()

    async def flush(self, retier: bool = True) -> None:
        """Write the pending access times; bring accessed versions back to Frequent (unless
        stopping: the next pass does it then)."""
        pending, self.pending = self.pending, {}
        returning: list[bytes] = []
        items = iter(pending.items())
        while chunk := list(itertools.islice(items, FLUSH_BATCH_MAX)):
            batch = WriteBatch()
            # No await from these reads to the apply in commit.
            for raw_key, access_ms in chunk:
                raw = self.store.get(spaces.OBJECTS, raw_key)
                if raw is None:
                    continue
                version = records.decode(raw, ObjectVersion)
                if version.storage_class != STORAGE_CLASS or access_ms <= version.last_access_ms:
                    continue
                updated = msgspec.structs.replace(version, last_access_ms=access_ms)
                batch.put(spaces.OBJECTS, raw_key, records.encode(updated))
                if version.access_tier in (INFREQUENT, ARCHIVE_INSTANT):
                    returning.append(raw_key)
            if len(batch):
                await self.store.commit(batch)
                self.accesses_written_total += len(batch)
        for raw_key in returning if retier else ():
            raw = self.store.get(spaces.OBJECTS, raw_key)
            if raw is not None:
                await self._retier(raw_key, records.decode(raw, TieringView), {})

    async def run_flusher(self) -> None:
        while True:
            await self.flush_waker.pause(self.flush_interval_s)
            if not self.pending:
                continue
            try:
                await self.flush()
            except DiskFull:  # those access times are lost, as after a crash
                log.warning("intelligent-tiering: access times not written: the disk is full")
            except Exception:
                log.exception("intelligent-tiering: writing access times failed")

    # ---- the pass -----------------------------------------------------------------------

    async def run_pass(self) -> int:
        """One pass over every version of the buckets that hold INTELLIGENT_TIERING ones
        (their statistics say which: a store without any costs one read), resumed where a
        crash left the last; returns how many versions it moved."""
        await self.flush()
        started = time.monotonic()
        self._scanned, bytes_before = 0, self.moved_bytes_total
        start = self.store.get(spaces.META, _CURSOR)
        cursor = start + b"\x00" if start else b""
        configurations: dict[str, list[TieringConfiguration]] = {}
        moved = 0
        for bucket, stats in sorted(statistics.read_all(self.store).items()):
            if stats.classes.get(STORAGE_CLASS, (0, 0))[0] <= 0:
                continue
            prefix = bucket_key(bucket)
            end = keys.prefix_end(prefix)
            if end is not None and cursor >= end:
                continue  # done before the crash
            moved += await self._pass_range(max(prefix, cursor), end, configurations)
        batch = WriteBatch()
        batch.delete(spaces.META, _CURSOR)
        await self.store.commit(batch)
        self.passes_total += 1
        if moved:
            log.info(
                "intelligent-tiering pass: %d versions read, %d moved (%d bytes) in %.1f s%s",
                self._scanned,
                moved,
                self.moved_bytes_total - bytes_before,
                time.monotonic() - started,
                " (resumed)" if start else "",
            )
        return moved

    async def _pass_range(
        self,
        cursor: bytes,
        end: bytes | None,
        configurations: dict[str, list[TieringConfiguration]],
    ) -> int:
        """The versions in [cursor, end), in chunks; the position saved after each."""
        moved = 0
        while True:
            chunk = list(
                itertools.islice(self.store.scan(spaces.OBJECTS, cursor, end), CHUNK_VERSIONS)
            )
            if not chunk:
                return moved
            self._scanned += len(chunk)
            for raw_key, value in chunk:
                view = records.decode(value, TieringView)
                if view.storage_class != STORAGE_CLASS or view.delete_marker:
                    continue
                if await self._retier(raw_key, view, configurations):
                    moved += 1
            last = chunk[-1][0]
            cursor = last + b"\x00"
            batch = WriteBatch()
            batch.put(spaces.META, _CURSOR, last)
            await self.store.commit(batch)
            await asyncio.sleep(0)  # requests go first

    async def _retier(
        self,
        raw_key: bytes,
        view: TieringView,
        configurations: dict[str, list[TieringConfiguration]],
    ) -> bool:
        """Move one version to the tier it is due in, if it is not there; True if moved."""
        if view.restore_ready_ms is not None or view.size_bytes < MONITORED_BYTES_MIN:
            return False  # a restore decides where it goes; small objects stay Frequent
        bucket, key, _ = decode_object_key(raw_key)
        found = configurations.get(bucket)
        if found is None:
            try:
                found = configurations[bucket] = list(self.configurations.all(bucket))
            except StrataError:  # the bucket went meanwhile
                return False
        archive_days, deep_days = self.configurations.archive_days(found, key, view.tags)
        now_ms = int(self.store.clock.now_s() * 1000)
        idle_ms = now_ms - max(view.last_access_ms, view.last_modified_ms)
        due = due_tier(view.access_tier, view.size_bytes, idle_ms, archive_days, deep_days)
        if due == view.access_tier:
            return False
        try:
            await self.objects.move(
                bucket,
                key,
                view.version_id,
                tier_volume(self.objects.volumes, due),
                access_tier=due,
            )
        except StrataError as exc:  # removed or rewritten meanwhile; damage is logged
            log.info("intelligent-tiering: %s/%s not moved: %s", bucket, key, exc)
            return False
        self.moves_total[due] += 1
        self.moved_bytes_total += view.size_bytes
        return True

    async def run(self) -> None:
        while True:
            try:
                await self.run_pass()
            except DiskFull:  # the disk guard logged it; the next pass resumes
                log.warning("intelligent-tiering pass stopped: the disk is full")
            except Exception:
                log.exception("intelligent-tiering pass failed")
            await self.waker.pause(self.interval_s)
