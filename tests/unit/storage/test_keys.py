from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from strata.storage.keys import (
    decode_bytes,
    decode_number,
    decode_str,
    encode_bytes,
    encode_number,
    open_prefix,
    pack,
    prefix_end,
)

# DynamoDB numbers: up to 38 significant digits, magnitude 1e-130 .. 9.99e125.
numbers = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in digits), exponent)),
    st.integers(0, 1),
    st.text("0123456789", min_size=1, max_size=38).filter(lambda d: d.strip("0") != ""),
    st.integers(-130, 87),
) | st.just(Decimal(0))


@given(st.lists(numbers, min_size=2, max_size=20))
def test_number_encoding_orders_as_numbers(values: list[Decimal]) -> None:
    by_bytes = sorted(values, key=encode_number)
    assert [v for v in by_bytes] == sorted(values) or all(
        a <= b for a, b in itertools.pairwise(by_bytes)
    )
    for a, b in itertools.pairwise(by_bytes):
        assert a <= b


@given(numbers)
def test_number_round_trip(value: Decimal) -> None:
    decoded, end = decode_number(encode_number(value) + b"tail")
    assert decoded == value
    assert end == len(encode_number(value))


@given(st.lists(st.binary(max_size=12), min_size=2, max_size=20))
def test_bytes_encoding_orders_as_bytes(values: list[bytes]) -> None:
    assert sorted(values, key=encode_bytes) == sorted(values)


@given(st.binary(max_size=40), st.text(max_size=20))
def test_tuple_round_trip(first: bytes, second: str) -> None:
    packed = pack(first, second)
    value, pos = decode_bytes(packed)
    assert value == first
    text, end = decode_str(packed, pos)
    assert text == second
    assert end == len(packed)


@given(st.text(max_size=10), st.text(max_size=10))
def test_open_prefix_bounds_exactly_the_keys_with_that_prefix(prefix: str, key: str) -> None:
    start = open_prefix("bucket", prefix)
    end = prefix_end(start)
    packed = pack("bucket", key)
    inside = start <= packed and (end is None or packed < end)
    assert inside == key.encode().startswith(prefix.encode())


def test_partition_first_component_orders_whole_keys() -> None:
    assert pack("a", "z") < pack("a\x00", "a") < pack("b", "a")
