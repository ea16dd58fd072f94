"""The legacy conditional parameters, translated into the expression language's objects.

Before expressions, DynamoDB took conditions as maps of attribute name to
``{ComparisonOperator, AttributeValueList}`` (or ``{Exists, Value}``), joined by
``ConditionalOperator``, and updates as ``AttributeUpdates`` (PUT / ADD / DELETE per
attribute). Many clients still send them. Nothing here evaluates anything: each legacy
member becomes the bound object its expression counterpart would give, so both forms run
through one evaluator::

    legacy_condition(conditions, operator, member) -> Condition | None   # Expected, filters
    legacy_key_condition(conditions) -> KeyCondition                     # KeyConditions
    legacy_update(attribute_updates) -> LegacyUpdate                     # AttributeUpdates

Validation follows AWS's order and messages (as captured by dynalite's suite against AWS).
"""

from __future__ import annotations

from typing import Any, Final

from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.expressions.bind import (
    KEY_TERMS_MAX,
    MSG_KEY_TERMS,
    Condition,
    ConstOperand,
    KeyCondition,
    KeyTerm,
    Path,
    PathOperand,
    Update,
    UpdateResult,
    _And,
    _BeginsWith,
    _Between,
    _Compare,
    _ConstValue,
    _Contains,
    _Exists,
    _In,
    _Not,
    _Or,
    _SetValue,
)
from strata.service.tables.values import (
    SET_TYPES,
    AttributeValue,
    Item,
    compare_values,
    type_of,
    validate_value,
)

INVALID: Final = "One or more parameter values were invalid: "
COMPARISON_OPERATORS: Final = (
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
)
ATTRIBUTE_ACTIONS: Final = ("ADD", "PUT", "DELETE")
MSG_BAD_BETWEEN: Final = (
    "The BETWEEN condition was provided a range where the lower bound is greater than the "
    "upper bound"
)
MSG_TYPE_MISMATCH: Final = "Type mismatch for attribute to update"
MSG_NOT_INDEXABLE: Final = "Attempted conditional constraint is not an indexable operation"
# (fewest, most) values in AttributeValueList; None: no upper bound
_COUNTS: Final[dict[str, tuple[int, int | None]]] = {
    "NULL": (0, 0),
    "NOT_NULL": (0, 0),
    "IN": (1, None),
    "BETWEEN": (2, 2),
}
_SCALARS: Final = ("S", "N", "B")
_VALUE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "LT": _SCALARS,
    "LE": _SCALARS,
    "GT": _SCALARS,
    "GE": _SCALARS,
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "BEGINS_WITH": ("S", "B"),
}
_COMPARE: Final = {"EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_KEY_OPERATORS: Final = frozenset({"EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN"})


def _mapping(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        raise SerializationError("Start of list found where not expected")
    raise SerializationError("Expected map or null")


def _structure(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        raise SerializationError("Start of list found where not expected")
    raise SerializationError("Expected null")


def _value_list(raw: Any) -> list[AttributeValue]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        if isinstance(raw, dict):
            raise SerializationError("Start of structure or map found where not expected.")
        raise SerializationError("Expected list or null")
    return [validate_value(value) for value in raw]


def _check_enums(conditions: dict[str, Any], member: str, required: bool) -> None:
    """Model checks of every ComparisonOperator, all reported together as AWS does."""
    checks = Constraints()
    where = member[0].lower() + member[1:]
    for name, raw in conditions.items():
        spec = _structure(raw)
        op = spec.get("ComparisonOperator")
        path = f"{where}.{name}.member.comparisonOperator"
        if op is None:
            if required:
                checks.not_null(None, path)
        elif not isinstance(op, str):
            raise SerializationError("Unexpected value type in payload")
        else:
            checks.enum(op, path, COMPARISON_OPERATORS)
    checks.raise_if_any()


def _check_values(op: str, values: list[AttributeValue], check_types: bool) -> None:
    """Count, same type, type per operator and BETWEEN order of one condition's values."""
    low, high = _COUNTS.get(op, (1, 1))
    if len(values) < low or (high is not None and len(values) > high):
        raise ValidationError(
            f"{INVALID}Invalid number of argument(s) for the {op} ComparisonOperator"
        )
    if values:
        first = type_of(values[0])
        if any(type_of(value) != first for value in values):
            raise ValidationError(
                f"{INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
    if check_types:
        allowed = _VALUE_TYPES.get(op)
        if allowed is not None:
            for value in values:
                kind = type_of(value)
                if kind not in allowed:
                    raise ValidationError(
                        f"{INVALID}ComparisonOperator {op} is not valid for {kind} AttributeValue "
                        "type"
                    )
    if op == "BETWEEN":
        order = compare_values(values[0], values[1])
        if order is not None and order > 0:
            raise ValidationError(MSG_BAD_BETWEEN)


def _leaf(name: str, op: str, values: list[AttributeValue]) -> Condition:
    path: Path = (name,)
    target = PathOperand(path)
    if op in _COMPARE:
        return _Compare(_COMPARE[op], target, ConstOperand(values[0]))
    if op == "NULL":
        return _Exists(path, False)
    if op == "NOT_NULL":
        return _Exists(path, True)
    if op == "CONTAINS":
        return _Contains(target, ConstOperand(values[0]))
    if op == "NOT_CONTAINS":
        return _Not(_Contains(target, ConstOperand(values[0])))
    if op == "BEGINS_WITH":
        return _BeginsWith(target, ConstOperand(values[0]))
    if op == "IN":
        return _In(target, tuple(ConstOperand(value) for value in values))
    assert op == "BETWEEN"
    return _Between(target, ConstOperand(values[0]), ConstOperand(values[1]))


def _expected_leaf(name: str, spec: dict[str, Any]) -> Condition:
    """One Expected entry, with AWS's checks in AWS's order."""
    value_list = spec.get("AttributeValueList")
    value = spec.get("Value")
    op = spec.get("ComparisonOperator")
    exists = spec.get("Exists")
    if value_list is not None and value is not None:
        raise ValidationError(
            f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}"
        )
    if exists is not None and not isinstance(exists, bool):
        raise SerializationError("Unexpected value type in payload")
    if op is not None:
        if exists is not None:
            raise ValidationError(
                f"{INVALID}Exists and ComparisonOperator cannot be used together for Attribute: "
                f"{name}"
            )
        if op not in ("NULL", "NOT_NULL") and value_list is None and value is None:
            raise ValidationError(
                f"{INVALID}Value or AttributeValueList must be used with ComparisonOperator: "
                f"{op} for Attribute: {name}"
            )
        values = _value_list(value_list) if value_list is not None else []
        if value is not None:
            values = [validate_value(value)]
        _check_values(op, values, check_types=True)
        return _leaf(name, op, values)
    if value_list is not None:
        raise ValidationError(
            f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for "
            f"Attribute: {name}"
        )
    if exists is None or exists:
        if value is None:
            shown = "null" if exists is None else "true"
            raise ValidationError(
                f"{INVALID}Value must be provided when Exists is {shown} for Attribute: {name}"
            )
        return _Compare("=", PathOperand((name,)), ConstOperand(validate_value(value)))
    if value is not None:
        raise ValidationError(
            f"{INVALID}Value cannot be used when Exists is false for Attribute: {name}"
        )
    return _Exists((name,), False)


def _finish(condition: Condition, names: frozenset[str]) -> Condition:
    condition.names_used = frozenset()
    condition.values_used = frozenset()
    condition.attribute_names = names
    return condition


def legacy_condition(conditions: Any, operator: Any, member: str) -> Condition | None:
    """``Expected``, ``QueryFilter`` or ``ScanFilter`` (``member``) as one bound Condition.

    The entries are joined by ``operator`` (ConditionalOperator: AND, the default, or OR).
    Returns None for an empty map: nothing to check.
    """
    conditions = _mapping(conditions)
    expected = member == "Expected"
    _check_enums(conditions, member, required=not expected)
    leaves: list[Condition] = []
    for name, raw in conditions.items():
        spec = _structure(raw)
        if expected:
            leaves.append(_expected_leaf(name, spec))
        else:
            op = spec["ComparisonOperator"]
            values = _value_list(spec.get("AttributeValueList"))
            _check_values(op, values, check_types=True)
            leaves.append(_leaf(name, op, values))
    if not leaves:
        return None
    joined = leaves[0]
    for leaf in leaves[1:]:
        joined = _Or(joined, leaf) if operator == "OR" else _And(joined, leaf)
    return _finish(joined, frozenset(conditions))


def legacy_key_condition(conditions: Any) -> KeyCondition:
    """``KeyConditions`` as the terms a KeyConditionExpression would give."""
    conditions = _mapping(conditions)
    _check_enums(conditions, "KeyConditions", required=True)
    terms: list[KeyTerm] = []
    for name, raw in conditions.items():
        spec = _structure(raw)
        op = spec["ComparisonOperator"]
        values = _value_list(spec.get("AttributeValueList"))
        _check_values(op, values, check_types=True)
        terms.append(KeyTerm(name, op, tuple(values)))
    if not terms or len(terms) > KEY_TERMS_MAX:
        raise ValidationError(MSG_KEY_TERMS)
    for term in terms:
        if term.op not in _KEY_OPERATORS:
            raise ValidationError(MSG_NOT_INDEXABLE)
    return KeyCondition(tuple(terms), frozenset(), frozenset())


class LegacyUpdate:
    """A bound ``AttributeUpdates``: the same interface as ``Update``, applied by it."""

    __slots__ = ("actions", "names_used", "paths", "values_used")

    def __init__(self, actions: tuple[tuple[str, str, AttributeValue | None], ...]) -> None:
        self.actions = actions
        self.paths: tuple[Path, ...] = tuple((name,) for name, _, _ in actions)
        self.names_used: frozenset[str] = frozenset()
        self.values_used: frozenset[str] = frozenset()

    def apply(self, item: Item) -> UpdateResult:
        """Check each action against the item, then run them as one ``Update``."""
        sets: list[tuple[Path, _SetValue]] = []
        removes: list[Path] = []
        adds: list[tuple[Path, AttributeValue]] = []
        deletes: list[tuple[Path, AttributeValue]] = []
        for name, action, value in self.actions:
            path: Path = (name,)
            existing = item.get(name)
            if action == "PUT":
                assert value is not None
                sets.append((path, _ConstValue(value)))
            elif value is None:  # DELETE the attribute
                removes.append(path)
            else:
                kind = type_of(value)
                if existing is not None and kind not in existing:
                    raise ValidationError(MSG_TYPE_MISMATCH)
                if action == "DELETE":
                    deletes.append((path, value))
                elif kind == "L":
                    joined = (existing["L"] if existing is not None else []) + value["L"]
                    sets.append((path, _ConstValue({"L": joined})))
                else:
                    adds.append((path, value))
        update = Update(
            tuple(sets),
            tuple(removes),
            tuple(adds),
            tuple(deletes),
            self.paths,
            frozenset(),
            frozenset(),
        )
        return update.apply(item)


def legacy_update(updates: Any) -> LegacyUpdate:
    """``AttributeUpdates`` checked (AWS's order and messages) and bound."""
    updates = _mapping(updates)
    checks = Constraints()
    for name, raw in updates.items():
        spec = _structure(raw)
        action = spec.get("Action")
        if action is not None:
            checks.enum(action, f"attributeUpdates.{name}.member.action", ATTRIBUTE_ACTIONS)
    checks.raise_if_any()
    actions: list[tuple[str, str, AttributeValue | None]] = []
    for name, raw in updates.items():
        action = raw.get("Action") or "PUT"
        raw_value = raw.get("Value")
        value = validate_value(raw_value) if raw_value is not None else None
        if value is None and action != "DELETE":
            raise ValidationError(
                f"{INVALID}Only DELETE action is allowed when no attribute value is specified"
            )
        if value is not None:
            kind = type_of(value)
            if action == "DELETE" and kind not in SET_TYPES:
                raise ValidationError(
                    f"{INVALID}DELETE action with value is not supported for the type {kind}"
                )
            if action == "ADD" and kind not in SET_TYPES and kind not in ("N", "L"):
                raise ValidationError(f"{INVALID}ADD action is not supported for the type {kind}")
        actions.append((name, action, value))
    return LegacyUpdate(tuple(actions))
