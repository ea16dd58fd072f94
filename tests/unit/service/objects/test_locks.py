"""Object Lock's rules, as pure functions of a version, the time and the bypass: what may be
removed, and which retention changes are allowed (``service/objects/locks.py``)."""

from __future__ import annotations

import msgspec
import pytest

from strata.service.objects import locks
from strata.service.objects.lifecycle.engine import _Version
from strata.service.objects.locks import COMPLIANCE, GOVERNANCE, Lock, ObjectLocked
from strata.service.objects.records import (
    BucketRecord,
    DefaultRetention,
    ListedVersion,
    ObjectVersion,
)
from strata.service.objects.tiering.engine import TieringView
from strata.storage import records

NOW = 1_800_000_000_000
LATER = NOW + 10_000


def version(mode: str = "", until_ms: int = 0, hold: str = "") -> ObjectVersion:
    return ObjectVersion("v", 1, NOW, lock_mode=mode, lock_until_ms=until_ms, legal_hold=hold)


@pytest.mark.parametrize(
    ("stored", "bypass", "removable"),
    [
        (version(), False, True),
        (version(GOVERNANCE, LATER), False, False),
        (version(GOVERNANCE, LATER), True, True),
        (version(COMPLIANCE, LATER), True, False),
        (version(COMPLIANCE, NOW), False, True),  # retain-until reached: free
        (version(hold="ON"), True, False),
        (version(COMPLIANCE, NOW - 1, "ON"), True, False),
        (version(GOVERNANCE, LATER, "OFF"), True, True),
    ],
)
def test_removal(stored: ObjectVersion, bypass: bool, removable: bool) -> None:
    if removable:
        locks.check_removal(stored, NOW, bypass)
    else:
        with pytest.raises(ObjectLocked):
            locks.check_removal(stored, NOW, bypass)


@pytest.mark.parametrize(
    ("stored", "new", "bypass", "allowed"),
    [
        (version(GOVERNANCE, LATER), Lock(GOVERNANCE, LATER + 1), False, True),
        (version(GOVERNANCE, LATER), Lock(COMPLIANCE, LATER), False, True),
        (version(GOVERNANCE, LATER), Lock(GOVERNANCE, LATER - 1), False, False),
        (version(GOVERNANCE, LATER), Lock(GOVERNANCE, LATER - 1), True, True),
        (version(GOVERNANCE, LATER), Lock(), False, False),
        (version(GOVERNANCE, LATER), Lock(), True, True),
        (version(COMPLIANCE, LATER), Lock(COMPLIANCE, LATER + 1), False, True),
        (version(COMPLIANCE, LATER), Lock(COMPLIANCE, LATER - 1), True, False),
        (version(COMPLIANCE, LATER), Lock(GOVERNANCE, LATER + 1), True, False),
        (version(COMPLIANCE, LATER), Lock(), True, False),
        (version(COMPLIANCE, NOW - 1), Lock(), False, True),  # expired: anything goes
        (version(), Lock(GOVERNANCE, LATER), False, True),
    ],
)
def test_retention_change(stored: ObjectVersion, new: Lock, bypass: bool, allowed: bool) -> None:
    if allowed:
        locks.check_retention_change(stored, new, NOW, bypass)
    else:
        with pytest.raises(ObjectLocked):
            locks.check_retention_change(stored, new, NOW, bypass)


def test_new_versions_lock() -> None:
    plain = BucketRecord("b", 0, "us-east-1")
    assert locks.version_lock(plain, None, NOW) == locks.NO_LOCK
    locked = msgspec.structs.replace(plain, versioning="Enabled", object_lock=True)
    assert locks.version_lock(locked, None, NOW) == locks.NO_LOCK
    asked = Lock(COMPLIANCE, LATER, "ON")
    assert locks.version_lock(locked, asked, NOW) == asked
    days = msgspec.structs.replace(locked, lock_default=DefaultRetention(GOVERNANCE, days=2))
    assert locks.version_lock(days, Lock(legal_hold="OFF"), NOW) == Lock(
        GOVERNANCE, NOW + 2 * locks.DAY_MS, "OFF"
    )
    assert locks.version_lock(days, asked, NOW) == asked  # what the write asked wins
    years = msgspec.structs.replace(locked, lock_default=DefaultRetention(COMPLIANCE, years=1))
    assert locks.version_lock(years, None, NOW).until_ms == NOW + 365 * locks.DAY_MS
    assert locks.needs_digest(days, None)
    assert not locks.needs_digest(locked, Lock(legal_hold="ON"))
    assert locks.needs_digest(locked, asked)


def test_records_written_with_every_field_read_the_same() -> None:
    """``ObjectVersion`` omits default fields when it writes; records that wrote them all
    (every store before) decode to the same version."""
    full = msgspec.defstruct(
        "Full",
        [
            (f.name, f.type)
            if f.required
            else (f.name, f.type, msgspec.field(default_factory=f.default_factory))
            if f.default_factory is not msgspec.NODEFAULT
            else (f.name, f.type, f.default)
            for f in msgspec.structs.fields(ObjectVersion)
        ],
        frozen=True,
    )
    stored = version(GOVERNANCE, LATER)
    everything = full(**msgspec.structs.asdict(stored))
    assert len(records.encode(everything)) > len(records.encode(stored))
    assert records.decode(records.encode(everything), ObjectVersion) == stored
    assert records.decode(records.encode(stored), ObjectVersion) == stored


@pytest.mark.parametrize("view", [ListedVersion, _Version, TieringView])
def test_narrow_views_keep_the_record_defaults(view: type[msgspec.Struct]) -> None:
    """A field the record leaves out must mean the same in every view that reads it."""
    defaults = {f.name: f for f in msgspec.structs.fields(ObjectVersion)}
    for field in msgspec.structs.fields(view):
        mine = defaults[field.name]
        assert (field.default, field.default_factory) == (mine.default, mine.default_factory)
