"""The table service's one door to the expression language (``expressions/``).

Each function takes the request members (the expression strings, ExpressionAttributeNames
and ExpressionAttributeValues) and returns a ready-to-run callable, so the operations
never deal with parsing, binding or the unused-placeholder checks themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import Table
from strata.service.tables.values import Item
from strata.service.tables.values import validate_item as _validate_item

Condition = Callable[[Item | None], bool]
Projection = Callable[[Item], Item]
Update = Callable[[Item | None, Item], tuple[Item, list[Any]]]


def validate_item(item: Any) -> Item:
    return _validate_item(item)


def condition_of(req: dict[str, Any]) -> Condition | None:
    text = req.get("ConditionExpression")
    if text is None:
        return None
    raise ValidationError("ConditionExpression is not supported yet")


def projection_of(req: dict[str, Any]) -> Projection | None:
    names = req.get("AttributesToGet")
    if names is not None:
        wanted = frozenset(names)
        return lambda item: {k: v for k, v in item.items() if k in wanted}
    text = req.get("ProjectionExpression")
    if text is None:
        return None
    raise ValidationError("ProjectionExpression is not supported yet")


def update_of(req: dict[str, Any], table: Table) -> Update:
    raise ValidationError("UpdateExpression is not supported yet")


def updated_parts(item: Item, changed: list[Any]) -> Item:
    return {}
