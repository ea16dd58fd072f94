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

from dataclasses import dataclass
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
    names = req.get("ExpressionAttributeNames")
    raw_values = req.get("ExpressionAttributeValues")
    filter_member = "QueryFilter" if key else "ScanFilter"
    expressions: list[str] = []
    legacy_members: list[str] = []
    if update:
        expressions.append("UpdateExpression")
        legacy_members.append("AttributeUpdates")
    if condition:
        expressions.append("ConditionExpression")
        legacy_members.append("Expected")
    if projection:
        expressions.append("ProjectionExpression")
        legacy_members.append("AttributesToGet")
    if filter:
        expressions.append("FilterExpression")
        legacy_members += [filter_member, "ConditionalOperator"]
    if key:
        expressions.append("KeyConditionExpression")
        # KeyConditions may go with a FilterExpression, only not with its own expression
        if req.get("KeyConditionExpression") is not None:
            legacy_members.append("KeyConditions")
    wanted = [m for m in expressions if req.get(m) is not None]
    if wanted:
        legacy = [m for m in legacy_members if req.get(m) is not None]
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
    value_expressions = [m for m in expressions if m != "ProjectionExpression"]
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
    out = Compiled()
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
