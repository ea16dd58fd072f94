"""DynamoDB's expression language: parse once, bind per request, evaluate per item.

Public API (every error is a ``strata.service.tables.errors.ValidationError`` carrying
AWS's exact message, e.g. ``Invalid ConditionExpression: Syntax error; token: ...``)::

    parse_condition(expression, names, values, kind="ConditionExpression") -> Condition
    parse_filter(expression, names, values) -> Condition          # kind FilterExpression
    parse_key_condition(expression, names, values) -> KeyCondition
    parse_update(expression, names, values) -> Update
    parse_projection(expression, names) -> Projection
    check_unused(names, values, *parsed)      # after parsing every expression of a request
    validate_expression_attributes(names, values) -> values with numbers normalised
    project(item, paths) -> Item              # UPDATED_OLD / UPDATED_NEW from Update paths
    resolve(item, path) -> value or None

``names`` maps ``#placeholder`` -> attribute name, ``values`` maps ``:placeholder`` -> wire
value (both may be None). Results:

- ``Condition.evaluate(item) -> bool`` (use ``{}`` for an absent item);
- ``Update.apply(item) -> UpdateResult(item, updated_paths)``; the input is not modified,
  ``Update.paths`` lists the written paths before applying (key-attribute checks);
- ``Projection.apply(item) -> Item``, ``Projection.attribute_names``;
- ``KeyCondition.resolve(hash_key, range_key, attribute_types) -> (hash value, KeyTerm | None)``
  where ``KeyTerm(name, op, values)`` has op EQ, LT, LE, GT, GE, BETWEEN or BEGINS_WITH.

Each result has ``names_used`` / ``values_used`` for ``check_unused``. Expression texts are
parsed into placeholder-level syntax trees kept in an LRU cache keyed by the text, so a
repeated expression costs only the binding pass. Binding's checks depend on the text, the
names and the *types* of the values (BETWEEN and attribute_type aside, which read the
values): once a text bound without error for a signature (names, value types), the next
request with that signature skips the checks (``_CHECKED``), and a key condition is rebuilt
from its plan with the new values (``_KEY_PLANS``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from functools import lru_cache
from typing import Final, Protocol

from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions.bind import (
    KEY_OPERATORS,
    Condition,
    KeyCondition,
    KeyPlan,
    KeyTerm,
    Path,
    Projection,
    Update,
    UpdateResult,
    bind_condition,
    bind_key_condition,
    bind_key_plan,
    bind_projection,
    bind_update,
    key_plan,
    path_text,
    project,
    reads_values,
    resolve,
)
from strata.service.tables.expressions.reserved import RESERVED_WORDS, is_reserved
from strata.service.tables.expressions.syntax import (
    ConditionSyntax,
    ExpressionSyntaxError,
    ProjectionSyntax,
    UpdateSyntax,
    parse_condition_syntax,
    parse_projection_syntax,
    parse_update_syntax,
)
from strata.service.tables.values import AttributeValue, check_attribute_name, validate_value

__all__ = [
    "KEY_OPERATORS",
    "RESERVED_WORDS",
    "Condition",
    "KeyCondition",
    "KeyTerm",
    "Path",
    "Projection",
    "Update",
    "UpdateResult",
    "check_unused",
    "is_reserved",
    "parse_condition",
    "parse_filter",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
    "path_text",
    "project",
    "resolve",
    "validate_expression_attributes",
]

CACHE_SIZE: Final = 1024
SIGNATURES_MAX: Final = 4096  # remembered bind signatures; the sets are emptied when full


class Parsed(Protocol):
    """What ``check_unused`` needs from a parsed expression."""

    @property
    def names_used(self) -> frozenset[str]: ...

    @property
    def values_used(self) -> frozenset[str]: ...


# The caches hold either the tree or the syntax error, so a bad expression sent again and
# again is not parsed again either.


@lru_cache(maxsize=CACHE_SIZE)
def _condition_syntax(text: str, size_suffix: bool) -> ConditionSyntax | ExpressionSyntaxError:
    try:
        return parse_condition_syntax(text, size_suffix=size_suffix)
    except ExpressionSyntaxError as exc:
        return exc


@lru_cache(maxsize=CACHE_SIZE)
def _update_syntax(text: str) -> UpdateSyntax | ExpressionSyntaxError:
    try:
        return parse_update_syntax(text)
    except ExpressionSyntaxError as exc:
        return exc


@lru_cache(maxsize=CACHE_SIZE)
def _projection_syntax(text: str) -> ProjectionSyntax | ExpressionSyntaxError:
    try:
        return parse_projection_syntax(text)
    except ExpressionSyntaxError as exc:
        return exc


# Signatures (kind, text, names, value types) that bound without an error.
_CHECKED: set[Hashable] = set()
# Key conditions: signature -> (plan, a bound condition with that plan).
_KEY_PLANS: dict[Hashable, tuple[KeyPlan, KeyCondition]] = {}


def _signature(
    kind: str,
    expression: str,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
) -> Hashable:
    """What binding's checks depend on: the text, the names, the values' keys and types."""
    return (
        kind,
        expression,
        tuple(names.items()) if names else None,
        tuple([(key, next(iter(value), None)) for key, value in values.items()])
        if values
        else None,
    )


def _remember(signature: Hashable) -> None:
    if len(_CHECKED) >= SIGNATURES_MAX:
        _CHECKED.clear()
    _CHECKED.add(signature)


@lru_cache(maxsize=CACHE_SIZE)
def _reads_values(syntax: ConditionSyntax) -> bool:
    return reads_values(syntax)


def parse_condition(
    expression: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
    *,
    kind: str = "ConditionExpression",
) -> Condition:
    """Parse and bind a ConditionExpression (or, with ``kind``, a FilterExpression)."""
    syntax = _condition_syntax(expression, kind != "KeyConditionExpression")
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid {kind}: {syntax.message}")
    if _reads_values(syntax):
        return bind_condition(syntax, names, values, kind)
    signature = _signature(kind, expression, names, values)
    if signature in _CHECKED:
        return bind_condition(syntax, names, values, kind, checked=True)
    bound = bind_condition(syntax, names, values, kind)
    _remember(signature)
    return bound


def parse_filter(
    expression: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> Condition:
    """Parse and bind a FilterExpression (Query and Scan)."""
    return parse_condition(expression, names, values, kind="FilterExpression")


def parse_key_condition(
    expression: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> KeyCondition:
    """Parse and bind a KeyConditionExpression into key terms (see ``KeyCondition``)."""
    signature = _signature("KeyConditionExpression", expression, names, values)
    planned = _KEY_PLANS.get(signature)
    if planned is not None:
        assert values is not None, "a plan needs values"
        return bind_key_plan(planned[0], planned[1], values)
    syntax = _condition_syntax(expression, False)
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid KeyConditionExpression: {syntax.message}")
    bound = bind_key_condition(syntax, names, values)
    plan = key_plan(bound, values)
    if plan is not None and values:
        if len(_KEY_PLANS) >= SIGNATURES_MAX:
            _KEY_PLANS.clear()
        _KEY_PLANS[signature] = (plan, bound)
    return bound


def parse_update(
    expression: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> Update:
    """Parse and bind an UpdateExpression."""
    syntax = _update_syntax(expression)
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid UpdateExpression: {syntax.message}")
    signature = _signature("UpdateExpression", expression, names, values)
    if signature in _CHECKED:
        return bind_update(syntax, names, values, checked=True)
    bound = bind_update(syntax, names, values)
    _remember(signature)
    return bound


def parse_projection(expression: str, names: Mapping[str, str] | None = None) -> Projection:
    """Parse and bind a ProjectionExpression."""
    syntax = _projection_syntax(expression)
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid ProjectionExpression: {syntax.message}")
    return bind_projection(syntax, names)


def check_unused(
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
    *parsed: Parsed,
) -> None:
    """AWS rejects placeholders no expression of the request used: names first."""
    if names:
        used = (
            parsed[0].names_used
            if len(parsed) == 1
            else frozenset().union(*(p.names_used for p in parsed))
        )
        unused = [] if used.issuperset(names) else [key for key in names if key not in used]
        if unused:
            raise ValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    if values:
        used = (
            parsed[0].values_used
            if len(parsed) == 1
            else frozenset().union(*(p.values_used for p in parsed))
        )
        unused = [] if used.issuperset(values) else [key for key in values if key not in used]
        if unused:
            raise ValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )


_NAME_KEY_RE: Final = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY_RE: Final = re.compile(r":[A-Za-z0-9_]+")


def _valid_key(key: str, sigil: str) -> bool:
    """``#`` or ``:`` then one or more ASCII letters, digits or underscores."""
    pattern = _NAME_KEY_RE if sigil == "#" else _VALUE_KEY_RE
    return pattern.fullmatch(key) is not None


def validate_expression_attributes(
    names: Mapping[str, str] | None, values: Mapping[str, object] | None
) -> dict[str, AttributeValue] | None:
    """Request-level checks of ExpressionAttributeNames/Values before any parsing.

    Returns the values validated, numbers normalised (or None when there are none).
    """
    if names is not None:
        if not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
        for key, name in names.items():
            if not _valid_key(key, "#"):
                raise ValidationError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
            if not name:
                raise ValidationError(
                    f"ExpressionAttributeNames contains invalid value: Empty attribute name "
                    f"for key {key}"
                )
            check_attribute_name(name)
    if values is None:
        return None
    if not values:
        raise ValidationError("ExpressionAttributeValues must not be empty")
    for key in values:
        if not _valid_key(key, ":"):
            raise ValidationError(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
            )
    checked: dict[str, AttributeValue] = {}
    for key, value in values.items():
        try:
            checked[key] = validate_value(value)
        except ValidationError as exc:
            raise ValidationError(
                f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}"
            ) from None
    return checked
