"""Condition operators, with AWS's semantics for missing and multi-valued keys.

A ``Condition`` block is an AND of operators, each an AND of keys, each an OR of values.
For one key AWS documents (IAM User Guide, "IAM JSON policy elements: Condition operators"
and "Multivalued context keys"):

- key absent from the request: a positive operator is false, a negated one
  (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``, ...) is true; with ``...IfExists``
  any operator is true; ``Null`` tests exactly this.
- ``ForAnyValue:``: true if some request value matches some policy value (false if absent);
  ``ForAllValues:``: true if every request value matches some policy value (true if absent
  or empty). For a negated operator "matches" means "matches none of the policy values".
- values of the wrong type (a non-number for ``Numeric*``, a non-date for ``Date*``) never match.

Each value is parsed once when the policy is compiled; policy variables in values are
substituted per request (string and ARN operators only, as AWS allows).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from strata.service.iam.policy.patterns import (
    ContextValue,
    Lookup,
    Part,
    compile_pattern,
    split_variables,
    substitute,
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# operator -> (family, negated)
_STRING: Final = "string"
_STRING_CI: Final = "string-ignore-case"
_STRING_LIKE: Final = "string-like"
_NUMERIC: Final = "numeric"
_DATE: Final = "date"
_BOOL: Final = "bool"
_BINARY: Final = "binary"
_IP: Final = "ip"
_ARN: Final = "arn"
_NULL: Final = "null"

_EQ: Final = "eq"
_LT: Final = "lt"
_LE: Final = "le"
_GT: Final = "gt"
_GE: Final = "ge"

# name -> (family, comparison, negated)
OPERATORS: Final[dict[str, tuple[str, str, bool]]] = {
    "StringEquals": (_STRING, _EQ, False),
    "StringNotEquals": (_STRING, _EQ, True),
    "StringEqualsIgnoreCase": (_STRING_CI, _EQ, False),
    "StringNotEqualsIgnoreCase": (_STRING_CI, _EQ, True),
    "StringLike": (_STRING_LIKE, _EQ, False),
    "StringNotLike": (_STRING_LIKE, _EQ, True),
    "NumericEquals": (_NUMERIC, _EQ, False),
    "NumericNotEquals": (_NUMERIC, _EQ, True),
    "NumericLessThan": (_NUMERIC, _LT, False),
    "NumericLessThanEquals": (_NUMERIC, _LE, False),
    "NumericGreaterThan": (_NUMERIC, _GT, False),
    "NumericGreaterThanEquals": (_NUMERIC, _GE, False),
    "DateEquals": (_DATE, _EQ, False),
    "DateNotEquals": (_DATE, _EQ, True),
    "DateLessThan": (_DATE, _LT, False),
    "DateLessThanEquals": (_DATE, _LE, False),
    "DateGreaterThan": (_DATE, _GT, False),
    "DateGreaterThanEquals": (_DATE, _GE, False),
    "Bool": (_BOOL, _EQ, False),
    "BinaryEquals": (_BINARY, _EQ, False),
    "IpAddress": (_IP, _EQ, False),
    "NotIpAddress": (_IP, _EQ, True),
    "ArnEquals": (_ARN, _EQ, False),
    "ArnLike": (_ARN, _EQ, False),
    "ArnNotEquals": (_ARN, _EQ, True),
    "ArnNotLike": (_ARN, _EQ, True),
    "Null": (_NULL, _EQ, False),
}

FOR_ANY: Final = "ForAnyValue"
FOR_ALL: Final = "ForAllValues"
_IF_EXISTS: Final = "IfExists"

_EPOCH: Final = re.compile(r"^-?\d+$")
_INT64_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class OperatorName:
    """``ForAnyValue:StringLikeIfExists`` taken apart."""

    base: str
    set_operator: str | None
    if_exists: bool


def parse_operator(name: str) -> OperatorName | None:
    """None if ``name`` is no operator AWS knows."""
    set_operator: str | None = None
    base = name
    if ":" in name:
        prefix, _, base = name.partition(":")
        if prefix not in (FOR_ANY, FOR_ALL):
            return None
        set_operator = prefix
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
        if base == "Null":
            return None
    if base not in OPERATORS:
        return None
    return OperatorName(base, set_operator, if_exists)


def parse_date(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date/time or an epoch number; None if neither."""
    if _EPOCH.match(text):
        seconds = int(text)
        return float(seconds) if abs(seconds) <= _INT64_MAX else None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A request's source address, parsed once per distinct value."""
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _compare(kind: str, left: Decimal | float, right: Decimal | float) -> bool:
    if kind == _EQ:
        return left == right
    if kind == _LT:
        return left < right
    if kind == _LE:
        return left <= right
    if kind == _GT:
        return left > right
    return left >= right


def _arn_parts(text: str) -> list[str] | None:
    parts = text.split(":", 5)
    return parts if len(parts) == 6 else None


Matcher = Callable[[str, Lookup], bool]


def _never(value: str, lookup: Lookup) -> bool:
    """A policy value its operator cannot read (a bad number, date, CIDR) matches nothing."""
    return False


def _value_matcher(family: str, comparison: str, raw: str, variables: bool) -> Matcher:
    """A test of one request value against one policy value (before negation)."""
    parts: tuple[Part, ...] | None = None
    if variables and "${" in raw and family in (_STRING, _STRING_CI, _STRING_LIKE, _ARN):
        parts = split_variables(raw)

    if family in (_STRING_LIKE, _ARN):
        if family == _ARN:
            policy_parts = _arn_parts(raw)
            if policy_parts is None:  # not six components: a whole-string wildcard match
                pattern = compile_pattern(raw, variables=variables)
                return lambda value, lookup: pattern.matches(value, lookup)
            patterns = [compile_pattern(p, variables=variables) for p in policy_parts]

            def arn_matches(value: str, lookup: Lookup) -> bool:
                value_parts = _arn_parts(value)
                if value_parts is None:
                    return False
                return all(p.matches(v, lookup) for p, v in zip(patterns, value_parts, strict=True))

            return arn_matches
        pattern = compile_pattern(raw, variables=variables)
        return lambda value, lookup: pattern.matches(value, lookup)

    if family in (_STRING, _STRING_CI):
        fold = family == _STRING_CI
        if parts is not None:
            parts_ = parts

            def substituted(value: str, lookup: Lookup) -> bool:
                expected = substitute(parts_, lookup, regex=False)
                if expected is None:
                    return False
                return value.lower() == expected.lower() if fold else value == expected

            return substituted
        expected = raw.lower() if fold else raw
        if fold:
            return lambda value, lookup: value.lower() == expected
        return lambda value, lookup: value == expected

    if family in (_NUMERIC, _DATE):
        parse: Callable[[str], Decimal | float | None] = (
            parse_number if family == _NUMERIC else parse_date
        )
        bound = parse(raw)
        if bound is None:
            return _never

        def ordered(value: str, lookup: Lookup) -> bool:
            given = parse(value)
            return given is not None and _compare(comparison, given, bound)

        return ordered

    if family == _BOOL:
        flag = raw.lower()
        return lambda value, lookup: value.lower() == flag

    if family == _NULL:  # tested by KeyCondition.holds itself
        return _never

    if family == _BINARY:
        data = _binary(raw)
        return lambda value, lookup: data is not None and _binary(value) == data

    assert family == _IP, family
    network = parse_network(raw)
    if network is None:
        return _never

    def in_network(value: str, lookup: Lookup) -> bool:
        address = parse_address(value)
        return address is not None and address.version == network.version and address in network

    return in_network


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """One operator applied to one context key, with the policy's values."""

    operator: str  # as written, for messages
    key: str  # lower-cased
    family: str
    negated: bool
    if_exists: bool
    set_operator: str | None
    values: tuple[str, ...]
    matchers: tuple[Matcher, ...]

    def _any_value(self, value: str, lookup: Lookup) -> bool:
        return any(m(value, lookup) for m in self.matchers)

    def holds(self, lookup: Lookup) -> bool:
        present = lookup(self.key)
        if self.family == _NULL:
            absent = present is None or present == []
            return any((v.lower() == "true") == absent for v in self.values)
        if present is None:
            if self.if_exists:
                return True
            if self.set_operator == FOR_ALL:
                return True
            if self.set_operator == FOR_ANY:
                return False
            return self.negated
        given = [present] if isinstance(present, str) else present
        if self.set_operator == FOR_ALL:
            # every request value "matches": equals some value, or for a negated
            # operator equals none of them
            return all(self._any_value(v, lookup) != self.negated for v in given)
        if self.set_operator == FOR_ANY:
            return any(self._any_value(v, lookup) != self.negated for v in given)
        # a single-valued operator on the request's value(s)
        matched = any(self._any_value(v, lookup) for v in given)
        return not matched if self.negated else matched


def compile_condition(
    name: OperatorName, written: str, key: str, values: Sequence[str], *, variables: bool
) -> KeyCondition:
    family, comparison, negated = OPERATORS[name.base]
    matchers = tuple(_value_matcher(family, comparison, v, variables) for v in values)
    return KeyCondition(
        written, key.lower(), family, negated, name.if_exists, name.set_operator, tuple(values),
        matchers,
    )  # fmt: skip


def all_hold(conditions: Sequence[KeyCondition], lookup: Lookup) -> bool:
    return all(c.holds(lookup) for c in conditions)


def condition_value(value: object) -> str | None:
    """A JSON condition value as the string AWS compares; None if it is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    return None


__all__ = [
    "FOR_ALL",
    "FOR_ANY",
    "OPERATORS",
    "ContextValue",
    "KeyCondition",
    "OperatorName",
    "all_hold",
    "compile_condition",
    "condition_value",
    "parse_date",
    "parse_operator",
]
