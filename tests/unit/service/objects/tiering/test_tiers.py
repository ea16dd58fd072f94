"""When an Intelligent-Tiering object is due in which tier, and S3's restore expiry."""

from __future__ import annotations

import datetime

import pytest

from strata.service.objects.tiering.restore import expiry_after
from strata.service.objects.tiering.tiers import (
    ARCHIVE_ACCESS,
    ARCHIVE_INSTANT,
    DAY_MS,
    DEEP_ARCHIVE_ACCESS,
    FREQUENT,
    INFREQUENT,
    MONITORED_BYTES_MIN,
    due_tier,
)

BIG = MONITORED_BYTES_MIN


@pytest.mark.parametrize(
    ("idle_days", "archive", "deep", "due"),
    [
        (0, None, None, FREQUENT),
        (29.99, None, None, FREQUENT),
        (30, None, None, INFREQUENT),
        (89.9, None, None, INFREQUENT),
        (90, None, None, ARCHIVE_INSTANT),
        (700, None, None, ARCHIVE_INSTANT),
        (90, 90, None, ARCHIVE_ACCESS),  # the opt-in tier takes the place of Archive Instant
        (120, 150, None, ARCHIVE_INSTANT),
        (150, 150, None, ARCHIVE_ACCESS),
        (180, None, 180, DEEP_ARCHIVE_ACCESS),
        (179, 90, 180, ARCHIVE_ACCESS),
        (181, 90, 180, DEEP_ARCHIVE_ACCESS),
    ],
)
def test_due_tier_by_idle_days(
    idle_days: float, archive: int | None, deep: int | None, due: str
) -> None:
    assert due_tier(FREQUENT, BIG, int(idle_days * DAY_MS), archive, deep) == due


def test_small_objects_stay_frequent() -> None:
    assert due_tier(FREQUENT, BIG - 1, 1000 * DAY_MS, 90, 180) == FREQUENT
    assert due_tier(INFREQUENT, BIG - 1, 0, None, None) == FREQUENT


def test_archive_tiers_are_left_only_by_a_restore() -> None:
    # An access cannot happen (GET is refused) and a configuration removed later does not
    # lift the object: it stays as deep as it is, but may go deeper.
    assert due_tier(ARCHIVE_ACCESS, BIG, 0, None, None) == ARCHIVE_ACCESS
    assert due_tier(DEEP_ARCHIVE_ACCESS, BIG, 200 * DAY_MS, 90, None) == DEEP_ARCHIVE_ACCESS
    assert due_tier(ARCHIVE_ACCESS, BIG, 200 * DAY_MS, 90, 180) == DEEP_ARCHIVE_ACCESS
    # Infrequent and Archive Instant come back up on an access.
    assert due_tier(ARCHIVE_INSTANT, BIG, 0, None, None) == FREQUENT


def _ms(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("done", "days", "expiry"),
    [
        ("2026-12-08T07:47:00+00:00", 2, "2026-12-11T00:00:00+00:00"),
        ("2026-12-08T00:00:00+00:00", 1, "2026-12-10T00:00:00+00:00"),
        ("2026-12-31T23:59:59+00:00", 1, "2027-01-02T00:00:00+00:00"),
    ],
)
def test_expiry_is_the_midnight_after_completion_plus_days(
    done: str, days: int, expiry: str
) -> None:
    assert expiry_after(_ms(done), days) == _ms(expiry)
