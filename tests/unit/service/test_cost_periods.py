"""Month arithmetic of the cost view and the price list's overrides."""

from __future__ import annotations

import calendar

import pytest

from strata.service.cost.ledger import month_spans
from strata.service.cost.prices import PriceError, Prices
from strata.service.objects.storage_time import month_bounds


def test_month_bounds_cover_december_and_leap_february() -> None:
    december = calendar.timegm((2026, 12, 31, 23, 59, 59))
    assert month_bounds(december) == (
        "2026-12",
        float(calendar.timegm((2026, 12, 1, 0, 0, 0))),
        float(calendar.timegm((2027, 1, 1, 0, 0, 0))),
    )
    label, start, end = month_bounds(calendar.timegm((2028, 2, 10, 0, 0, 0)))
    assert label == "2028-02"
    assert end - start == 29 * 86400


def test_month_spans_split_at_each_month_end() -> None:
    start = calendar.timegm((2026, 11, 30, 12, 0, 0))
    end = calendar.timegm((2027, 1, 2, 0, 0, 0))
    spans = month_spans(start, end)
    assert [label for label, _ in spans] == ["2026-11", "2026-12", "2027-01"]
    assert [seconds for _, seconds in spans] == [12 * 3600, 31 * 86400, 86400]
    assert month_spans(end, end) == []


def test_overrides_apply_by_name_and_refuse_the_unknown() -> None:
    prices = Prices.configured("storage.STANDARD=0.021, dynamodb.write=0.625")
    assert prices.storage("STANDARD") == 0.021
    assert prices.dynamodb("write") == 0.625
    assert prices.storage("GLACIER_IR") == 0.004
    assert prices.retrieval("STANDARD") == 0.0
    for bad in ("storage.PLATINUM=1", "storage.STANDARD", "tier1.STANDARD=-1", "tier2.GLACIER=x"):
        with pytest.raises(PriceError):
            Prices.configured(bad)
