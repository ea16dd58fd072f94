"""Wire-format values: validation messages, number normalisation and arithmetic, sizes, order."""

# ruff: noqa: E501 - AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from strata.service.tables.errors import (
    ConditionalCheckFailed,
    SerializationError,
    TablesError,
    ValidationError,
)
from strata.service.tables.values import (
    add_numbers,
    compare_values,
    item_size,
    normalize_number,
    parse_number,
    sort_key,
    subtract_numbers,
    validate_item,
    validate_value,
    value_size,
    values_equal,
)

INVALID = "One or more parameter values were invalid: "


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def validation_message(value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_value(value)
    return caught.value.message


# -- errors ---------------------------------------------------------------------------


def test_error_tree_and_conditional_item() -> None:
    assert issubclass(ValidationError, TablesError)
    failed = ConditionalCheckFailed(item={"a": {"S": "x"}})
    assert failed.message == "The conditional request failed"
    assert failed.item == {"a": {"S": "x"}}
    assert ConditionalCheckFailed().item is None


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"X": "y"},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes",
        ),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        (
            {"BS": ["YQ==", "YQ=="]},
            INVALID + "Input collection [YQ==, YQ==]of type BS contains duplicates.",
        ),
        ({"SS": ["a", ""]}, INVALID + "An string set may not have a empty string as a member"),
        ({"BS": [""]}, INVALID + "Binary sets may not contain null or empty values"),
        ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"N": "12e"}, "The parameter cannot be converted to a numeric value: 12e"),
        ({"N": "NaN"}, "The parameter cannot be converted to a numeric value: NaN"),
        ({"N": "Infinity"}, "The parameter cannot be converted to a numeric value: Infinity"),
        ({"N": "1_000"}, "The parameter cannot be converted to a numeric value: 1_000"),
        ({"N": " 1"}, "The parameter cannot be converted to a numeric value:  1"),
        ({"NS": ["1", "x"]}, "The parameter cannot be converted to a numeric value: x"),
        (
            {"N": "1" + "0" * 200},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            {"N": "1E126"},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            {"N": "1E-131"},
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
        (
            {"L": [{"S": "ok"}, {}]},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"M": {"k": {"NULL": False}}},
            INVALID + "Null attribute value types must have the value of true",
        ),
    ],
)
def test_invalid_values(value: Any, message: str) -> None:
    assert validation_message(value) == message


@pytest.mark.parametrize(
    "value",
    [
        {"B": "abc"},
        {"B": "ab!="},
        {"B": "YR=="},  # non-zero bits after the last character: not canonical
        {"S": 5},
        {"BOOL": "true"},
        {"L": {}},
        {"SS": ["a", 1]},
        "S",
    ],
)
def test_malformed_values_are_serialization_errors(value: Any) -> None:
    with pytest.raises(SerializationError):
        validate_value(value)


def test_base64_messages() -> None:
    with pytest.raises(SerializationError) as caught:
        validate_value({"B": "abc"})
    assert caught.value.message == (
        "'abc' can not be converted to a Blob: "
        "Base64 encoded length is expected a multiple of 4 bytes but found: 3"
    )
    with pytest.raises(SerializationError) as caught:
        validate_value({"B": "ab!="})
    assert (
        caught.value.message
        == "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!'"
    )


def test_empty_string_and_binary_are_allowed() -> None:
    assert validate_value({"S": ""}) == {"S": ""}
    assert validate_value({"B": ""}) == {"B": ""}


def test_nesting_limit() -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(32):
        value = {"M": {"k": value}}
    validate_value(value)
    with pytest.raises(ValidationError) as caught:
        validate_value({"L": [value]})
    assert caught.value.message == INVALID + "Nesting Levels have exceeded supported limits"


def test_validation_normalises_numbers_without_copying_the_rest() -> None:
    item = {"a": {"S": "x"}, "n": {"N": "1.50"}, "l": {"L": [{"N": "007"}]}, "s": {"NS": ["1e2"]}}
    out = validate_item(item)
    assert out == {
        "a": {"S": "x"},
        "n": {"N": "1.5"},
        "l": {"L": [{"N": "7"}]},
        "s": {"NS": ["100"]},
    }
    assert out["a"] is item["a"]
    assert item["n"] == {"N": "1.50"}, "the input is not modified"
    untouched = {"a": {"S": "x"}, "m": {"M": {"b": {"BOOL": True}}}}
    assert validate_item(untouched) is untouched


def test_unknown_members_are_dropped() -> None:
    assert validate_value({"S": "x", "Other": 1}) == {"S": "x"}


# -- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+5", "5"),
        ("007", "7"),
        (".5", "0.5"),
        ("5.", "5"),
        ("-1.2300e-3", "-0.00123"),
        ("1E-130", "0." + "0" * 129 + "1"),
        (
            "9.9999999999999999999999999999999999999E+125",
            "99999999999999999999999999999999999999" + "0" * 88,
        ),
        ("1" + "0" * 60, "1" + "0" * 60),
    ],
)
def test_normalize_number(text: str, normal: str) -> None:
    assert normalize_number(text) == normal


def test_number_range_limits() -> None:
    assert parse_number("9.9999999999999999999999999999999999999E+125")
    assert parse_number("-1E-130") == Decimal("-1E-130")
    assert parse_number(
        "0.0000000000000000000000000000000000000012345678901234567890123456789012345678"
    )


def test_arithmetic_is_exact() -> None:
    assert add_numbers("0.1", "0.2") == "0.3"
    assert subtract_numbers("1", "1.5") == "-0.5"
    assert add_numbers("99999999999999999999999999999999999999", "1") == "1" + "0" * 38
    assert add_numbers("-5", "5") == "0"


def test_arithmetic_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        add_numbers("1E+30", "1E-30")
    assert caught.value.message == "Attempting to store more than 38 significant digits in a Number"
    with pytest.raises(ValidationError) as caught:
        add_numbers("9.9999999999999999999999999999999999999E+125", "9E+125")
    assert caught.value.message.startswith("Number overflow")
    with pytest.raises(ValidationError) as caught:
        subtract_numbers("1.1E-130", "1E-130")
    assert caught.value.message.startswith("Number underflow")


# -- sizes ----------------------------------------------------------------------------


def test_item_size_examples_from_the_aws_docs() -> None:
    # "shirt-color" = "R" and "shirt-size" = "M": 23 bytes.
    assert item_size({"shirt-color": {"S": "R"}, "shirt-size": {"S": "M"}}) == 23


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"B": b64(b"\x00\x01\x02\x03\x04")}, 5),
        ({"B": ""}, 0),
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
        ({"N": "0"}, 1),
        ({"N": "1"}, 2),
        ({"N": "12"}, 2),
        ({"N": "123"}, 3),
        ({"N": "1.5"}, 3),
        ({"N": "10"}, 2),
        ({"N": "-1"}, 3),
        ({"N": "1E+100"}, 2),
        ({"N": "1" * 38}, 20),
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "12"]}, 4),
        ({"BS": [b64(b"ab"), b64(b"c")]}, 3),
        ({"L": []}, 3),
        ({"M": {}}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"k": {"S": "ab"}}}, 3 + 1 + 1 + 2),
    ],
)
def test_value_sizes(value: dict[str, Any], size: int) -> None:
    assert value_size(value) == size


# -- comparison and ordering ------------------------------------------------------------


def test_equality() -> None:
    assert values_equal({"N": "1"}, {"N": "1.0"})
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert values_equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert not values_equal({"SS": ["a"]}, {"SS": ["a", "b"]})
    assert values_equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1.00"}]}}})
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert values_equal({"NULL": True}, {"NULL": True})


def test_compare_values() -> None:
    assert compare_values({"N": "10"}, {"N": "9"}) == 1
    assert compare_values({"S": "B"}, {"S": "a"}) == -1  # byte order: upper case first
    assert compare_values({"S": "z"}, {"S": "é"}) == -1  # UTF-8 bytes, not locale order
    assert compare_values({"B": b64(b"\x01")}, {"B": b64(b"\xff")}) == -1
    assert compare_values({"N": "1"}, {"S": "1"}) is None
    assert compare_values({"BOOL": True}, {"BOOL": True}) is None


def test_sort_key_orders_like_dynamodb() -> None:
    numbers = [{"N": n} for n in ["10", "-3", "2.5", "0", "-0.5", "1E+100"]]
    assert [v["N"] for v in sorted(numbers, key=sort_key)] == [
        "-3",
        "-0.5",
        "0",
        "2.5",
        "10",
        "1E+100",
    ]
    strings = [{"S": s} for s in ["b", "a", "B", "ab", "é"]]
    assert [v["S"] for v in sorted(strings, key=sort_key)] == ["B", "a", "ab", "b", "é"]
    with pytest.raises(ValueError, match="cannot be a key"):
        sort_key({"BOOL": True})
