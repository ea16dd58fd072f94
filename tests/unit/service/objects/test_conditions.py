"""Conditional request evaluation in S3's order."""

from __future__ import annotations

import pytest

from strata.service.objects.conditions import ReadConditions, check_read, etag_matches
from strata.service.objects.errors import NotModified, PreconditionFailed

ETAG = "abc"
MODIFIED_MS = 1_700_000_000_000
BEFORE = "Tue, 14 Nov 2023 22:00:00 GMT"  # before MODIFIED_MS
AFTER = "Wed, 15 Nov 2023 00:00:00 GMT"  # after MODIFIED_MS


def test_etag_lists() -> None:
    assert etag_matches('"abc"', ETAG)
    assert etag_matches('"x", "abc"', ETAG)
    assert etag_matches("*", ETAG)
    assert etag_matches('W/"abc"', ETAG)
    assert not etag_matches('"abd"', ETAG)


@pytest.mark.parametrize(
    ("conditions", "outcome"),
    [
        (ReadConditions(if_match='"abc"'), None),
        (ReadConditions(if_match='"no"'), PreconditionFailed),
        (ReadConditions(if_match='"abc"', if_unmodified_since=BEFORE), None),
        (ReadConditions(if_unmodified_since=BEFORE), PreconditionFailed),
        (ReadConditions(if_unmodified_since=AFTER), None),
        (ReadConditions(if_none_match='"abc"'), NotModified),
        (ReadConditions(if_none_match='"no"', if_modified_since=AFTER), None),
        (ReadConditions(if_modified_since=AFTER), NotModified),
        (ReadConditions(if_modified_since=BEFORE), None),
        (ReadConditions(if_modified_since="garbage"), None),
        (ReadConditions(if_match='"no"', if_none_match='"abc"'), PreconditionFailed),
    ],
)
def test_read_order(conditions: ReadConditions, outcome: type[Exception] | None) -> None:
    if outcome is None:
        check_read(conditions, ETAG, MODIFIED_MS)
    else:
        with pytest.raises(outcome):
            check_read(conditions, ETAG, MODIFIED_MS)


def test_copy_source_failures_are_412() -> None:
    with pytest.raises(PreconditionFailed):
        check_read(ReadConditions(if_none_match='"abc"'), ETAG, MODIFIED_MS, copy_source=True)
    with pytest.raises(PreconditionFailed):
        check_read(ReadConditions(if_modified_since=AFTER), ETAG, MODIFIED_MS, copy_source=True)
