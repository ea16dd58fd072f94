"""Intelligent-Tiering's access tiers: when an object is due in which, and which volume
holds each.

S3 moves an ``INTELLIGENT_TIERING`` object by how long it went without access (a GET or a
copy): Frequent, then Infrequent after 30 days, Archive Instant after 90; the opt-in
Archive Access (90-730 days) and Deep Archive Access (180-730) tiers only where a bucket's
configuration asks for them, and those need a RestoreObject before a GET. Objects under
128 KB are not monitored and stay Frequent. An access brings an object in Infrequent or
Archive Instant back to Frequent; only a restore brings one out of an archive tier.

Each tier's bytes live in a volume: by default Frequent in the class's own volume (hot),
Infrequent in the cold one, every archive tier in the archive one, so each move really
moves bytes. ``storage_class_volumes`` overrides them with the pseudo-classes
``INTELLIGENT_TIERING_INFREQUENT``, ``..._ARCHIVE_INSTANT``, ``..._ARCHIVE_ACCESS`` and
``..._DEEP_ARCHIVE_ACCESS``.
"""

from __future__ import annotations

from typing import Final

from strata.service.objects.records import ARCHIVE_TIERS
from strata.storage.volumes.volume import Volumes

STORAGE_CLASS: Final = "INTELLIGENT_TIERING"
FREQUENT: Final = ""  # how the record stores it (the default: no field written)
INFREQUENT: Final = "INFREQUENT"
ARCHIVE_INSTANT: Final = "ARCHIVE_INSTANT"
ARCHIVE_ACCESS: Final = "ARCHIVE_ACCESS"
DEEP_ARCHIVE_ACCESS: Final = "DEEP_ARCHIVE_ACCESS"
assert frozenset({ARCHIVE_ACCESS, DEEP_ARCHIVE_ACCESS}) == ARCHIVE_TIERS

MONITORED_BYTES_MIN: Final = 128 * 1024  # smaller objects stay Frequent
INFREQUENT_DAYS: Final = 30
ARCHIVE_INSTANT_DAYS: Final = 90
DAY_MS: Final = 86_400_000

_DEFAULT_VOLUMES: Final = {
    INFREQUENT: "cold",
    ARCHIVE_INSTANT: "archive",
    ARCHIVE_ACCESS: "archive",
    DEEP_ARCHIVE_ACCESS: "archive",
}
# How deep each tier is: an object only moves deeper by age, shallower by access/restore.
DEPTH: Final = {FREQUENT: 0, INFREQUENT: 1, ARCHIVE_INSTANT: 2, ARCHIVE_ACCESS: 3,
                DEEP_ARCHIVE_ACCESS: 4}  # fmt: skip


def tier_volume(volumes: Volumes, tier: str) -> str:
    """The volume that holds ``tier``'s bytes (configurable per tier, see above)."""
    if tier == FREQUENT:
        return volumes.class_volumes.get(STORAGE_CLASS, "hot")
    configured = volumes.class_volumes.get(f"{STORAGE_CLASS}_{tier}")
    return configured or _DEFAULT_VOLUMES[tier]


def due_tier(
    current: str,
    size_bytes: int,
    idle_ms: int,
    archive_days: int | None,
    deep_archive_days: int | None,
) -> str:
    """The tier an object belongs in after ``idle_ms`` without access, given the opt-in
    tiers' days the bucket's matching configurations ask for (None: not asked).

    An object in an archive tier stays at least that deep: only a restore lifts it."""
    if size_bytes < MONITORED_BYTES_MIN:
        return current if current in ARCHIVE_TIERS else FREQUENT
    idle_days = idle_ms / DAY_MS
    if deep_archive_days is not None and idle_days >= deep_archive_days:
        due = DEEP_ARCHIVE_ACCESS
    elif archive_days is not None and idle_days >= archive_days:
        due = ARCHIVE_ACCESS
    elif idle_days >= ARCHIVE_INSTANT_DAYS:
        due = ARCHIVE_INSTANT
    elif idle_days >= INFREQUENT_DAYS:
        due = INFREQUENT
    else:
        due = FREQUENT
    if current in ARCHIVE_TIERS and DEPTH[due] < DEPTH[current]:
        return current
    return due
