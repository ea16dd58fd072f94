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
repeated expression costs only the binding pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Final, Protocol

from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions.bind import (
    KEY_OPERATORS,
    Condition,
    KeyCondition,
    KeyTerm,
    Path,
    Projection,
    Update,
    UpdateResult,
    bind_condition,
    bind_key_condition,
    bind_projection,
    bind_update,
    path_text,
    project,
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
from strata.service.tables.values import AttributeValue, validate_value

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
    return bind_condition(syntax, names, values, kind)


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
    syntax = _condition_syntax(expression, False)
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid KeyConditionExpression: {syntax.message}")
    return bind_key_condition(syntax, names, values)


def parse_update(
    expression: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> Update:
    """Parse and bind an UpdateExpression."""
    syntax = _update_syntax(expression)
    if isinstance(syntax, ExpressionSyntaxError):
        raise ValidationError(f"Invalid UpdateExpression: {syntax.message}")
    return bind_update(syntax, names, values)


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
        used = frozenset().union(*(p.names_used for p in parsed))
        unused = [key for key in names if key not in used]
        if unused:
            raise ValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    if values:
        used = frozenset().union(*(p.values_used for p in parsed))
        unused = [key for key in values if key not in used]
        if unused:
            raise ValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )


def _valid_key(key: str, sigil: str) -> bool:
    return (
        len(key) > 1
        and key[0] == sigil
        and all(c.isascii() and (c.isalnum() or c == "_") for c in key[1:])
    )


def validate_expression_attributes(
    names: Mapping[str, str] | None, values: Mapping[str, object] | None
) -> dict[str, AttributeValue] | None:
    """Request-level checks of ExpressionAttributeNames/Values before any parsing.

    Returns the values validated, numbers normalised (or None when there are none).
    """
    if names is not None:
        if not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
        for key in names:
            if not _valid_key(key, "#"):
                raise ValidationError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
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
