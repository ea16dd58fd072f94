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
HASH = keycodec.aws_hash


def key(kind: str, value: str) -> bytes:
    return keycodec.item_key(PREFIX, HASH, "S", "p", kind, value)


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

    partition = keycodec.partition_prefix(PREFIX, HASH, "S", "p")
    low = partition + keys.encode_str(prefix)[:-2]
    high = keycodec.after_prefix(low)
    inside = low <= key("S", value) < high
    assert inside == value.encode().startswith(prefix.encode())


@given(
    st.lists(st.text(min_size=1), min_size=1, max_size=30),
    st.integers(1, 9),
    st.sampled_from([keycodec.aws_hash, keycodec.crc32_hash]),
)
def test_segments_cover_each_partition_once(
    values: list[str], total: int, hasher: keycodec.Hasher
) -> None:
    bounds = [keycodec.segment_bounds(PREFIX, s, total) for s in range(total)]
    for value in values:
        k = keycodec.item_key(PREFIX, hasher, "S", value, None, None)
        hits = [s for s, (lo, hi) in enumerate(bounds) if lo <= k and (hi is None or k < hi)]
        assert len(hits) == 1
        assert hits[0] == keycodec.segment_of(hasher, "S", value.encode(), total)


def test_aws_hash_places_partitions_in_aws_segments() -> None:
    # Segments of 4096 that AWS puts these partition keys in (recorded against AWS).
    for kind, value, segment in [
        ("S", "3635", 0),
        ("S", "228", 0),
        ("S", "1668", 1),
        ("S", "3435", 4),
        ("N", "251", 1),
        ("N", "2388", 4095),
    ]:
        assert keycodec.segment_of(keycodec.aws_hash, kind, value.encode(), 4096) == segment
    # and a Scan meets partition "A" before "B", as on AWS
    assert keycodec.aws_hash("S", b"A") < keycodec.aws_hash("S", b"B")


def test_number_bytes_is_base_100_with_exponent_byte() -> None:
    assert keycodec.number_bytes("0") == b"\x80"
    assert keycodec.number_bytes("251") == bytes([0xC2, 3, 52])
    assert keycodec.number_bytes("250") == bytes([0xC2, 3, 51])
    assert keycodec.number_bytes("0.5") == bytes([0xC0, 51])
    assert keycodec.number_bytes("-251") == bytes([0x3D, 99, 50, 102])
    assert keycodec.number_bytes("-1") == bytes([0x3E, 100, 102])
    assert keycodec.number_bytes("1E-130") == bytes([0x80, 2])
    assert keycodec.number_bytes("9" * 38 + "E+88") == bytes([0xFF] + [100] * 19)
    assert keycodec.number_bytes("-" + "9" * 38) == bytes([0x2C] + [2] * 19 + [102])


def test_partitions_of_tables_do_not_mix() -> None:
    other = id_prefix(0x0102000304050601)
    end = keycodec.after_prefix(PREFIX)
    assert keycodec.item_key(other, HASH, "S", "a", None, None) >= end
    assert PREFIX <= keycodec.item_key(PREFIX, HASH, "N", "-1e100", None, None) < end


def test_tables_stored_before_the_aws_hash_keep_crc32() -> None:
    import msgspec

    from strata.service.tables.schema import KeyElement, TableRecord, compile_table
    from strata.storage import records

    stored = {"name": "t", "table_id": 1, "created_s": 0.0, "hash": {"name": "pk", "kind": "S"}}
    old = bytes([records.FORMAT_V1]) + msgspec.msgpack.encode(stored)
    record = records.decode(old, TableRecord)
    assert compile_table(record, "arn").hasher is keycodec.crc32_hash
    new = TableRecord(
        name="t", table_id=1, created_s=0.0, hash=KeyElement("pk", "S"), key_hash="md5"
    )
    assert compile_table(new, "arn").hasher is keycodec.aws_hash
