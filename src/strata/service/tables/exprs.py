"""The table service's one door to the expression language (``expressions/``).

``compile_request`` reads a request's expression members (ConditionExpression,
UpdateExpression, ProjectionExpression, FilterExpression, KeyConditionExpression, with
ExpressionAttributeNames and ExpressionAttributeValues), parses and binds each one in AWS's
order, then rejects unused placeholders across all of them, and hands back ready-to-run
objects. The legacy AttributesToGet member is supported; the other legacy members
(Expected, KeyConditions, QueryFilter, ScanFilter, AttributeUpdates) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from strata.service.tables import expressions as ex
from strata.service.tables.errors import ValidationError
from strata.service.tables.values import Item

_LEGACY: Final = {
    "ConditionExpression": ("Expected", "ConditionalOperator"),
    "UpdateExpression": ("AttributeUpdates",),
    "ProjectionExpression": ("AttributesToGet",),
    "FilterExpression": ("QueryFilter", "ScanFilter", "ConditionalOperator"),
    "KeyConditionExpression": ("KeyConditions",),
}


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
    update: ex.Update | None = None
    projection: ex.Projection | AttributesToGet | None = None
    filter: ex.Condition | None = None
    key: ex.KeyCondition | None = None


EMPTY: Final = Compiled()
_MEMBERS: Final = frozenset(
    {
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "AttributesToGet",
        *_LEGACY,
        *(old for olds in _LEGACY.values() for old in olds),
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
    """Parse and bind the expressions ``req`` carries; AWS's errors when they are wrong."""
    if _MEMBERS.isdisjoint(req):
        return EMPTY
    names = req.get("ExpressionAttributeNames")
    raw_values = req.get("ExpressionAttributeValues")
    wanted = [
        m
        for m, on in (
            ("KeyConditionExpression", key),
            ("ConditionExpression", condition),
            ("UpdateExpression", update),
            ("FilterExpression", filter),
            ("ProjectionExpression", projection),
        )
        if on and req.get(m) is not None
    ]
    legacy = [
        old
        for m, on in (
            ("KeyConditionExpression", key),
            ("ConditionExpression", condition),
            ("UpdateExpression", update),
            ("FilterExpression", filter),
            ("ProjectionExpression", projection),
        )
        if on
        for old in _LEGACY[m]
        if req.get(old) is not None
    ]
    if wanted and legacy:
        raise ValidationError(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} "
            f"Expression parameters: {{{', '.join(wanted)}}}"
        )
    unsupported = [name for name in legacy if name != "AttributesToGet"]
    if unsupported:
        raise ValidationError(
            f"The legacy parameter {unsupported[0]} is not supported; use expressions instead"
        )
    if not wanted:
        if names is not None:
            raise ValidationError(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if raw_values is not None:
            raise ValidationError(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        if projection and req.get("AttributesToGet") is not None:
            return Compiled(projection=AttributesToGet(req["AttributesToGet"]))
        return EMPTY
    values = ex.validate_expression_attributes(names, raw_values)
    out = Compiled()
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
