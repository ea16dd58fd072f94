"""Volumes: named directories of extent files, each with a policy, and the storage class map.

Policies: ``hot`` keeps bytes plain (GETs may use sendfile); ``cold`` compresses with zstd
when it pays; ``archive`` compresses harder (its bytes are read only after a restore,
which the objects service enforces). Storage classes map to volumes by configuration
(``DEFAULT_CLASS_VOLUMES`` unless overridden); a class that names no known volume is a
start-up error.

Each volume keeps, in memory, the stored bytes its live extents hold per file (built by
one scan of the ``EXTENTS`` space at start-up, then kept by every commit that creates
or frees an extent): what compaction picks files by, and the reclaimable-bytes metric.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from strata.storage.disk import DiskGuard
from strata.storage.store import Store
from strata.storage.volumes.extent import Extent, all_extents
from strata.storage.volumes.files import ExtentFiles, punch_hole

log = logging.getLogger("strata.volumes")

# Dead extent files start-up may always remove, whatever their share: the files a crash
# leaves (a run's active file holding only unacknowledged writes).
DEAD_FILES_ALWAYS_ALLOWED: Final = 8

Policy = Literal["hot", "cold", "archive"]
POLICIES: Final[tuple[Policy, ...]] = ("hot", "cold", "archive")
COMPRESSION_LEVELS: Final[dict[str, int]] = {"cold": 3, "archive": 9}

DEFAULT_CLASS_VOLUMES: Final[dict[str, str]] = {
    "STANDARD": "hot",
    "REDUCED_REDUNDANCY": "hot",
    "EXPRESS_ONEZONE": "hot",
    "INTELLIGENT_TIERING": "hot",  # its frequent tier; the infrequent tiers are "cold"
    "STANDARD_IA": "cold",
    "ONEZONE_IA": "cold",
    "GLACIER_IR": "cold",
    "GLACIER": "archive",
    "DEEP_ARCHIVE": "archive",
}


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    policy: Policy
    directory: str


class Volume:
    """One volume: its files, its policy and the live bytes of each of its files."""

    def __init__(self, spec: VolumeSpec, disk: DiskGuard | None) -> None:
        self.spec = spec
        self.name = spec.name
        self.policy = spec.policy
        self.files = ExtentFiles(spec.directory, disk)
        self.live_bytes: dict[str, int] = {}  # file name -> stored bytes of live extents
        self.compression_level = COMPRESSION_LEVELS.get(spec.policy)
        self.generation = 0  # bumped when the directory is replaced (restore, reset)

    @property
    def compressed(self) -> bool:
        return self.compression_level is not None

    def added(self, extent: Extent) -> None:
        self.live_bytes[extent.file] = self.live_bytes.get(extent.file, 0) + extent.stored_bytes

    def freed(self, extent: Extent) -> None:
        left = self.live_bytes.get(extent.file, 0) - extent.stored_bytes
        if left > 0:
            self.live_bytes[extent.file] = left
        else:
            self.live_bytes.pop(extent.file, None)

    def file_bytes(self) -> dict[str, int]:
        """Every extent file on disk and the bytes it occupies (allocated blocks)."""
        sizes = {}
        for name in self.files.names():
            try:
                sizes[name] = os.stat(self.files.path(name)).st_blocks * 512
            except FileNotFoundError:
                continue
        return sizes


class Volumes:
    """Every volume of the store, and which one each storage class writes to."""

    def __init__(
        self,
        specs: Iterable[VolumeSpec],
        class_volumes: Mapping[str, str] | None = None,
        disk: DiskGuard | None = None,
    ) -> None:
        self.by_name: dict[str, Volume] = {spec.name: Volume(spec, disk) for spec in specs}
        self.class_volumes = dict(DEFAULT_CLASS_VOLUMES)
        self.class_volumes.update(class_volumes or {})
        for storage_class, name in self.class_volumes.items():
            if name not in self.by_name:
                raise ValueError(f"storage class {storage_class} maps to unknown volume {name}")
        self.generation = 0  # bumped when the directories are replaced (restore, reset)

    def __getitem__(self, name: str) -> Volume:
        return self.by_name[name]

    def for_class(self, storage_class: str) -> Volume:
        return self.by_name[self.class_volumes.get(storage_class, "hot")]

    def path(self, extent: Extent) -> str:
        return self.by_name[extent.volume].files.path(extent.file)

    def give_back(self, extent: Extent) -> None:
        """Punch out an extent nothing will reference (its write's batch failed)."""
        try:
            fd = os.open(self.path(extent), os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            punch_hole(fd, extent.offset, extent.stored_bytes)
        finally:
            os.close(fd)

    def load(self, store: Store) -> None:
        """Rebuild the per-file live bytes from the ``EXTENTS`` space (start-up, restore)."""
        for volume in self.by_name.values():
            volume.live_bytes.clear()
        for _, extent in all_extents(store):
            owner = self.by_name.get(extent.volume)
            if owner is not None:
                owner.added(extent)

    def remove_dead_files(self, fraction_max: float = 1.0) -> int:
        """At start-up: extent files no live extent uses (what crashes and compaction left
        behind). Returns how many were removed.

        As for blob files: when more than ``fraction_max`` of the files (and more than
        ``DEAD_FILES_ALWAYS_ALLOWED``) look dead, the records are more likely lost than
        the files orphaned, and none is removed (logged at ERROR)."""
        dead: list[tuple[Volume, str]] = []
        total = 0
        for volume in self.by_name.values():
            in_use = volume.files.in_use()
            for name in volume.files.names():
                total += 1
                if name not in volume.live_bytes and name not in in_use:
                    dead.append((volume, name))
        if len(dead) > max(DEAD_FILES_ALWAYS_ALLOWED, int(fraction_max * total)):
            log.error(
                "start-up: %d of %d extent files hold no referenced extent, more than "
                "startup_gc_fraction_max = %g allows: none removed",
                len(dead),
                total,
                fraction_max,
            )
            return 0
        for volume, name in dead:
            volume.files.remove(name)
            log.info(
                "start-up: removed extent file %s of volume %s (no live extent)", name, volume.name
            )
        return len(dead)

    def replaced(self, store: Store) -> None:
        """The directories now hold another store's files (restore, reset)."""
        self.generation += 1
        for volume in self.by_name.values():
            volume.generation += 1
            volume.files.close()
            os.makedirs(volume.spec.directory, exist_ok=True)
        self.load(store)

    def close(self) -> None:
        for volume in self.by_name.values():
            volume.files.close()


def default_specs(data_dir: str, directories: Mapping[str, str] | None = None) -> list[VolumeSpec]:
    """The three volumes, under ``data_dir/volumes/`` unless a directory is configured."""
    directories = directories or {}
    return [
        VolumeSpec(name, name, directories.get(name) or os.path.join(data_dir, "volumes", name))
        for name in POLICIES
    ]
