"""Item keys sort as DynamoDB sorts key values; scan segments partition the hash space."""

from __future__ import annotations

import base64
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from strata.service.tables import keycodec
from strata.service.tables.schema import id_prefix
from strata.service.tables.values import format_number, parse_number

digits = st.integers(min_value=1, max_value=10**38 - 1)
exponents = st.integers(min_value=-130 - 37, max_value=125 - 37)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    if draw(st.booleans()) and draw(st.booleans()):
        return "0"
    sign = -1 if draw(st.booleans()) else 1
    coefficient = draw(digits)
    exponent = draw(exponents)
    value = Decimal(sign * coefficient).scaleb(exponent)
    adjusted = value.adjusted()
    if adjusted > 125 or adjusted < -130:
        value = Decimal(sign * coefficient)
    return format_number(parse_number(str(value)))


PREFIX = id_prefix(0x0102000304050600)


def key(kind: str, value: str) -> bytes:
    return keycodec.item_key(PREFIX, "S", "p", kind, value)


@given(numbers(), numbers())
def test_number_order(a: str, b: str) -> None:
    x, y = Decimal(a), Decimal(b)
    ka, kb = key("N", a), key("N", b)
    assert (ka < kb) == (x < y)
    assert (ka == kb) == (x == y)


@given(st.text(min_size=1), st.text(min_size=1))
def test_string_order(a: str, b: str) -> None:
    ka, kb = key("S", a), key("S", b)
    assert (ka < kb) == (a.encode() < b.encode())


@given(st.binary(min_size=1), st.binary(min_size=1))
def test_binary_order(a: bytes, b: bytes) -> None:
    ka = key("B", base64.b64encode(a).decode())
    kb = key("B", base64.b64encode(b).decode())
    assert (ka < kb) == (a < b)


@given(st.text(min_size=1), st.text(min_size=0))
def test_begins_with_prefix_is_a_range(value: str, prefix: str) -> None:
    from strata.storage import keys

    partition = keycodec.partition_prefix(PREFIX, "S", "p")
    low = partition + keys.encode_str(prefix)[:-2]
    high = keycodec.after_prefix(low)
    inside = low <= key("S", value) < high
    assert inside == value.encode().startswith(prefix.encode())


@given(st.lists(st.text(min_size=1), min_size=1, max_size=30), st.integers(1, 9))
def test_segments_cover_each_partition_once(values: list[str], total: int) -> None:
    bounds = [keycodec.segment_bounds(PREFIX, s, total) for s in range(total)]
    for value in values:
        k = keycodec.item_key(PREFIX, "S", value, None, None)
        hits = [s for s, (lo, hi) in enumerate(bounds) if lo <= k and (hi is None or k < hi)]
        assert len(hits) == 1
        assert hits[0] == keycodec.segment_of(value.encode(), total)


def test_partitions_of_tables_do_not_mix() -> None:
    other = id_prefix(0x0102000304050601)
    end = keycodec.after_prefix(PREFIX)
    assert keycodec.item_key(other, "S", "a", None, None) >= end
    assert PREFIX <= keycodec.item_key(PREFIX, "N", "-1e100", None, None) < end
