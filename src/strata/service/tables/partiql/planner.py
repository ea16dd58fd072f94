"""PartiQL syntax trees -> the table service's own requests.

A statement becomes what DynamoDB itself turns it into: a SELECT one Query per partition
value or a Scan (``reads``); INSERT is a PutItem on condition that the key is free,
UPDATE an UpdateItem on condition that the item exists, DELETE a DeleteItem (its extra
WHERE terms a condition that holds only when the item exists). Conditions are written in
DynamoDB's expression language with ``#n``/``:v`` placeholders, so the expression parser
and evaluator (``expressions/``) decide them: there is one evaluator, not two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from strata.service.tables.errors import ValidationError
from strata.service.tables.partiql.tree import (
    And,
    Arithmetic,
    BagValue,
    Between,
    Call,
    Compare,
    In,
    IsType,
    ListValue,
    Literal,
    Node,
    Not,
    Or,
    Param,
    Path,
    RemoveAction,
    SetAction,
    TupleValue,
)
from strata.service.tables.schema import Table
from strata.service.tables.values import (
    MSG_DIGITS,
    MSG_OVERFLOW,
    MSG_UNDERFLOW,
    AttributeValue,
    validate_value,
)

MSG_KEYS: Final = "Where clause does not contain a mandatory equality on all key attributes"
MSG_PARAMS: Final = "Number of parameters in request and statement don't match."
MSG_LITERAL: Final = "Unsupported operation: only literals and parameters are allowed as values"
MSG_CONDITION: Final = "Unsupported operation: this expression is not a condition"
MSG_SET_MIXED: Final = (
    "Unsupported operation: a set's elements must all be strings, numbers or binaries"
)
_NUMBER_ERRORS: Final = frozenset({MSG_OVERFLOW, MSG_UNDERFLOW, MSG_DIGITS})
_VALUE_NODES: Final = (Literal, Param, ListValue, TupleValue, BagValue)
_FLIPPED: Final = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CONDITION_CALLS: Final = frozenset({"begins_with", "contains", "attribute_type"})
_SET_CALLS: Final = frozenset({"list_append", "if_not_exists"})


def bind_parameters(count: int, parameters: list[Any] | None) -> list[AttributeValue]:
    """The request's Parameters, checked against the statement's ``?`` count."""
    given = parameters or []
    if len(given) != count:
        raise ValidationError(MSG_PARAMS)
    return [validate_value(value) for value in given]


def is_value(node: Node) -> bool:
    return isinstance(node, _VALUE_NODES)


def value_of(node: Node, params: list[AttributeValue], where: str = "root") -> AttributeValue:
    """A literal (or parameter) as an attribute value, numbers in DynamoDB's form.

    ``where`` is the literal's place (``root``, ``root.m[1]``): AWS names it after a
    number's range or precision error.
    """
    if isinstance(node, Literal):
        try:
            return validate_value(node.value)
        except ValidationError as exc:
            if exc.message in _NUMBER_ERRORS:
                raise ValidationError(f"{exc.message} under {where}") from None
            raise
    if isinstance(node, Param):
        return params[node.index]
    if isinstance(node, ListValue):
        return {"L": [value_of(item, params, f"{where}[{i}]") for i, item in enumerate(node.items)]}
    if isinstance(node, TupleValue):
        return {
            "M": {name: value_of(item, params, f"{where}.{name}") for name, item in node.entries}
        }
    if isinstance(node, BagValue):
        members = [value_of(item, params, f"{where}[{i}]") for i, item in enumerate(node.items)]
        kinds = {next(iter(member)) for member in members}
        if len(kinds) > 1 or not kinds <= {"S", "N", "B"}:
            raise ValidationError(MSG_SET_MIXED)
        kind = kinds.pop() if kinds else "S"
        return validate_value({kind + "S": [member[kind] for member in members]})
    raise ValidationError(MSG_LITERAL)


def conjuncts(node: Node | None) -> list[Node]:
    """The terms of a top-level AND chain, left to right."""
    if node is None:
        return []
    out: list[Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, And):
            pending.append(current.right)
            pending.append(current.left)
        else:
            out.append(current)
    return out


def _top_name(node: Node) -> str | None:
    """The attribute a one-part path names (key conditions need a top-level attribute)."""
    if isinstance(node, Path) and len(node.parts) == 1 and isinstance(node.parts[0], str):
        return node.parts[0]
    return None


def _key_equality(node: Node, names: tuple[str, ...]) -> tuple[str, Node] | None:
    if not isinstance(node, Compare) or node.op != "=":
        return None
    for attribute, other in ((node.left, node.right), (node.right, node.left)):
        name = _top_name(attribute)
        if name in names and is_value(other):
            assert name is not None
            return name, other
    return None


def split_key(
    where: Node | None, names: tuple[str, ...], params: list[AttributeValue]
) -> tuple[dict[str, AttributeValue], list[Node]]:
    """Equalities on ``names`` (first one each) and the other WHERE terms."""
    found: dict[str, AttributeValue] = {}
    rest: list[Node] = []
    for term in conjuncts(where):
        equality = _key_equality(term, names)
        if equality is not None and equality[0] not in found:
            found[equality[0]] = value_of(equality[1], params)
        else:
            rest.append(term)
    return found, rest


def full_key(
    table: Table, where: Node | None, params: list[AttributeValue]
) -> tuple[dict[str, AttributeValue], list[Node]]:
    """A write's primary key from its WHERE, or AWS's error when an attribute is missing."""
    key, rest = split_key(where, table.key_names, params)
    if len(key) != len(table.key_names):
        raise ValidationError(MSG_KEYS)
    return {name: key[name] for name in table.key_names}, rest


def join_and(terms: list[Node]) -> Node | None:
    node: Node | None = None
    for term in terms:
        node = term if node is None else And(node, term)
    return node


# ---------------------------------------------------------------------------------------
# Expression text


@dataclass(slots=True)
class Expressions:
    """Placeholders for one request: every name and value its expressions use."""

    params: list[AttributeValue]
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        placeholder = self._by_name.get(attribute)
        if placeholder is None:
            placeholder = f"#n{len(self._by_name)}"
            self._by_name[attribute] = placeholder
            self.names[placeholder] = attribute
        return placeholder

    def value(self, value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def path(self, path: Path) -> str:
        text = ""
        for part in path.parts:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += ("." if text else "") + self.name(part)
        return text

    def members(self) -> dict[str, Any]:
        """ExpressionAttributeNames and ExpressionAttributeValues, when there are any."""
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out

    # -- conditions -------------------------------------------------------------------

    def operand(self, node: Node) -> str:
        if isinstance(node, Path):
            return self.path(node)
        if is_value(node):
            return self.value(value_of(node, self.params))
        if isinstance(node, Call) and node.name == "size":
            return f"size({', '.join(self.operand(arg) for arg in node.args)})"
        raise ValidationError(MSG_CONDITION)

    def condition(self, node: Node) -> str:
        if isinstance(node, And):
            return f"{self._grouped(node.left)} AND {self._grouped(node.right)}"
        if isinstance(node, Or):
            return f"{self.condition(node.left)} OR {self.condition(node.right)}"
        if isinstance(node, Not):
            inner = node.inner
            text = self.condition(inner)
            return f"NOT ({text})" if isinstance(inner, And | Or) else f"NOT {text}"
        if isinstance(node, Compare):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Between):
            low, high = self.operand(node.low), self.operand(node.high)
            return f"{self.operand(node.operand)} BETWEEN {low} AND {high}"
        if isinstance(node, In):
            return f"{self.operand(node.operand)} IN ({', '.join(self._options(node))})"
        if isinstance(node, IsType):
            return self._is_type(node)
        if isinstance(node, Call) and node.name in _CONDITION_CALLS:
            return f"{node.name}({', '.join(self.operand(arg) for arg in node.args)})"
        raise ValidationError(MSG_CONDITION)

    def _grouped(self, node: Node) -> str:
        text = self.condition(node)
        return f"({text})" if isinstance(node, Or) else text

    def _options(self, node: In) -> list[str]:
        if len(node.options) == 1 and isinstance(node.options[0], Param):
            listed = self.params[node.options[0].index].get("L")
            if isinstance(listed, list):  # IN ? with a list parameter: its elements
                return [self.value(option) for option in listed]
        return [self.operand(option) for option in node.options]

    def _is_type(self, node: IsType) -> str:
        if not isinstance(node.operand, Path):
            raise ValidationError(MSG_CONDITION)
        path = self.path(node.operand)
        if node.type_name == "MISSING":
            return f"attribute_exists({path})" if node.negated else f"attribute_not_exists({path})"
        # PartiQL: MISSING IS NULL is true, so a missing attribute is NULL too.
        null = self.value({"S": "NULL"})
        if node.negated:
            return f"attribute_exists({path}) AND NOT attribute_type({path}, {null})"
        return f"(attribute_not_exists({path}) OR attribute_type({path}, {null}))"

    # -- updates ----------------------------------------------------------------------

    def update(self, actions: tuple[SetAction | RemoveAction, ...]) -> str:
        """The UpdateExpression for an UPDATE's SET and REMOVE clauses."""
        sections: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for action in actions:
            path = self.path(action.path)
            if isinstance(action, RemoveAction):
                sections["REMOVE"].append(path)
                continue
            value = action.value
            if isinstance(value, Call) and value.name in ("set_add", "set_delete"):
                if len(value.args) != 2 or value.args[0] != action.path:
                    raise ValidationError(
                        f"Unsupported operation: {value.name} must name the attribute it sets"
                    )
                section = "ADD" if value.name == "set_add" else "DELETE"
                sections[section].append(
                    f"{path} {self.value(value_of(value.args[1], self.params))}"
                )
                continue
            sections["SET"].append(f"{path} = {self.set_value(value)}")
        return " ".join(
            f"{section} {', '.join(parts)}" for section, parts in sections.items() if parts
        )

    def set_value(self, node: Node) -> str:
        if isinstance(node, Arithmetic):
            return f"{self.set_value(node.left)} {node.op} {self.set_value(node.right)}"
        if isinstance(node, Call) and node.name in _SET_CALLS:
            return f"{node.name}({', '.join(self.set_value(arg) for arg in node.args)})"
        if isinstance(node, Path):
            return self.path(node)
        if is_value(node):
            return self.value(value_of(node, self.params))
        raise ValidationError(MSG_LITERAL)


# ---------------------------------------------------------------------------------------
# Writes


MSG_INSERT_ITEM: Final = "Unsupported operation: the value of an INSERT must be a tuple"
MSG_INDEX_WRITE: Final = "Unsupported operation: an index cannot be the target of a write"
_UPDATE_RETURNS: Final = {
    "ALL OLD": "ALL_OLD",
    "MODIFIED OLD": "UPDATED_OLD",
    "ALL NEW": "ALL_NEW",
    "MODIFIED NEW": "UPDATED_NEW",
}


@dataclass(frozen=True, slots=True)
class WritePlan:
    """One item write as the table service's request (and as a transaction's action).

    ``action``: Put, Update, Delete or ConditionCheck (TransactWriteItems' words);
    ``request`` holds TableName, Item or Key, and the expression members.
    """

    action: str
    request: dict[str, Any]
    insert: bool = False


def plan_insert(table: Table, item: Node, params: list[AttributeValue]) -> WritePlan:
    value = value_of(item, params)
    attributes = value.get("M")
    if not isinstance(attributes, dict):
        raise ValidationError(MSG_INSERT_ITEM)
    builder = Expressions(params)
    condition = f"attribute_not_exists({builder.name(table.hash.name)})"
    request = {
        "TableName": table.name,
        "Item": attributes,
        "ConditionExpression": condition,
        **builder.members(),
    }
    return WritePlan("Put", request, insert=True)


def plan_update(
    table: Table,
    actions: tuple[SetAction | RemoveAction, ...],
    where: Node | None,
    returning: str | None,
    params: list[AttributeValue],
) -> WritePlan:
    """UPDATE is no upsert: the item must exist, and the rest of the WHERE must hold."""
    key, rest = full_key(table, where, params)
    builder = Expressions(params)
    update = builder.update(actions)
    condition = _present_and(builder, table, rest)
    request: dict[str, Any] = {
        "TableName": table.name,
        "Key": key,
        "UpdateExpression": update,
        "ConditionExpression": condition,
        **builder.members(),
    }
    if returning is not None:
        request["ReturnValues"] = _UPDATE_RETURNS[returning]
    return WritePlan("Update", request)


def plan_delete(
    table: Table, where: Node | None, returning: str | None, params: list[AttributeValue]
) -> WritePlan:
    """A DELETE of a missing item succeeds; of a present one, the rest of the WHERE must hold."""
    if returning is not None and returning != "ALL OLD":
        raise ValidationError(
            f"Invalid returning clause: RETURNING {returning} *. Only RETURNING ALL OLD * is "
            "allowed in DELETE statements."
        )
    key, rest = full_key(table, where, params)
    request: dict[str, Any] = {"TableName": table.name, "Key": key}
    residual = join_and(rest)
    if residual is not None:
        builder = Expressions(params)
        absent = f"attribute_not_exists({builder.name(table.hash.name)})"
        request["ConditionExpression"] = f"{absent} OR ({builder.condition(residual)})"
        request.update(builder.members())
    if returning is not None:
        request["ReturnValues"] = "ALL_OLD"
    return WritePlan("Delete", request)


def plan_exists(table: Table, where: Node | None, params: list[AttributeValue]) -> WritePlan:
    """EXISTS(SELECT ... full key [AND ...]): a ConditionCheck that the item is there."""
    key, rest = full_key(table, where, params)
    builder = Expressions(params)
    condition = _present_and(builder, table, rest)
    request = {
        "TableName": table.name,
        "Key": key,
        "ConditionExpression": condition,
        **builder.members(),
    }
    return WritePlan("ConditionCheck", request)


def _present_and(builder: Expressions, table: Table, rest: list[Node]) -> str:
    """The condition that the item exists and the rest of the WHERE holds for it."""
    condition = f"attribute_exists({builder.name(table.hash.name)})"
    residual = join_and(rest)
    if residual is not None:
        condition += f" AND ({builder.condition(residual)})"
    return condition
