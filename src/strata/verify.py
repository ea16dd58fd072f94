"""``strata verify``: read everything a stopped server's data directory holds, and say
what is damaged.

Every key of every space is read with block checksums verified (so every data block of
every SST file is checked), the WAL is replayed as start-up would (and checked against
its mark), and every object kept in blobs is read whole and hashed against its ETag.
Exit status: 0 nothing damaged, 1 damage found, 2 the check could not run (no
database, or a server holds it: verify runs on a stopped server's data directory).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Final, TextIO

from strata import datadir
from strata.datadir import DataDirInUse
from strata.engine.rocksdb import WalDamaged
from strata.errors import StorageFault
from strata.service.objects.encryption import Encryptions
from strata.service.objects.locator import Locator
from strata.service.objects.scrub import check_version, damage_of, versions_with_blobs
from strata.storage import master_key, spaces
from strata.storage.blobs import BlobStore, blob_files_present
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore
from strata.storage.volumes.files import extent_files_present
from strata.storage.volumes.volume import Volumes, default_specs

PROGRESS_EVERY_S: Final = 2.0


class _Report:
    def __init__(self, out: TextIO, progress: TextIO) -> None:
        self.out = out
        self.progress = progress
        self.problems: list[str] = []
        self._last_progress = time.monotonic()

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def damage(self, text: str) -> None:
        self.problems.append(text)
        self.line(f"  DAMAGED: {text}")

    def tick(self, text: str) -> None:
        """A progress line on long scans, at most every ``PROGRESS_EVERY_S``."""
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            print(f"  ... {text}", file=self.progress, flush=True)


def verify(
    data_dir: str,
    out: TextIO = sys.stdout,
    progress: TextIO = sys.stderr,
    volume_dirs: Mapping[str, str] | None = None,
) -> int:
    data_dir = os.path.abspath(data_dir)
    report = _Report(out, progress)
    if not os.path.isdir(data_dir):
        report.line(f"no data directory {data_dir}: nothing to verify")
        return 2
    try:
        held = datadir.lock(data_dir)
    except DataDirInUse as exc:
        report.line(f"the database is locked: {exc}. Stop the server first.")
        return 2
    try:
        return _verify_locked(data_dir, report, volume_dirs or {})
    finally:
        held.release()


def _verify_locked(data_dir: str, report: _Report, volume_dirs: Mapping[str, str]) -> int:
    db_path = os.path.join(data_dir, "db")
    blobs_root = os.path.join(data_dir, "blobs")
    report.line(f"strata verify {data_dir}")
    if not os.path.exists(os.path.join(db_path, "CURRENT")):
        if blob_files_present(blobs_root) or extent_files_present(
            os.path.join(data_dir, "volumes")
        ):
            report.damage(f"no database in {db_path}, but blob files in {blobs_root}")
            return 1
        report.line(f"no database in {db_path}: nothing to verify")
        return 2
    try:
        store = LocalStore(db_path, SystemClock())
    except WalDamaged as exc:
        report.damage(f"WAL: {exc}")
        return 1
    except Exception as exc:
        if "lock" in str(exc).lower():
            report.line(f"the database is locked ({exc}): is a server running? Stop it first.")
            return 2
        report.damage(f"the database does not open: {exc}")
        return 1
    try:
        for space in spaces.ALL:
            _verify_space(store, space, report)
        volumes = Volumes(default_specs(data_dir, volume_dirs))
        encryptions = _encryptions(data_dir, report)
        segment_key = encryptions.segment_key if encryptions is not None else None
        locator = Locator(store, BlobStore(blobs_root), volumes, segment_key)
        _verify_blobs(store, locator, encryptions, report)
    finally:
        store.close()
    if report.problems:
        report.line(f"DAMAGED: {len(report.problems)} problem(s) found")
        return 1
    report.line("OK: nothing damaged")
    return 0


def _verify_space(store: LocalStore, space: str, report: _Report) -> None:
    count = size = 0
    try:
        for key, value in store.scan(space, b""):
            count += 1
            size += len(key) + len(value)
            if count % 10_000 == 0:
                report.tick(f"space {space}: {count} records")
    except StorageFault as exc:
        report.damage(f"space {space}, after {count} records: {exc.detail}")
        return
    report.line(f"  space {space}: {count} records, {size} bytes")


def _encryptions(data_dir: str, report: _Report) -> Encryptions | None:
    """The master key (STRATA_MASTER_KEY, else data-dir/master.key) to decrypt SSE-S3
    objects with; without one they are checked for presence and size only."""
    setting = os.environ.get("STRATA_MASTER_KEY")
    if not setting and not os.path.exists(os.path.join(data_dir, master_key.FILE_NAME)):
        report.line("  no master key: encrypted objects are checked for size only")
        return None
    try:
        return Encryptions(master_key.load_master_key(data_dir, setting, ""))
    except master_key.MasterKeyError as exc:
        report.damage(f"master key: {exc}")
        return None


def _verify_blobs(
    store: LocalStore, locator: Locator, encryptions: Encryptions | None, report: _Report
) -> None:
    checked = size = damaged = 0
    try:
        for raw_key, version in versions_with_blobs(store):
            problem = check_version(locator, version, encryptions)
            if problem is not None:
                damaged += 1
                report.damage(str(damage_of(raw_key, version, problem)))
            checked += 1
            size += version.size_bytes
            report.tick(f"blobs: {checked} objects, {size} bytes")
    except StorageFault as exc:  # OBJECTS itself is damaged: reported above already
        report.line(f"  blobs: stopped after {checked} objects: {exc.detail}")
    report.line(f"  blobs: {checked} objects checked, {size} bytes, {damaged} damaged")
