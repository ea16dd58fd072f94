"""Stored data checked against itself: the background scrub and ``strata verify``.

A version's bytes (extents, or blob files of the format before volumes) must exist, be
as long as its segments say (compressed frames must decode), and hash to its
ETag (the MD5 of the bytes, or of each part's MD5 for a multipart upload). Records
(inline bytes among them) are checked by reading every one with RocksDB's block
checksums verified, in chunks of ``CHUNK_RECORDS`` that leave the block cache alone.

The scrub first reads every space's records, then walks every version kept in blobs,
reading them in a worker thread and sleeping so that it reads about
``SCRUB_BYTES_PER_S`` on average: a pass over 100 GB of blobs takes ~30 min at the
default rate and leaves the disk to requests. Damage is logged at ERROR with the space or
the object named and counted for ``/_strata/metrics``; it is not repaired (one copy only).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from strata.errors import DataCorruption, StorageFault
from strata.service.background import BackgroundTask
from strata.service.objects.encryption import CustomerKeyed, Encryptions
from strata.service.objects.locator import Locator
from strata.service.objects.records import ObjectVersion, decode_object_key
from strata.storage import records, spaces
from strata.storage.checksums import etag
from strata.storage.store import Store
from strata.storage.volumes.reader import BlobReader

log = logging.getLogger("strata.scrub")

SCRUB_BYTES_PER_S: Final = 64 * 1024 * 1024
CHUNK_VERSIONS: Final = 100  # versions read from OBJECTS per loop turn
CHUNK_RECORDS: Final = 1000  # records verified per loop turn (a few ms)
CHUNK_PAUSE_FACTOR: Final = 3.0  # after a chunk of records, sleep 3x what it took
_READ_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Damage:
    bucket: str
    key: str
    version_id: str
    problem: str

    def __str__(self) -> str:
        return f"{self.bucket}/{self.key} version {self.version_id}: {self.problem}"


def check_version(
    locator: Locator, version: ObjectVersion, encryptions: Encryptions | None = None
) -> str | None:
    """What is wrong with the stored bytes of ``version``, or None. Resolves on the calling
    thread, then reads them whole (blocking: the scrub runs it in a worker thread)."""
    if version.inline is not None or not version.segments:
        return None
    try:
        readers = version_readers(locator, version, encryptions)
    except DataCorruption as exc:
        return exc.detail
    return check_readers(version, readers)


_NO_KEY: Final = bytes(32)  # SSE-C: readers whose files are checked, never read


def version_readers(
    locator: Locator, version: ObjectVersion, encryptions: Encryptions | None
) -> list[BlobReader] | None:
    """One reader per segment, decrypting with the version's data key; ``None`` readers
    for bytes the server cannot read (SSE-C, or no master key given to ``strata verify``):
    only their files' presence and size are checked, here."""
    if version.encryption is None:
        return locator.segment_readers(version.segments)
    if encryptions is not None:
        try:
            data_key = encryptions.stored_data_key("", version.encryption)
        except CustomerKeyed:
            data_key = None
        if data_key is not None:
            return locator.segment_readers(version.segments, data_key)
    for reader in locator.segment_readers(version.segments, _NO_KEY):
        reader.check()
    return None


def check_readers(version: ObjectVersion, readers: list[BlobReader] | None) -> str | None:
    """``readers`` (one per segment) against the version's ETag; blocking."""
    if readers is None:
        return None  # checked for presence and size only (``version_readers``)
    md5s: list[bytes] = []
    whole = hashlib.md5()
    parts = len(version.part_sizes)
    try:
        for reader in readers:
            reader.check()
            part = hashlib.md5()
            for chunk in reader.chunks():
                (part if parts else whole).update(chunk)
            md5s.append(part.digest())
    except DataCorruption as exc:
        return exc.detail
    if parts and len(md5s) != parts:
        return None  # segments are not one per part: the ETag cannot be recomputed
    computed = etag(md5s if parts else [whole.digest()], parts)
    if computed != version.etag:
        names = ", ".join(s.blob_id for s in version.segments)
        return f"bytes of {names} hash to {computed}, the record says {version.etag}"
    return None


def versions_with_blobs(store: Store, start: bytes = b"") -> Iterator[tuple[bytes, ObjectVersion]]:
    """Every stored version that keeps its bytes in blobs, in key order from ``start``."""
    for raw_key, value in store.scan(spaces.OBJECTS, start):
        version = records.decode(value, ObjectVersion)
        if version.inline is None and version.segments:
            yield raw_key, version


def damage_of(raw_key: bytes, version: ObjectVersion, problem: str) -> Damage:
    bucket, key, _ = decode_object_key(raw_key)
    return Damage(bucket, key, version.version_id, problem)


class Scrubber:
    """Background task: every ``interval_s``, one paced pass over every record and blob."""

    def __init__(
        self,
        store: Store,
        locator: Locator,
        interval_s: float,
        encryptions: Encryptions | None = None,
    ) -> None:
        self.store = store
        self.locator = locator
        self.encryptions = encryptions
        self.interval_s = interval_s
        self.bytes_per_s = SCRUB_BYTES_PER_S
        self.passes_total = 0  # complete passes since start
        self.checked_total = 0  # versions verified since start
        self.damaged_total = 0  # damaged versions found since start (each pass counts)
        self.damaged_last_pass = 0  # found by the last complete pass: the gauge to alert on
        self.damaged_spaces_last_pass = 0  # spaces whose records failed their checksums
        self._task = BackgroundTask("strata-scrub", self._run)

    def start(self) -> None:
        if self.interval_s > 0:
            self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.scrub()
            except Exception:  # damage in RocksDB itself, or a bug: say so, go on next time
                log.exception("scrub pass failed")

    async def scrub(self) -> list[Damage]:
        """One pass over every record and every version's blobs; returns (and logs) the
        damaged objects found (damaged spaces are counted in ``damaged_spaces_last_pass``)."""
        started = time.monotonic()
        damaged_spaces = 0
        for space in spaces.ALL:
            if not await self._check_space(space):
                damaged_spaces += 1
        self.damaged_spaces_last_pass = damaged_spaces
        found: list[Damage] = []
        after = b""
        checked = 0
        while True:
            chunk = self._next_chunk(after)
            if not chunk:
                break
            after = chunk[-1][0] + b"\x00"  # the first key after the chunk's last
            for raw_key, version in chunk:
                read_started = time.monotonic()
                try:
                    readers = version_readers(self.locator, version, self.encryptions)
                except DataCorruption as exc:
                    problem: str | None = exc.detail
                else:
                    problem = await asyncio.to_thread(check_readers, version, readers)
                if problem is not None and self.store.get(spaces.OBJECTS, raw_key) is not None:
                    damage = damage_of(raw_key, version, problem)
                    log.error("scrub: damaged object %s", damage)
                    found.append(damage)
                    self.damaged_total += 1
                checked += 1
                self.checked_total += 1
                # Pace: sleep what reading these bytes should have taken at the rate.
                budget_s = version.size_bytes / self.bytes_per_s
                await asyncio.sleep(max(0.0, budget_s - (time.monotonic() - read_started)))
        self.passes_total += 1
        self.damaged_last_pass = len(found)
        log.info(
            "scrub: every space read (%d damaged), %d objects in blobs checked (%d damaged) "
            "in %.1f s",
            damaged_spaces,
            checked,
            len(found),
            time.monotonic() - started,
        )
        return found

    async def _check_space(self, space: str) -> bool:
        """Read every record of ``space``, a chunk per loop turn; False if damaged."""
        position: bytes | None = b""
        while position is not None:
            chunk_started = time.monotonic()
            try:
                position = self.store.check_records(space, position, CHUNK_RECORDS)
            except StorageFault as exc:
                log.error("scrub: space %s is damaged: %s", space, exc.detail)
                return False
            await asyncio.sleep(CHUNK_PAUSE_FACTOR * (time.monotonic() - chunk_started))
        return True

    def _next_chunk(self, after: bytes) -> list[tuple[bytes, ObjectVersion]]:
        chunk: list[tuple[bytes, ObjectVersion]] = []
        for item in versions_with_blobs(self.store, after):
            chunk.append(item)
            if len(chunk) >= CHUNK_VERSIONS:
                break
        return chunk
