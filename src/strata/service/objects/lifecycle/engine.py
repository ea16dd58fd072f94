"""The lifecycle engine: a lifespan task that runs every bucket's rules as S3 does.

A pass walks each bucket that has a configuration in key order, a chunk of
``chunk_versions`` versions (whole keys) at a time, and for each key decides from what is
stored alone (``rules.py`` says what is due at the pass's store-clock time):

- the current version: expired (removed in an unversioned bucket; a delete marker added
  in a versioned or suspended one, as DeleteObject does) or moved to the coldest class
  due (``ObjectService.move``: bytes copied to the class's volume, checked, re-pointed);
- a sole delete marker: removed under ExpiredObjectDeleteMarker;
- each noncurrent version, noncurrent since its successor was written: removed
  (NoncurrentVersionExpiration past NoncurrentDays, beyond the NewerNoncurrentVersions
  kept) or moved (NoncurrentVersionTransition);

then aborts the bucket's incomplete multipart uploads that are due.

Every removal goes through the objects service's own delete path (``ObjectService.delete``
with a version id, or without one for the delete marker), so whatever that path enforces
(object lock) holds for lifecycle too: a refusal is counted and logged, never forced. Each
action first checks that the version it decided on is still what is stored (the key's
current version is the same stamp, the version still exists) with no ``await`` between
that check and the delete's batch, so a concurrent PUT is never expired in its place.

Crash safety without doing anything twice: every decision is a function of the stored
state, and every action changes that state so the same decision is not taken again (a
current version that got its delete marker is no longer current; a removed version is
gone; a moved one is in its class). The pass's position (bucket, last key done) is written
to META after each chunk, once the chunk's actions are durable, so a restart resumes the
pass where it stopped instead of starting over; re-examining the last chunk after a crash
finds nothing left to do in it.

Passes run at start-up, after the next midnight UTC of the store clock (when rules fall
due: every action is due at a midnight), every ``interval_s`` at most, and at once when
the clock moves (``Waker``) or a configuration is put. Between chunks the engine sleeps
``CHUNK_PAUSE_FACTOR`` times the chunk's duration, so requests keep most of the loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

import msgspec

from strata.errors import StrataError
from strata.service.background import PeriodicTask
from strata.service.objects.errors import NoSuchBucket
from strata.service.objects.lifecycle import rules
from strata.service.objects.lifecycle.configs import LifecycleConfigs
from strata.service.objects.lifecycle.rules import LifecycleConfiguration
from strata.service.objects.multipart import MultipartService, UploadRecord
from strata.service.objects.objects import ObjectService
from strata.service.objects.records import bucket_key, key_prefix, object_key_name
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.lifecycle")

INTERVAL_S: Final = 3600.0
CHUNK_VERSIONS: Final = 500
CHUNK_PAUSE_FACTOR: Final = 1.0  # sleep as long as a chunk took: half the loop at most
MOVES_CONCURRENT_MAX: Final = 4  # byte copies in flight (each reads and writes a version)
PROGRESS_EVERY: Final = 100_000  # versions between progress lines of a long pass
_POSITION: Final = keys.pack("s3.lifecycle.position")


class _Version(msgspec.Struct, frozen=True):
    """What lifecycle reads of a stored ``ObjectVersion`` (inline bytes are skipped)."""

    version_id: str
    stamp: int
    last_modified_ms: int
    delete_marker: bool = False
    size_bytes: int = 0
    tags: list[tuple[str, str]] = []
    storage_class: str = "STANDARD"


class _Position(msgspec.Struct, frozen=True):
    bucket: str
    after_key: str  # the last key whose versions were handled


@dataclass(slots=True)
class PassReport:
    examined: int = 0
    expired: int = 0
    noncurrent_expired: int = 0
    delete_markers_removed: int = 0
    transitioned: int = 0
    uploads_aborted: int = 0
    refused: int = 0
    duration_s: float = 0.0


class LifecycleEngine:
    def __init__(
        self,
        objects: ObjectService,
        configs: LifecycleConfigs,
        interval_s: float = INTERVAL_S,
        chunk_versions: int = CHUNK_VERSIONS,
    ) -> None:
        assert interval_s > 0
        assert chunk_versions > 0
        self.objects = objects
        self.uploads = MultipartService(objects)
        self.configs = configs
        self.store = objects.store
        self.interval_s = interval_s
        self.chunk_versions = chunk_versions
        self.totals = PassReport()  # of the passes completed since start
        self.current: PassReport | None = None  # the pass under way
        self.passes_total = 0
        self.last_pass_s = 0.0
        self._moves = asyncio.Semaphore(MOVES_CONCURRENT_MAX)
        self._task = PeriodicTask("strata-lifecycle", self.run_pass, interval_s, log)
        configs.on_change.append(self._task.wake)

    # -- the task ------------------------------------------------------------------------

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        """Stop between actions; what a chunk already did stays, and so does the position."""
        await self._task.stop()

    def _next_pause_s(self) -> float:
        """Until just after the next midnight UTC on the store clock, or ``interval_s``."""
        day_s = rules.DAY_MS / 1000
        to_midnight = day_s - self.store.clock.now_s() % day_s + 1.0
        return min(self.interval_s, to_midnight)

    # -- a pass --------------------------------------------------------------------------

    async def run_pass(self) -> PassReport:
        """Every configured bucket once, from the stored position if a pass was cut short."""
        started = time.monotonic()
        report = self.current = PassReport()
        try:
            await self._walk(report)
        finally:
            self.current = None
            self._add(report)
        report.duration_s = time.monotonic() - started
        self.passes_total += 1
        self.last_pass_s = report.duration_s
        self._task.interval_s = self._next_pause_s()
        if report.examined or report.uploads_aborted:
            log.info(
                "lifecycle pass: %d versions examined, %d expired, %d noncurrent expired, "
                "%d delete markers removed, %d transitioned, %d uploads aborted, %d refused "
                "in %.3f s",
                report.examined,
                report.expired,
                report.noncurrent_expired,
                report.delete_markers_removed,
                report.transitioned,
                report.uploads_aborted,
                report.refused,
                report.duration_s,
            )
        return report

    async def _walk(self, report: PassReport) -> None:
        now_ms = int(self.store.clock.now_s() * 1000)
        position = self._position()
        if position is not None:
            log.info(
                "lifecycle: resuming the pass a stop cut short, after %s/%s",
                position.bucket,
                position.after_key,
            )
        for bucket in sorted(self.configs.by_bucket):
            if position is not None and bucket < position.bucket:
                continue
            config = self.configs.get(bucket)
            if config is None or not config.enabled:
                continue
            if self.store.get(spaces.BUCKETS, bucket_key(bucket)) is None:
                continue
            after = (
                position.after_key if position is not None and position.bucket == bucket else None
            )
            try:
                await self._objects(bucket, config, now_ms, after, report)
                await self._abort_uploads(bucket, config, now_ms, report)
            except NoSuchBucket:
                continue  # deleted during the pass
        if position is not None or report.examined:
            await self._save_position(None)

    def _add(self, report: PassReport) -> None:
        totals = self.totals
        totals.examined += report.examined
        totals.expired += report.expired
        totals.noncurrent_expired += report.noncurrent_expired
        totals.delete_markers_removed += report.delete_markers_removed
        totals.transitioned += report.transitioned
        totals.uploads_aborted += report.uploads_aborted
        totals.refused += report.refused

    def _position(self) -> _Position | None:
        raw = self.store.get(spaces.META, _POSITION)
        return None if raw is None else records.decode(raw, _Position)

    async def _save_position(self, position: _Position | None) -> None:
        batch = WriteBatch()
        if position is None:
            batch.delete(spaces.META, _POSITION)
        else:
            batch.put(spaces.META, _POSITION, records.encode(position))
        await self.store.commit(batch)

    async def _objects(
        self,
        bucket: str,
        config: LifecycleConfiguration,
        now_ms: int,
        after: str | None,
        report: PassReport,
    ) -> None:
        prefix = bucket_key(bucket)
        end = keys.prefix_end(prefix)
        start = prefix if after is None else keys.prefix_end(key_prefix(bucket, after))
        assert start is not None
        assert end is not None
        while True:
            chunk_started = time.monotonic()
            chunk = self._read_chunk(bucket, start, end)
            if not chunk:
                return
            examined_before = report.examined
            report.examined += sum(len(versions) for _, versions in chunk)
            if report.examined // PROGRESS_EVERY > examined_before // PROGRESS_EVERY:
                log.info(
                    "lifecycle pass: %d versions examined so far (now in %s, at %s)",
                    report.examined,
                    bucket,
                    chunk[-1][0],
                )
            versioned = bool(self.objects.buckets.get(bucket).versioning)
            prefixes = tuple(rule.filter.prefix or "" for rule in config.enabled)
            plans = [
                (key, steps)
                for key, versions in chunk
                if key.startswith(prefixes)  # no rule can apply: nothing to decide
                and (steps := _plan(key, versions, config, now_ms, versioned))
            ]
            await asyncio.gather(
                *(self._run_steps(bucket, key, steps, report) for key, steps in plans)
            )
            last_key = chunk[-1][0]
            await self._save_position(_Position(bucket, last_key))
            start = keys.prefix_end(key_prefix(bucket, last_key))
            assert start is not None
            await asyncio.sleep(CHUNK_PAUSE_FACTOR * (time.monotonic() - chunk_started))

    def _read_chunk(
        self, bucket: str, start: bytes, end: bytes
    ) -> list[tuple[str, list[_Version]]]:
        """Whole keys from ``start``, about ``chunk_versions`` versions (no await: one view)."""
        chunk: list[tuple[str, list[_Version]]] = []
        bucket_bytes = len(bucket_key(bucket))
        for read, (raw_key, value) in enumerate(self.store.scan(spaces.OBJECTS, start, end)):
            key = object_key_name(raw_key, bucket_bytes)
            if not chunk or chunk[-1][0] != key:
                if read >= self.chunk_versions:
                    break
                chunk.append((key, []))
            chunk[-1][1].append(records.decode(value, _Version))
        return chunk

    # -- one key: its steps, in order ---------------------------------------------------

    async def _run_steps(
        self, bucket: str, key: str, steps: list[_Step], report: PassReport
    ) -> None:
        for kind, version, target in steps:
            if kind == "move":
                if await self._move(bucket, key, version, target):
                    report.transitioned += 1
            elif kind == "marker":
                if await self._add_delete_marker(bucket, key, version):
                    report.expired += 1
            else:
                await self._remove(bucket, key, version, report, kind)

    # -- actions: each checks what it decided on is still stored, then acts ---------------

    async def _remove(
        self, bucket: str, key: str, version: _Version, report: PassReport, counter: str
    ) -> bool:
        """Remove one version through DeleteObject's path, counted in ``report``'s
        ``counter``; False if it changed meanwhile or was refused (object lock)."""
        if counter != "noncurrent_expired":  # the key's current version: still it?
            found = list(itertools.islice(self.objects.versions(bucket, key), 2))
            if not found or found[0][1].stamp != version.stamp:
                return False  # overwritten since it was read: not this pass's decision
            if version.delete_marker and len(found) > 1:
                return False  # a noncurrent version was kept (refused): not a sole marker
        # No await from the check to the delete's batch (``delete`` applies before waiting).
        done = await self._refusable(
            self.objects.delete(bucket, key, version.version_id), bucket, key, version
        )
        if done:
            setattr(report, counter, getattr(report, counter) + 1)
        else:
            report.refused += 1
        return done

    async def _add_delete_marker(self, bucket: str, key: str, version: _Version) -> bool:
        found = self.objects.current(bucket, key)
        if found is None or found.stamp != version.stamp:
            return False
        # No await from the check to the marker's batch.
        return await self._refusable(self.objects.delete(bucket, key), bucket, key, version)

    async def _move(self, bucket: str, key: str, version: _Version, storage_class: str) -> bool:
        volume = self.objects.volume_for(storage_class).name
        async with self._moves:
            return await self._refusable(
                self.objects.move(bucket, key, version.version_id, volume, storage_class),
                bucket,
                key,
                version,
            )

    async def _refusable(
        self, action: Awaitable[object], bucket: str, key: str, version: _Version
    ) -> bool:
        try:
            await action
        except StrataError as exc:
            log.warning(
                "lifecycle: %s/%s version %s left as is: %s",
                bucket,
                key,
                version.version_id,
                exc,
            )
            return False
        return True

    async def _abort_uploads(
        self, bucket: str, config: LifecycleConfiguration, now_ms: int, report: PassReport
    ) -> None:
        if not any(rule.enabled and rule.abort_days is not None for rule in config.rules):
            return
        prefix = bucket_key(bucket)
        due: list[UploadRecord] = []
        for _, raw in self.store.scan(spaces.UPLOADS, prefix, keys.prefix_end(prefix)):
            upload = records.decode(raw, UploadRecord)
            abort = rules.upload_abort(config, upload.key, upload.initiated_ms)
            if abort is not None and abort.at_ms <= now_ms:
                due.append(upload)
        for upload in due:
            try:
                await self.uploads.abort(bucket, upload.key, upload.upload_id)
            except StrataError:
                continue  # completed or aborted meanwhile
            report.uploads_aborted += 1


MetricKind = Literal["gauge", "counter"]


_Step = tuple[str, _Version, str]  # (what, the version it was decided on, target class)


def _plan(
    key: str,
    versions: list[_Version],
    config: LifecycleConfiguration,
    now_ms: int,
    versioned: bool,
) -> list[_Step]:
    """What is due for one key (its versions newest first), decided from the stored state
    alone: noncurrent versions first, then the current version or the sole delete marker."""
    steps: list[_Step] = []
    current = versions[0]
    left = len(versions)
    for index in range(1, len(versions)):
        version = versions[index]
        since_ms = versions[index - 1].last_modified_ms  # noncurrent since its successor
        newer = index - 1  # noncurrent versions newer than this one
        size = None if version.delete_marker else version.size_bytes
        due = rules.noncurrent_expiration(config, key, version.tags, size, since_ms, newer)
        if due is not None and due.at_ms <= now_ms:
            steps.append(("noncurrent_expired", version, ""))
            left -= 1
            continue
        if version.delete_marker:
            continue
        planned = rules.noncurrent_transitions(
            config, key, version.tags, version.size_bytes, since_ms, newer
        )
        move = rules.latest_move(planned, version.storage_class, now_ms)
        if move is not None:
            steps.append(("move", version, move.storage_class))
    if current.delete_marker:
        sole = left == 1
        if sole and rules.removes_delete_marker(config, key, current.last_modified_ms, now_ms):
            steps.append(("delete_markers_removed", current, ""))
        return steps
    due = rules.expiration(config, key, current.tags, current.size_bytes, current.last_modified_ms)
    expire = due is not None and due.at_ms <= now_ms
    if expire and not versioned:
        steps.append(("expired", current, ""))
        return steps
    planned = rules.transitions(
        config, key, current.tags, current.size_bytes, current.last_modified_ms
    )
    move = rules.latest_move(planned, current.storage_class, now_ms)
    if move is not None:
        steps.append(("move", current, move.storage_class))
    if expire:
        steps.append(("marker", current, ""))
    return steps


def _live(engine: LifecycleEngine, read: Callable[[PassReport], int]) -> Callable[[], float]:
    """A counter of the completed passes plus the one under way."""

    def value() -> float:
        current = engine.current
        return float(read(engine.totals) + (read(current) if current is not None else 0))

    return value


def metrics_readers(
    engine: LifecycleEngine,
) -> dict[str, tuple[str, Callable[[], float], MetricKind]]:
    """The engine's metric families: name -> (help, read, kind)."""
    return {
        "strata_lifecycle_passes_total": (
            "Complete lifecycle passes over every configured bucket.",
            lambda: float(engine.passes_total),
            "counter",
        ),
        "strata_lifecycle_pass_duration_seconds": (
            "Duration of the last complete lifecycle pass.",
            lambda: engine.last_pass_s,
            "gauge",
        ),
        "strata_lifecycle_examined_versions_total": (
            "Object versions (and delete markers) the lifecycle engine examined.",
            _live(engine, lambda r: r.examined),
            "counter",
        ),
        "strata_lifecycle_expired_total": (
            "Current versions expired (removed, or a delete marker added when versioned).",
            _live(engine, lambda r: r.expired),
            "counter",
        ),
        "strata_lifecycle_noncurrent_expired_total": (
            "Noncurrent versions removed by NoncurrentVersionExpiration.",
            _live(engine, lambda r: r.noncurrent_expired),
            "counter",
        ),
        "strata_lifecycle_delete_markers_removed_total": (
            "Sole delete markers removed by ExpiredObjectDeleteMarker.",
            _live(engine, lambda r: r.delete_markers_removed),
            "counter",
        ),
        "strata_lifecycle_transitioned_total": (
            "Versions moved to a colder storage class by a transition.",
            _live(engine, lambda r: r.transitioned),
            "counter",
        ),
        "strata_lifecycle_uploads_aborted_total": (
            "Incomplete multipart uploads aborted by AbortIncompleteMultipartUpload.",
            _live(engine, lambda r: r.uploads_aborted),
            "counter",
        ),
        "strata_lifecycle_refused_total": (
            "Lifecycle actions the objects service refused (a locked version), left undone.",
            _live(engine, lambda r: r.refused),
            "counter",
        ),
    }
