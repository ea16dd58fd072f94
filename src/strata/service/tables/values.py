"""DynamoDB attribute values in their wire format, and what DynamoDB does with them.

A value is the JSON object exactly as it travels: ``{"S": "x"}``, ``{"N": "12.5"}``,
``{"B": "<base64>"}``, ``{"BOOL": True}``, ``{"NULL": True}``, ``{"L": [...]}``,
``{"M": {...}}``, ``{"SS": [...]}``, ``{"NS": [...]}``, ``{"BS": [...]}``. Keeping the wire
format (rather than converting to Python objects) means a value goes from request to
storage to response without conversion; numbers stay strings so that no precision is lost.

This module validates incoming values with AWS's exact messages, normalises numbers the way
DynamoDB returns them, does exact 38-digit decimal arithmetic, computes item sizes as AWS
bills them, and compares and orders values.
"""

from __future__ import annotations

import binascii
import re
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from functools import lru_cache
from typing import Any, Final, TypeAlias

from strata.service.tables.errors import SerializationError, ValidationError

AttributeValue: TypeAlias = dict[str, Any]
"""One wire-format value: a dict with exactly one type key."""

Item: TypeAlias = dict[str, AttributeValue]
"""An item (or a key): attribute name -> value."""

TYPES: Final = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
SET_TYPES: Final = frozenset({"SS", "NS", "BS"})
SET_MEMBER_TYPE: Final = {"SS": "S", "NS": "N", "BS": "B"}

NUMBER_DIGITS_MAX: Final = 38
NUMBER_EXPONENT_MAX: Final = 125  # adjusted exponent: 9.99...E+125 is the largest magnitude
NUMBER_EXPONENT_MIN: Final = -130  # 1E-130 is the smallest non-zero magnitude
NESTING_LEVELS_MAX: Final = 32

_INVALID = "One or more parameter values were invalid: "
MSG_EMPTY_VALUE: Final = (
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
)
MSG_MANY_TYPES: Final = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
MSG_NOT_NUMERIC: Final = "The parameter cannot be converted to a numeric value"
MSG_OVERFLOW: Final = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
MSG_UNDERFLOW: Final = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
MSG_DIGITS: Final = "Attempting to store more than 38 significant digits in a Number"
MSG_NULL_FALSE: Final = _INVALID + "Null attribute value types must have the value of true"
MSG_NESTING: Final = _INVALID + "Nesting Levels have exceeded supported limits"
ATTRIBUTE_NAME_BYTES_MAX: Final = 65535  # "64 KB", but 65535 is the longest AWS takes
# AWS's words, as measured (the number is one more than the longest name it takes).
MSG_NAME_TOO_LARGE: Final = (
    "1 validation error detected: Attribute name is too large, must be less than 65536 bytes"
)
MSG_NAME_EMPTY: Final = "Empty attribute name"  # as AWS answers it, bare


_NAME_CHARS_SAFE: Final = ATTRIBUTE_NAME_BYTES_MAX // 4  # this many characters always fit


def check_attribute_name(name: str, size: int | None = None) -> None:
    """An attribute name (at any depth) non-empty and at most 65535 bytes of UTF-8."""
    if size is None:
        size = len(name) if len(name) <= _NAME_CHARS_SAFE else len(name.encode())
    if size > ATTRIBUTE_NAME_BYTES_MAX:
        raise ValidationError(MSG_NAME_TOO_LARGE)
    if not size:
        raise ValidationError(MSG_NAME_EMPTY)


# Java's BigDecimal grammar (what DynamoDB accepts); Python's Decimal would also take
# "NaN", "Infinity", "1_000" and surrounding whitespace, which DynamoDB rejects.
_NUMBER_RE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BASE64_RE: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_BASE64_BAD_CHAR_RE: Final = re.compile(r"[^A-Za-z0-9+/=]|=[^=]")

# Arithmetic: 38 digits, never round silently. The exponent range is checked by hand after
# each operation so that the message says overflow or underflow as AWS does.
_ARITHMETIC: Final = Context(
    prec=NUMBER_DIGITS_MAX,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, Inexact, Overflow, DivisionByZero],
)
_ROUNDING: Final = Context(prec=NUMBER_DIGITS_MAX, Emax=999_999, Emin=-999_999, traps=[])
ZERO: Final = Decimal(0)


# ---------------------------------------------------------------------------------------
# Numbers


def parse_number(text: str) -> Decimal:
    """Parse and range-check an ``N`` string; the result is normalised (no trailing zeros)."""
    if not text:
        raise ValidationError(MSG_NOT_NUMERIC)
    if _NUMBER_RE.fullmatch(text) is None:
        raise ValidationError(f"{MSG_NOT_NUMERIC}: {text}")
    return _check_range(Decimal(text))


def _check_range(number: Decimal) -> Decimal:
    """Normalise ``number`` exactly and apply DynamoDB's digit and exponent limits."""
    if not number:
        return ZERO
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int), "finite by construction"
    adjusted = exponent + len(digits) - 1
    if adjusted > NUMBER_EXPONENT_MAX:
        raise ValidationError(MSG_OVERFLOW)
    if adjusted < NUMBER_EXPONENT_MIN:
        raise ValidationError(MSG_UNDERFLOW)
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    if end > NUMBER_DIGITS_MAX:
        raise ValidationError(MSG_DIGITS)
    if end == len(digits):
        return number
    return Decimal((sign, digits[:end], exponent + len(digits) - end))


def format_number(number: Decimal) -> str:
    """Render a normalised number as DynamoDB returns it: plain notation, no exponent."""
    if not number:
        return "0"
    return format(number, "f")


@lru_cache(maxsize=4096)
def normalize_number(text: str) -> str:
    """Validate an ``N`` string and return DynamoDB's form of it ("1.50" -> "1.5")."""
    return format_number(parse_number(text))


def to_decimal(text: str) -> Decimal:
    """Decimal of an already validated ``N`` string (no checks: the hot path)."""
    return Decimal(text)


def _arithmetic(op: str, left: Decimal, right: Decimal) -> str:
    try:
        result = _ARITHMETIC.add(left, right) if op == "+" else _ARITHMETIC.subtract(left, right)
    except Inexact:
        # Too many digits; but a result out of range is reported as overflow/underflow.
        rounded = _ROUNDING.add(left, right) if op == "+" else _ROUNDING.subtract(left, right)
        _check_range(rounded.normalize(_ROUNDING))
        raise ValidationError(MSG_DIGITS)
    return format_number(_check_range(result))


def _small_integer(text: str) -> bool:
    """An integer of at most 17 digits: its sums are exact and in range as Python ints."""
    return (
        len(text) <= 18
        and text.isascii()
        and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit()))
    )


def add_numbers(left: str, right: str) -> str:
    """``left + right`` exactly, as an ``N`` string; AWS's errors when out of range."""
    if _small_integer(left) and _small_integer(right):  # counters: no Decimal needed
        return str(int(left) + int(right))
    return _arithmetic("+", Decimal(left), Decimal(right))


def subtract_numbers(left: str, right: str) -> str:
    """``left - right`` exactly, as an ``N`` string; AWS's errors when out of range."""
    if _small_integer(left) and _small_integer(right):
        return str(int(left) - int(right))
    return _arithmetic("-", Decimal(left), Decimal(right))


# ---------------------------------------------------------------------------------------
# Binary


def decode_binary(text: str) -> bytes:
    """Bytes of an already validated ``B`` string."""
    return binascii.a2b_base64(text)


def _check_base64(text: str) -> None:
    """Reject what AWS's Base64 decoder rejects, with its messages (SerializationException)."""
    if len(text) % 4:
        raise SerializationError(
            f"'{text}' can not be converted to a Blob: Base64 encoded length is expected "
            f"a multiple of 4 bytes but found: {len(text)}"
        )
    if _BASE64_RE.fullmatch(text) is None:
        bad = _BASE64_BAD_CHAR_RE.search(text)
        char = bad.group(0)[0] if bad is not None else "="
        raise SerializationError(
            f"'{text}' can not be converted to a Blob: Invalid Base64 character: '{char}'"
        )
    if binascii.b2a_base64(binascii.a2b_base64(text), newline=False).decode("ascii") != text:
        raise SerializationError(
            f"'{text}' can not be converted to a Blob: "
            "Invalid last non-pad Base64 character dectected"
        )


def _binary_size(text: str) -> int:
    return len(text) // 4 * 3 - text[-2:].count("=")


# ---------------------------------------------------------------------------------------
# Validation


def validate_item(item: object) -> Item:
    """Validate every attribute of ``item``; return it with numbers in DynamoDB's form."""
    return validate_item_sized(item)[0]


def validate_item_sized(item: object) -> tuple[Item, int]:
    """``validate_item`` and ``item_size`` of the result, in one pass over the attributes.

    Top-level strings and numbers (most attributes) are checked and sized inline; any other
    value goes through ``validate_value`` and ``value_size``, with the same results.
    """
    if not isinstance(item, dict):
        raise SerializationError("Start of list found where not expected")
    out: Item | None = None
    size = 0
    for name, value in item.items():
        name_size = len(name) if name.isascii() else len(name.encode("utf-8"))
        if not name_size or name_size > ATTRIBUTE_NAME_BYTES_MAX:
            check_attribute_name(name, name_size)
        size += name_size
        if type(value) is dict and len(value) == 1:
            raw = value.get("S")
            if type(raw) is str:
                size += len(raw) if raw.isascii() else len(raw.encode("utf-8"))
                continue
            raw = value.get("N")
            if type(raw) is str:
                normal = normalize_number(raw)
                size += _number_size(normal)
                if normal != raw:
                    if out is None:
                        out = dict(item)
                    out[name] = {"N": normal}
                continue
        checked = validate_value(value)
        size += value_size(checked)
        if checked is not value:
            if out is None:
                out = dict(item)
            out[name] = checked
    return (item if out is None else out), size


def validate_value(value: object, depth: int = 0) -> AttributeValue:
    """Validate one value with AWS's messages; numbers come back normalised.

    Returns ``value`` itself when nothing needed normalising, so validation does not copy.
    """
    if type(value) is dict and len(value) == 1:  # the common cases, without the general walk
        raw = value.get("S")
        if type(raw) is str:
            return value
        raw = value.get("N")
        if type(raw) is str:
            normal = normalize_number(raw)
            return value if normal == raw else {"N": normal}
    if not isinstance(value, dict):
        raise SerializationError(_shape_message(value))
    types = [key for key in value if key in TYPES]
    if not types:
        raise ValidationError(MSG_EMPTY_VALUE)
    result: AttributeValue = value
    for kind in types:
        checked = _validate_member(kind, value[kind], depth)
        if checked is not value[kind]:
            result = {kind: checked}
    if len(types) > 1:
        raise ValidationError(MSG_MANY_TYPES)
    if len(value) > 1:  # unknown members are dropped, as AWS's deserialiser does
        return {types[0]: result[types[0]]}
    return result


def _shape_message(raw: object) -> str:
    if isinstance(raw, dict):
        return "Start of structure or map found where not expected."
    if isinstance(raw, list):
        return "Start of list found where not expected"
    return f"Unexpected value type: {type(raw).__name__}"


def _expect(raw: object, kind: type) -> None:
    if not isinstance(raw, kind) or (kind is not bool and isinstance(raw, bool)):
        raise SerializationError(_shape_message(raw))


def _validate_member(kind: str, raw: Any, depth: int) -> Any:
    if kind == "S":
        _expect(raw, str)
        return raw
    if kind == "N":
        _expect(raw, str)
        normal = normalize_number(raw)
        return raw if normal == raw else normal
    if kind == "B":
        _expect(raw, str)
        _check_base64(raw)
        return raw
    if kind == "BOOL":
        _expect(raw, bool)
        return raw
    if kind == "NULL":
        _expect(raw, bool)
        if not raw:
            raise ValidationError(MSG_NULL_FALSE)
        return raw
    if kind == "M":
        _expect(raw, dict)
        if depth >= NESTING_LEVELS_MAX:
            raise ValidationError(MSG_NESTING)
        out_map: dict[str, Any] | None = None
        for key, child in raw.items():
            if not key or len(key) > _NAME_CHARS_SAFE:
                check_attribute_name(key)
            checked = validate_value(child, depth + 1)
            if checked is not child:
                if out_map is None:
                    out_map = dict(raw)
                out_map[key] = checked
        return raw if out_map is None else out_map
    if kind == "L":
        _expect(raw, list)
        if depth >= NESTING_LEVELS_MAX:
            raise ValidationError(MSG_NESTING)
        out_list: list[Any] | None = None
        for index, child in enumerate(raw):
            checked = validate_value(child, depth + 1)
            if checked is not child:
                if out_list is None:
                    out_list = list(raw)
                out_list[index] = checked
        return raw if out_list is None else out_list
    _expect(raw, list)
    for member in raw:
        _expect(member, str)
    if kind == "SS":
        if not raw:
            raise ValidationError(_INVALID + "An string set  may not be empty")
        if "" in raw:
            raise ValidationError(
                _INVALID + "An string set may not have a empty string as a member"
            )
        if len(set(raw)) != len(raw):
            raise ValidationError(
                _INVALID + f"Input collection [{', '.join(raw)}] contains duplicates."
            )
        return raw
    if kind == "BS":
        if not raw:
            raise ValidationError(_INVALID + "Binary sets should not be empty")
        if "" in raw:
            raise ValidationError(_INVALID + "Binary sets may not contain null or empty values")
        for member in raw:
            _check_base64(member)
        if len(set(raw)) != len(raw):
            raise ValidationError(
                _INVALID + f"Input collection [{', '.join(raw)}]of type BS contains duplicates."
            )
        return raw
    # NS
    if not raw:
        raise ValidationError(_INVALID + "An number set  may not be empty")
    if "" in raw:
        raise ValidationError(MSG_NOT_NUMERIC)
    normal_set = [normalize_number(member) for member in raw]
    if len(set(normal_set)) != len(normal_set):
        raise ValidationError("Input collection contains duplicates")
    return raw if normal_set == raw else normal_set


# ---------------------------------------------------------------------------------------
# Sizes


def item_size(item: Item) -> int:
    """Size of an item as AWS counts it against the 400 KB limit and capacity units."""
    size = 0
    for name, value in item.items():
        name_size = len(name) if name.isascii() else len(name.encode("utf-8"))
        if not name_size or name_size > ATTRIBUTE_NAME_BYTES_MAX:
            check_attribute_name(name, name_size)
        size += name_size
        raw = value.get("S")
        if raw is not None:
            size += len(raw) if raw.isascii() else len(raw.encode("utf-8"))
        else:
            size += value_size(value)
    return size


def value_size(value: AttributeValue) -> int:
    """Bytes of one value: AWS's "Item sizes and formats" rules (as DynamoDB Local counts)."""
    for kind, raw in value.items():
        if kind == "S":
            return len(raw) if raw.isascii() else len(raw.encode("utf-8"))
        if kind == "N":
            return _number_size(raw)
        if kind == "B":
            return _binary_size(raw)
        if kind == "BOOL" or kind == "NULL":
            return 1
        if kind == "M":
            return 3 + sum(
                len(key.encode("utf-8")) + 1 + value_size(child) for key, child in raw.items()
            )
        if kind == "L":
            return 3 + sum(1 + value_size(child) for child in raw)
        if kind == "SS":
            return sum(len(member.encode("utf-8")) for member in raw)
        if kind == "NS":
            return sum(_number_size(member) for member in raw)
        if kind == "BS":
            return sum(_binary_size(member) for member in raw)
    raise AssertionError("value without a type")


@lru_cache(maxsize=4096)
def _number_size(text: str) -> int:
    """1 byte of exponent, the digits in base 100 aligned on the decimal point, 1 if negative."""
    number = Decimal(text)
    if not number:
        return 1
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    adjusted = exponent + len(digits) - 1
    pairs = (end + 1) // 2 + (0 if (end % 2 or adjusted % 2) else 1)
    return 1 + pairs + sign


# ---------------------------------------------------------------------------------------
# Comparison and ordering


def type_of(value: AttributeValue) -> str:
    """The type key of a (validated) value."""
    for kind in value:
        return kind
    raise AssertionError("value without a type")


def values_equal(left: AttributeValue, right: AttributeValue) -> bool:
    """DynamoDB equality: numbers by value, sets regardless of order, documents deeply."""
    kind = type_of(left)
    if kind not in right:
        return False
    a = left[kind]
    b = right[kind]
    if kind == "N":
        return a == b or Decimal(a) == Decimal(b)
    if kind == "S" or kind == "B" or kind == "BOOL" or kind == "NULL":
        return bool(a == b)
    if kind == "SS" or kind == "BS":
        return len(a) == len(b) and set(a) == set(b)
    if kind == "NS":
        return len(a) == len(b) and {Decimal(x) for x in a} == {Decimal(x) for x in b}
    if kind == "L":
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return False


def compare_values(left: AttributeValue, right: AttributeValue) -> int | None:
    """-1, 0 or 1 for two S, N or B values of the same type; None when not comparable.

    Strings compare by UTF-8 bytes (code point order is the same), binaries by bytes,
    numbers by value: the order of sort keys.
    """
    kind = type_of(left)
    if kind not in right:
        return None
    a = left[kind]
    b = right[kind]
    if kind == "S":
        return int(a > b) - int(a < b)
    if kind == "N":
        x = Decimal(a)
        y = Decimal(b)
        return (x > y) - (x < y)
    if kind == "B":
        p = decode_binary(a)
        q = decode_binary(b)
        return (p > q) - (p < q)
    return None


def sort_key(value: AttributeValue) -> str | Decimal | bytes:
    """A Python object ordering S, N or B values as DynamoDB orders key values."""
    kind = type_of(value)
    raw = value[kind]
    if kind == "S":
        assert isinstance(raw, str)
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "B":
        return decode_binary(raw)
    raise ValueError(f"type {kind} cannot be a key")


def render_value(value: AttributeValue) -> str:
    """``{N:1}``: how AWS quotes a value inside an error message."""
    kind = type_of(value)
    raw = value[kind]
    if isinstance(raw, list):
        return "{" + kind + ":[" + ", ".join(str(x) for x in raw) + "]}"
    if isinstance(raw, bool):
        return "{" + kind + ":" + ("true" if raw else "false") + "}"
    return "{" + kind + ":" + str(raw) + "}"
