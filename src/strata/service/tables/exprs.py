"""The table service's one door to the expression language (``expressions/``).

``compile_request`` reads a request's expression members (ConditionExpression,
UpdateExpression, ProjectionExpression, FilterExpression, KeyConditionExpression, with
ExpressionAttributeNames and ExpressionAttributeValues), parses and binds each one in AWS's
order, then rejects unused placeholders across all of them, and hands back ready-to-run
objects. The legacy members (AttributesToGet, Expected, AttributeUpdates, KeyConditions,
QueryFilter, ScanFilter with ConditionalOperator) are translated into the same objects
(``expressions.legacy``); mixing them with expressions is AWS's ValidationException.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from strata.service.tables import expressions as ex
from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions.legacy import (
    LegacyUpdate,
    legacy_condition,
    legacy_key_condition,
    legacy_update,
)
from strata.service.tables.values import Item


class AttributesToGet:
    """The legacy projection: top-level attribute names."""

    __slots__ = ("attribute_names", "names")

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)
        self.attribute_names = self.names

    def apply(self, item: Item) -> Item:
        return {k: v for k, v in item.items() if k in self.names}


@dataclass(slots=True)
class Compiled:
    """A request's bound expressions. Shared between requests (``_COMPILED``): read only."""

    condition: ex.Condition | None = None
    update: ex.Update | LegacyUpdate | None = None
    projection: ex.Projection | AttributesToGet | None = None
    filter: ex.Condition | None = None
    key: ex.KeyCondition | None = None


EMPTY: Final = Compiled()
_LEGACY_MEMBERS: Final = (
    "AttributeUpdates",
    "Expected",
    "AttributesToGet",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
    "KeyConditions",
)
_LEGACY_SET: Final = frozenset(_LEGACY_MEMBERS)
COMPILED_MAX: Final = 1024  # requests' compiled expressions kept; emptied when full
# (expression members, their texts, names, values) -> what compiling them gave, for
# requests that compiled without an error (see ``_compiled_key``).
_COMPILED: dict[Hashable, Compiled] = {}
_MEMBERS: Final = frozenset(
    {
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "UpdateExpression",
        "ConditionExpression",
        "ProjectionExpression",
        "FilterExpression",
        "KeyConditionExpression",
        *_LEGACY_MEMBERS,
    }
)


@lru_cache(maxsize=32)
def _members(
    update: bool, condition: bool, projection: bool, filter: bool, key: bool
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """An operation's expression members, legacy members and value-taking expressions,
    in the order AWS names them (KeyConditions aside: it is refused only with its own
    expression)."""
    expressions: list[str] = []
    legacy: list[str] = []
    if update:
        expressions.append("UpdateExpression")
        legacy.append("AttributeUpdates")
    if condition:
        expressions.append("ConditionExpression")
        legacy.append("Expected")
    if projection:
        expressions.append("ProjectionExpression")
        legacy.append("AttributesToGet")
    if filter:
        expressions.append("FilterExpression")
        legacy += ["QueryFilter" if key else "ScanFilter", "ConditionalOperator"]
    if key:
        expressions.append("KeyConditionExpression")
    values = tuple(m for m in expressions if m != "ProjectionExpression")
    return tuple(expressions), tuple(legacy), values


def compile_request(
    req: dict[str, Any],
    *,
    condition: bool = False,
    update: bool = False,
    projection: bool = False,
    filter: bool = False,
    key: bool = False,
) -> Compiled:
    """Parse and bind the expressions ``req`` carries; AWS's errors when they are wrong.

    The flags name the members the operation has; their order in AWS's messages is
    UpdateExpression, ConditionExpression, ProjectionExpression, FilterExpression,
    KeyConditionExpression (and the legacy members' likewise).
    """
    if _MEMBERS.isdisjoint(req):
        return EMPTY
    expressions, legacy_members, value_expressions = _members(
        update, condition, projection, filter, key
    )
    has_legacy = not _LEGACY_SET.isdisjoint(req)
    cache_key: Hashable | None = None
    # Key conditions have their own plans (``parse_key_condition``): their values change
    # from one Query to the next, so whole requests would seldom repeat.
    if not has_legacy and not key:
        cache_key = _compiled_key(req, expressions)
        if cache_key is not None:
            cached = _COMPILED.get(cache_key)
            if cached is not None:
                return cached
    names = req.get("ExpressionAttributeNames")
    raw_values = req.get("ExpressionAttributeValues")
    wanted = [m for m in expressions if req.get(m) is not None]
    if wanted:
        if has_legacy:
            legacy = [m for m in legacy_members if req.get(m) is not None]
            # KeyConditions may go with a FilterExpression, only not with its own expression
            if "KeyConditionExpression" in wanted and req.get("KeyConditions") is not None:
                legacy.append("KeyConditions")
            if legacy:
                raise ValidationError(
                    "Can not use both expression and non-expression parameters in the same "
                    f"request: Non-expression parameters: {{{', '.join(legacy)}}} "
                    f"Expression parameters: {{{', '.join(wanted)}}}"
                )
    elif names is not None:
        raise ValidationError(
            "ExpressionAttributeNames can only be specified when using expressions"
        )
    if (
        raw_values is not None
        and value_expressions
        and all(req.get(m) is None for m in value_expressions)
    ):
        verb = "are" if len(value_expressions) > 1 else "is"
        raise ValidationError(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(value_expressions)} {verb} null"
        )
    if not has_legacy:
        compiled = _parse(req, wanted, names, raw_values, Compiled())
        if cache_key is not None:
            if len(_COMPILED) >= COMPILED_MAX:
                _COMPILED.clear()
            _COMPILED[cache_key] = compiled
        return compiled
    out = Compiled()
    filter_member = "QueryFilter" if key else "ScanFilter"
    operator = req.get("ConditionalOperator")
    if operator is not None and (filter or condition):
        joined = req.get(filter_member) if filter else req.get("Expected")
        if joined is None:
            raise ValidationError("ConditionalOperator cannot be used without Filter or Expected")
        if isinstance(joined, dict) and len(joined) < 2:
            raise ValidationError(
                "ConditionalOperator can only be used when Filter or Expected has two or more "
                "elements"
            )
    # The legacy members are checked before the expressions, as AWS does.
    if update and req.get("AttributeUpdates") is not None:
        out.update = legacy_update(req["AttributeUpdates"])
    if filter and req.get(filter_member) is not None:
        out.filter = legacy_condition(
            req[filter_member], req.get("ConditionalOperator"), filter_member
        )
    if projection and req.get("AttributesToGet") is not None:
        attributes = req["AttributesToGet"]
        seen: set[str] = set()
        for attribute in attributes:
            if attribute in seen:
                raise ValidationError(
                    "One or more parameter values were invalid: Duplicate value in attribute "
                    f"name: {attribute}"
                )
            seen.add(attribute)
        out.projection = AttributesToGet(attributes)
    if condition and req.get("Expected") is not None:
        out.condition = legacy_condition(
            req["Expected"], req.get("ConditionalOperator"), "Expected"
        )
    if key and req.get("KeyConditions") is not None and "KeyConditionExpression" not in wanted:
        out.key = legacy_key_condition(req["KeyConditions"])
    return _parse(req, wanted, names, raw_values, out)


def _compiled_key(req: dict[str, Any], expressions: tuple[str, ...]) -> Hashable | None:
    """What compiling a request without legacy members depends on, when it is cheap to
    compare: the operation's expression members, their texts, the names, and values that
    are all scalars (one type, a string or a boolean). None: the request is not cached.

    Types are compared exactly (``type(x) is str``), so ``{"BOOL": 1}`` never meets the
    entry of ``{"BOOL": true}`` (``1 == True`` in Python).
    """
    texts = tuple([req.get(m) for m in expressions])
    for text in texts:
        if text is not None and type(text) is not str:
            return None
    names = req.get("ExpressionAttributeNames")
    names_key: tuple[tuple[str, str], ...] | None = None
    if names is not None:
        if type(names) is not dict:
            return None
        names_key = tuple(names.items())
        for _, name in names_key:
            if type(name) is not str:
                return None
    values = req.get("ExpressionAttributeValues")
    values_key: list[tuple[str, str, str | bool]] | None = None
    if values is not None:
        if type(values) is not dict:
            return None
        values_key = []
        for placeholder, value in values.items():
            if type(value) is not dict or len(value) != 1:
                return None
            for kind, scalar in value.items():
                if type(scalar) is not str and type(scalar) is not bool:
                    return None
                values_key.append((placeholder, kind, scalar))
    return (
        expressions,
        texts,
        names_key,
        None if values_key is None else tuple(values_key),
    )


def _parse(
    req: dict[str, Any], wanted: list[str], names: Any, raw_values: Any, out: Compiled
) -> Compiled:
    """Parse and bind the expression members in ``wanted`` into ``out``."""
    if not wanted:
        return out
    values = ex.validate_expression_attributes(names, raw_values)
    parsed: list[Any] = []
    if "KeyConditionExpression" in wanted:
        out.key = ex.parse_key_condition(req["KeyConditionExpression"], names, values)
        parsed.append(out.key)
    if "ConditionExpression" in wanted:
        out.condition = ex.parse_condition(req["ConditionExpression"], names, values)
        parsed.append(out.condition)
    if "UpdateExpression" in wanted:
        out.update = ex.parse_update(req["UpdateExpression"], names, values)
        parsed.append(out.update)
    if "FilterExpression" in wanted:
        out.filter = ex.parse_filter(req["FilterExpression"], names, values)
        parsed.append(out.filter)
    if "ProjectionExpression" in wanted:
        out.projection = ex.parse_projection(req["ProjectionExpression"], names)
        parsed.append(out.projection)
    ex.check_unused(names, values, *parsed)
    return out


def updated_parts(item: Item, paths: tuple[ex.Path, ...]) -> Item:
    """UPDATED_OLD / UPDATED_NEW: the parts of ``item`` the update wrote."""
    return ex.project(item, paths)
