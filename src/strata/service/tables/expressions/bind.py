"""Binding a syntax tree to a request's names and values, and evaluating the result.

Binding resolves ``#name`` and ``:value`` placeholders and runs the checks that depend on
them (undefined placeholders, operand types, overlapping update paths), in AWS's order.
The bound objects evaluate against items many times: a Query's filter runs on every item
read, so evaluation does no parsing, no regex work and no deep copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeAlias

from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions.syntax import (
    IN_OPERANDS_MAX,
    AndSyntax,
    ArithmeticSyntax,
    BetweenSyntax,
    CallSyntax,
    CompareSyntax,
    ConditionSyntax,
    FunctionSyntax,
    InSyntax,
    NotSyntax,
    OperandSyntax,
    OrSyntax,
    PathSyntax,
    ProjectionSyntax,
    SetValueSyntax,
    UpdateSyntax,
    ValueSyntax,
)
from strata.service.tables.values import (
    SET_TYPES,
    TYPES,
    AttributeValue,
    Item,
    add_numbers,
    compare_values,
    decode_binary,
    render_value,
    subtract_numbers,
    to_decimal,
    type_of,
    values_equal,
)

Path: TypeAlias = tuple[str | int, ...]
"""A resolved document path: attribute and map-key names (str) and list indexes (int)."""

MSG_MISSING_OPERAND: Final = (
    "The provided expression refers to an attribute that does not exist in the item"
)
MSG_BAD_OPERAND_TYPE: Final = "An operand in the update expression has an incorrect data type"
MSG_BAD_PATH: Final = "The document path provided in the update expression is invalid for update"

_ARITY: Final = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}
_ORDERABLE: Final = frozenset({"S", "N", "B"})
_TYPE_WORDS: Final = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "NULL": "NULL",
    "BOOL": "BOOLEAN",
    "L": "LIST",
    "M": "MAP",
}


def path_text(path: Path) -> str:
    """``[a, b, [2]]``: how AWS prints a document path in messages."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


def resolve(item: Item, path: Path) -> AttributeValue | None:
    """The value at ``path`` in ``item``, or None if any step is missing or of another type."""
    value = item.get(path[0])  # type: ignore[arg-type]
    for part in path[1:]:
        if value is None:
            return None
        if type(part) is int:
            items = value.get("L")
            if items is None or part >= len(items):
                return None
            value = items[part]
        else:
            entries = value.get("M")
            if entries is None:
                return None
            value = entries.get(part)
    return value


# ---------------------------------------------------------------------------------------
# Operands


class Operand:
    """Something that yields a value (or nothing) for an item."""

    __slots__ = ()

    def get(self, item: Item) -> AttributeValue | None:
        raise NotImplementedError


class PathOperand(Operand):
    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, item: Item) -> AttributeValue | None:
        return resolve(item, self.path)


class ConstOperand(Operand):
    __slots__ = ("value",)

    def __init__(self, value: AttributeValue) -> None:
        self.value = value

    def get(self, item: Item) -> AttributeValue | None:
        return self.value


class SizeOperand(Operand):
    """``size(x)``: nothing for types without a size, so comparisons with it are false."""

    __slots__ = ("inner",)

    def __init__(self, inner: Operand) -> None:
        self.inner = inner

    def get(self, item: Item) -> AttributeValue | None:
        value = self.inner.get(item)
        if value is None:
            return None
        for kind, raw in value.items():
            if kind == "S" or kind in SET_TYPES or kind == "L" or kind == "M":
                return {"N": str(len(raw))}
            if kind == "B":
                return {"N": str(len(decode_binary(raw)))}
        return None


# ---------------------------------------------------------------------------------------
# Conditions


class Condition:
    """A bound condition or filter: ``evaluate(item)`` is True when the item satisfies it.

    ``names_used`` and ``values_used`` feed the request-wide unused-placeholder check;
    ``attribute_names`` are the top-level attributes it reads (a Query filter may not read
    key attributes). An absent item is evaluated as ``{}``.
    """

    __slots__ = ("attribute_names", "names_used", "values_used")

    names_used: frozenset[str]
    values_used: frozenset[str]
    attribute_names: frozenset[str]

    def evaluate(self, item: Item) -> bool:
        raise NotImplementedError


class _Compare(Condition):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Operand, right: Operand) -> None:
        self.op = op
        self.left = left
        self.right = right

    def evaluate(self, item: Item) -> bool:
        a = self.left.get(item)
        b = self.right.get(item)
        op = self.op
        if op == "=":
            return a is not None and b is not None and values_equal(a, b)
        if op == "<>":
            # An absent operand is unequal to anything, another absent one included: AWS
            # finds `a <> b` true when neither attribute exists.
            return a is None or b is None or not values_equal(a, b)
        if a is None or b is None:
            return False
        order = compare_values(a, b)
        if order is None:
            return False
        if op == "<":
            return order < 0
        if op == "<=":
            return order <= 0
        if op == ">":
            return order > 0
        return order >= 0


class _Between(Condition):
    __slots__ = ("high", "low", "operand")

    def __init__(self, operand: Operand, low: Operand, high: Operand) -> None:
        self.operand = operand
        self.low = low
        self.high = high

    def evaluate(self, item: Item) -> bool:
        value = self.operand.get(item)
        low = self.low.get(item)
        high = self.high.get(item)
        if value is None or low is None or high is None:
            return False
        above = compare_values(value, low)
        below = compare_values(value, high)
        return above is not None and below is not None and above >= 0 and below <= 0


class _In(Condition):
    __slots__ = ("operand", "options")

    def __init__(self, operand: Operand, options: tuple[Operand, ...]) -> None:
        self.operand = operand
        self.options = options

    def evaluate(self, item: Item) -> bool:
        value = self.operand.get(item)
        if value is None:
            return False
        for option in self.options:
            candidate = option.get(item)
            if candidate is not None and values_equal(value, candidate):
                return True
        return False


class _Exists(Condition):
    __slots__ = ("expected", "path")

    def __init__(self, path: Path, expected: bool) -> None:
        self.path = path
        self.expected = expected

    def evaluate(self, item: Item) -> bool:
        return (resolve(item, self.path) is not None) is self.expected


class _AttributeType(Condition):
    __slots__ = ("operand", "type_name")

    def __init__(self, operand: Operand, type_name: Operand) -> None:
        self.operand = operand
        self.type_name = type_name

    def evaluate(self, item: Item) -> bool:
        value = self.operand.get(item)
        wanted = self.type_name.get(item)
        if value is None or wanted is None:
            return False
        return type_of(value) == wanted.get("S")


class _BeginsWith(Condition):
    __slots__ = ("operand", "prefix")

    def __init__(self, operand: Operand, prefix: Operand) -> None:
        self.operand = operand
        self.prefix = prefix

    def evaluate(self, item: Item) -> bool:
        value = self.operand.get(item)
        prefix = self.prefix.get(item)
        if value is None or prefix is None:
            return False
        text = value.get("S")
        if text is not None:
            start = prefix.get("S")
            return start is not None and bool(text.startswith(start))
        data = value.get("B")
        start = prefix.get("B")
        if data is None or start is None:
            return False
        return decode_binary(data).startswith(decode_binary(start))


class _Contains(Condition):
    __slots__ = ("needle", "operand")

    def __init__(self, operand: Operand, needle: Operand) -> None:
        self.operand = operand
        self.needle = needle

    def evaluate(self, item: Item) -> bool:
        value = self.operand.get(item)
        needle = self.needle.get(item)
        if value is None or needle is None:
            return False
        kind = type_of(value)
        raw = value[kind]
        if kind == "S":
            part = needle.get("S")
            return part is not None and part in raw
        if kind == "SS":
            part = needle.get("S")
            return part is not None and part in raw
        if kind == "NS":
            part = needle.get("N")
            if part is None:
                return False
            number = to_decimal(part)
            return any(to_decimal(member) == number for member in raw)
        if kind == "BS":
            part = needle.get("B")
            return part is not None and part in raw
        if kind == "B":
            part = needle.get("B")
            return part is not None and decode_binary(part) in decode_binary(raw)
        if kind == "L":
            return any(values_equal(element, needle) for element in raw)
        return False


class _Not(Condition):
    __slots__ = ("inner",)

    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def evaluate(self, item: Item) -> bool:
        return not self.inner.evaluate(item)


class _And(Condition):
    __slots__ = ("left", "right")

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def evaluate(self, item: Item) -> bool:
        return self.left.evaluate(item) and self.right.evaluate(item)


class _Or(Condition):
    __slots__ = ("left", "right")

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def evaluate(self, item: Item) -> bool:
        return self.left.evaluate(item) or self.right.evaluate(item)


# ---------------------------------------------------------------------------------------
# Binding


class _Binder:
    """Resolves placeholders for one request and remembers which ones were used."""

    def __init__(
        self,
        names: Mapping[str, str] | None,
        values: Mapping[str, AttributeValue] | None,
        prefix: str,
    ) -> None:
        self.names: Mapping[str, str] = names or {}
        self.values: Mapping[str, AttributeValue] = values or {}
        self.prefix = prefix
        self.names_used: set[str] = set()
        self.values_used: set[str] = set()
        self.attributes: set[str] = set()

    def error(self, message: str) -> ValidationError:
        return ValidationError(self.prefix + message)

    def missing_in_path(self, path: PathSyntax) -> str | None:
        for part in path.parts:
            if isinstance(part, str) and part.startswith("#") and part not in self.names:
                return (
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {part}"
                )
        return None

    def missing_value(self, value: ValueSyntax) -> str | None:
        if value.name not in self.values:
            return (
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {value.name}"
            )
        return None

    def missing_in_operand(self, operand: OperandSyntax | ArithmeticSyntax) -> str | None:
        if isinstance(operand, PathSyntax):
            return self.missing_in_path(operand)
        if isinstance(operand, ValueSyntax):
            return self.missing_value(operand)
        for arg in (
            (operand.left, operand.right) if isinstance(operand, ArithmeticSyntax) else operand.args
        ):
            message = self.missing_in_operand(arg)
            if message is not None:
                return message
        return None

    def path(self, path: PathSyntax) -> Path:
        """Resolve (after ``missing_in_path`` said every placeholder is defined)."""
        out: list[str | int] = []
        for part in path.parts:
            if isinstance(part, str) and part.startswith("#"):
                self.names_used.add(part)
                out.append(self.names[part])
            else:
                out.append(part)
        self.attributes.add(str(out[0]))
        return tuple(out)

    def value(self, value: ValueSyntax) -> AttributeValue:
        self.values_used.add(value.name)
        return self.values[value.name]

    def known_type(self, operand: OperandSyntax) -> str | None:
        """The type of an operand when it is known before evaluation."""
        if isinstance(operand, ValueSyntax):
            return type_of(self.values[operand.name])
        if isinstance(operand, CallSyntax) and operand.name == "size":
            return "N"
        return None

    def operand(self, operand: OperandSyntax) -> Operand:
        if isinstance(operand, PathSyntax):
            return PathOperand(self.path(operand))
        if isinstance(operand, ValueSyntax):
            return ConstOperand(self.value(operand))
        assert operand.name == "size", "other functions are rejected by the parser"
        return SizeOperand(self.operand(operand.args[0]))

    # -- condition checks, per leaf in AWS's order ------------------------------------

    def leaf_error(self, leaf: ConditionSyntax) -> str | None:
        operands = _leaf_operands(leaf)
        for operand in operands:
            message = self.missing_in_operand(operand)
            if message is not None:
                return message
        calls = [c for operand in operands for c in _calls(operand)]
        if isinstance(leaf, FunctionSyntax):
            calls.append(leaf.call)
        for call in calls:
            if len(call.args) != _ARITY[call.name]:
                return (
                    "Incorrect number of operands for operator or function; "
                    f"operator or function: {call.name}, number of operands: {len(call.args)}"
                )
        if isinstance(leaf, InSyntax) and len(leaf.options) > IN_OPERANDS_MAX:
            return (
                "The IN operator is provided with too many operands; "
                f"number of operands: {len(leaf.options)}"
            )
        for call in calls:
            message = self.distinct_error(call.name, call.args)
            if message is not None:
                return message
        if isinstance(leaf, CompareSyntax):
            message = self.distinct_error(leaf.op, (leaf.left, leaf.right))
            if message is not None:
                return message
        for call in calls:
            message = self.function_error(call)
            if message is not None:
                return message
        if isinstance(leaf, CompareSyntax) and leaf.op not in ("=", "<>"):
            return self.orderable_error(leaf.op, (leaf.left, leaf.right))
        if isinstance(leaf, BetweenSyntax):
            return self.orderable_error(
                "BETWEEN", (leaf.operand, leaf.low, leaf.high)
            ) or self.between_error(leaf)
        return None

    def distinct_error(self, name: str, args: tuple[OperandSyntax, ...]) -> str | None:
        if len(args) != 2:
            return None
        first, second = args
        if not isinstance(first, PathSyntax) or not isinstance(second, PathSyntax):
            return None
        resolved = self.path(first)
        if resolved != self.path(second):
            return None
        return (
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {name}, first operand: {path_text(resolved)}"
        )

    def function_error(self, call: CallSyntax) -> str | None:
        name = call.name
        args = call.args
        if name in ("attribute_exists", "attribute_not_exists"):
            if not isinstance(args[0], PathSyntax):
                return (
                    f"Operator or function requires a document path; operator or function: {name}"
                )
        elif name == "begins_with":
            for arg in args:
                kind = self.known_type(arg)
                if kind is not None and kind not in ("S", "B"):
                    return _operand_type_message(name, kind)
        elif name == "attribute_type":
            kind = self.known_type(args[1])
            if kind != "S":
                return _operand_type_message(name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
            assert isinstance(args[1], ValueSyntax)
            wanted = self.values[args[1].name]["S"]
            if wanted not in TYPES:
                return (
                    f"Invalid attribute type name found; type: {wanted}, "
                    "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
        elif name == "size":
            kind = self.known_type(args[0])
            if kind in ("N", "BOOL", "NULL"):
                return _operand_type_message(name, kind)
        return None

    def orderable_error(self, name: str, operands: tuple[OperandSyntax, ...]) -> str | None:
        for operand in operands:
            if isinstance(operand, ValueSyntax):
                kind = type_of(self.values[operand.name])
                if kind not in _ORDERABLE:
                    return _operand_type_message(name, kind)
        return None

    def between_error(self, leaf: BetweenSyntax) -> str | None:
        if not isinstance(leaf.low, ValueSyntax) or not isinstance(leaf.high, ValueSyntax):
            return None
        low = self.values[leaf.low.name]
        high = self.values[leaf.high.name]
        bounds = (
            f"lower bound operand: AttributeValue: {render_value(low)}, "
            f"upper bound operand: AttributeValue: {render_value(high)}"
        )
        if type_of(low) != type_of(high):
            return (
                f"The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"
            )
        order = compare_values(low, high)
        if order is not None and order > 0:
            return (
                "The BETWEEN operator requires upper bound to be greater than or equal to "
                f"lower bound; {bounds}"
            )
        return None

    # -- building evaluable conditions ------------------------------------------------

    def condition(self, syntax: ConditionSyntax) -> Condition:
        for leaf in _leaves(syntax):
            message = self.leaf_error(leaf)
            if message is not None:
                raise self.error(message)
        return self._build(syntax)

    def _build(self, syntax: ConditionSyntax) -> Condition:
        if isinstance(syntax, AndSyntax):
            return _And(self._build(syntax.left), self._build(syntax.right))
        if isinstance(syntax, OrSyntax):
            return _Or(self._build(syntax.left), self._build(syntax.right))
        if isinstance(syntax, NotSyntax):
            return _Not(self._build(syntax.inner))
        if isinstance(syntax, CompareSyntax):
            return _Compare(syntax.op, self.operand(syntax.left), self.operand(syntax.right))
        if isinstance(syntax, BetweenSyntax):
            return _Between(
                self.operand(syntax.operand), self.operand(syntax.low), self.operand(syntax.high)
            )
        if isinstance(syntax, InSyntax):
            return _In(self.operand(syntax.operand), tuple(self.operand(o) for o in syntax.options))
        call = syntax.call
        if call.name in ("attribute_exists", "attribute_not_exists"):
            first = call.args[0]
            assert isinstance(first, PathSyntax)
            return _Exists(self.path(first), call.name == "attribute_exists")
        first_operand = self.operand(call.args[0])
        second_operand = self.operand(call.args[1])
        if call.name == "attribute_type":
            return _AttributeType(first_operand, second_operand)
        if call.name == "begins_with":
            return _BeginsWith(first_operand, second_operand)
        assert call.name == "contains"
        return _Contains(first_operand, second_operand)


def _operand_type_message(name: str, kind: str) -> str:
    return (
        "Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {kind}"
    )


def _leaves(syntax: ConditionSyntax) -> list[ConditionSyntax]:
    """The comparisons and function calls of a condition, in source order."""
    out: list[ConditionSyntax] = []
    stack: list[ConditionSyntax] = [syntax]
    while stack:
        node = stack.pop()
        if isinstance(node, (AndSyntax, OrSyntax)):
            stack.append(node.right)
            stack.append(node.left)
        elif isinstance(node, NotSyntax):
            stack.append(node.inner)
        else:
            out.append(node)
    return out


def _leaf_operands(leaf: ConditionSyntax) -> tuple[OperandSyntax, ...]:
    if isinstance(leaf, CompareSyntax):
        return (leaf.left, leaf.right)
    if isinstance(leaf, BetweenSyntax):
        return (leaf.operand, leaf.low, leaf.high)
    if isinstance(leaf, InSyntax):
        return (leaf.operand, *leaf.options)
    assert isinstance(leaf, FunctionSyntax)
    return leaf.call.args


def _calls(operand: OperandSyntax | ArithmeticSyntax) -> list[CallSyntax]:
    """Function calls inside an operand, innermost first (the order AWS checks them)."""
    if isinstance(operand, CallSyntax):
        inner = [c for arg in operand.args for c in _calls(arg)]
        return [*inner, operand]
    if isinstance(operand, ArithmeticSyntax):
        return _calls(operand.left) + _calls(operand.right)
    return []


def bind_condition(
    syntax: ConditionSyntax,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
    kind: str,
    checked: bool = False,
) -> Condition:
    """Bind a parsed condition; ValidationException messages carry ``Invalid <kind>: ``.

    ``checked``: the same text, names and value types bound before without an error and
    ``reads_values(syntax)`` is false, so the checks are skipped and only the build runs.
    """
    binder = _Binder(names, values, f"Invalid {kind}: ")
    condition = binder._build(syntax) if checked else binder.condition(syntax)
    condition.names_used = frozenset(binder.names_used)
    condition.values_used = frozenset(binder.values_used)
    condition.attribute_names = frozenset(binder.attributes)
    return condition


def reads_values(syntax: ConditionSyntax) -> bool:
    """Whether binding ``syntax`` checks the values themselves, not only their types.

    BETWEEN compares its bounds and attribute_type reads its type name; every other check
    depends on the text, the names and the types of the values only.
    """
    for leaf in _leaves(syntax):
        if isinstance(leaf, BetweenSyntax):
            return True
        for operand in _leaf_operands(leaf):
            if any(call.name == "attribute_type" for call in _calls(operand)):
                return True
        if isinstance(leaf, FunctionSyntax) and leaf.call.name == "attribute_type":
            return True
    return False


# ---------------------------------------------------------------------------------------
# Key conditions


# One term per key attribute: two for a table or a one-attribute index key, up to eight
# for a GSI's multi-attribute key (``KeyCondition.resolve`` holds the others to two).
KEY_TERMS_MAX: Final = 8
MSG_KEY_TERMS: Final = "Conditions can be of length 1 or 2 only"
KEY_OPERATORS: Final = ("EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH")
_KEY_OPS: Final = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIPPED: Final = {"EQ": "EQ", "LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE"}
_KEY_VALUE_TYPES: Final = {
    "EQ": ("S", "N", "B", "SS", "NS", "BS"),
    "LT": ("S", "N", "B"),
    "LE": ("S", "N", "B"),
    "GT": ("S", "N", "B"),
    "GE": ("S", "N", "B"),
    "BETWEEN": ("S", "N", "B"),
    "BEGINS_WITH": ("S", "B"),
}


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """One condition on one key attribute: ``name op values``.

    ``op`` is EQ, LT, LE, GT, GE (one value), BETWEEN (low, high) or BEGINS_WITH (prefix),
    so the query planner can turn it into a range of the encoded sort key.
    """

    name: str
    op: str
    values: tuple[AttributeValue, ...]

    def matches(self, value: AttributeValue | None) -> bool:
        """Whether a stored key value satisfies this term (for index scans and tests)."""
        if value is None:
            return False
        op = self.op
        if op == "EQ":
            return values_equal(value, self.values[0])
        if op == "BEGINS_WITH":
            return _BeginsWith(ConstOperand(value), ConstOperand(self.values[0])).evaluate({})
        if op == "BETWEEN":
            low = compare_values(value, self.values[0])
            high = compare_values(value, self.values[1])
            return low is not None and high is not None and low >= 0 and high <= 0
        order = compare_values(value, self.values[0])
        if order is None:
            return False
        if op == "LT":
            return order < 0
        if op == "LE":
            return order <= 0
        if op == "GT":
            return order > 0
        return order >= 0


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """A parsed KeyConditionExpression: one or two terms, not yet matched to a key schema."""

    terms: tuple[KeyTerm, ...]
    names_used: frozenset[str]
    values_used: frozenset[str]

    def resolve(
        self,
        hash_key: str,
        range_key: str | None,
        attribute_types: Mapping[str, str] | None = None,
    ) -> tuple[AttributeValue, KeyTerm | None]:
        """Match the terms to a table's or index's key schema.

        Returns the partition key value and the sort-key term (or None); raises AWS's
        errors when a term names another attribute or uses an operator the key cannot.
        ``attribute_types`` (name -> S/N/B) enables the schema type check.
        """
        if len(self.terms) > 2:
            raise ValidationError(MSG_KEY_TERMS)
        hash_term = next((t for t in self.terms if t.name == hash_key), None)
        if hash_term is None:
            raise ValidationError(f"Query condition missed key schema element: {hash_key}")
        if hash_term.op != "EQ":
            raise ValidationError("Query key condition not supported")
        range_term: KeyTerm | None = None
        for term in self.terms:
            if term is hash_term:
                continue
            if range_key is None:
                raise ValidationError("Query key condition not supported")
            if term.name != range_key:
                raise ValidationError(f"Query condition missed key schema element: {range_key}")
            range_term = term
        if attribute_types is not None:
            for term in (hash_term, range_term or hash_term):
                expected = attribute_types.get(term.name)
                if expected is not None and any(type_of(v) != expected for v in term.values):
                    raise ValidationError(
                        "One or more parameter values were invalid: "
                        "Condition parameter type does not match schema type"
                    )
        return hash_term.values[0], range_term

    def resolve_composite(
        self,
        hash_keys: tuple[str, ...],
        range_keys: tuple[str, ...],
        attribute_types: Mapping[str, str],
    ) -> tuple[list[AttributeValue], list[AttributeValue], KeyTerm | None]:
        """Match the terms to a multi-attribute key (a GSI's, up to four and four).

        AWS's rules: equality on every partition attribute; on the sort attributes, a
        left-to-right prefix, equality on all but the last, which may be any key operator.
        Returns the partition values, the sort attributes' equality values before the last
        term, and that last term (None when there are no sort terms). The words are those
        of one-attribute keys: the element a condition misses, or "not supported".
        """
        by_name = {t.name: t for t in self.terms}
        hash_values: list[AttributeValue] = []
        for name in hash_keys:
            term = by_name.get(name)
            if term is None:
                raise ValidationError(f"Query condition missed key schema element: {name}")
            if term.op != "EQ":
                raise ValidationError("Query key condition not supported")
            hash_values.append(term.values[0])
        given = [by_name.get(name) for name in range_keys]
        depth = len(given)
        while depth and given[depth - 1] is None:
            depth -= 1
        if len(hash_keys) + depth != len(self.terms):  # a term names no key attribute
            gap = next((n for n, t in zip(range_keys, given, strict=True) if t is None), None)
            if gap is None:
                raise ValidationError("Query key condition not supported")
            raise ValidationError(f"Query condition missed key schema element: {gap}")
        for name, term in zip(range_keys[:depth], given[:depth], strict=True):
            if term is None:
                raise ValidationError(f"Query condition missed key schema element: {name}")
        prefix = [t for t in given[: depth - 1] if t is not None]
        if any(t.op != "EQ" for t in prefix):
            raise ValidationError("Query key condition not supported")
        for term in self.terms:
            expected = attribute_types.get(term.name)
            if expected is not None and any(type_of(v) != expected for v in term.values):
                raise ValidationError(
                    "One or more parameter values were invalid: "
                    "Condition parameter type does not match schema type"
                )
        return hash_values, [t.values[0] for t in prefix], given[depth - 1] if depth else None


def _key_error(syntax: ConditionSyntax, binder: _Binder, terms: dict[str, KeyTerm]) -> str | None:
    """Turn a bound key condition into terms; AWS's KeyConditionExpression errors."""
    if isinstance(syntax, OrSyntax):
        return "Invalid operator used in KeyConditionExpression: OR"
    if isinstance(syntax, NotSyntax):
        return "Invalid operator used in KeyConditionExpression: NOT"
    if isinstance(syntax, InSyntax):
        return "Invalid operator used in KeyConditionExpression: IN"
    if isinstance(syntax, AndSyntax):
        return _key_error(syntax.left, binder, terms) or _key_error(syntax.right, binder, terms)
    operands: tuple[OperandSyntax, ...]
    if isinstance(syntax, CompareSyntax):
        if syntax.op == "<>":
            return "Invalid operator used in KeyConditionExpression: <>"
        op = _KEY_OPS[syntax.op]
        operands = (syntax.left, syntax.right)
    elif isinstance(syntax, BetweenSyntax):
        op = "BETWEEN"
        operands = (syntax.operand, syntax.low, syntax.high)
    else:
        assert isinstance(syntax, FunctionSyntax)
        name = syntax.call.name
        if name != "begins_with":
            return f"Invalid operator used in KeyConditionExpression: {name}"
        op = "BEGINS_WITH"
        operands = syntax.call.args
    if any(isinstance(operand, CallSyntax) for operand in operands):
        return "KeyConditionExpressions cannot contain nested operations"
    if op in ("BETWEEN", "BEGINS_WITH") and not isinstance(operands[0], PathSyntax):
        word = "BETWEEN" if op == "BETWEEN" else "begins_with"
        return (
            f"Invalid condition in KeyConditionExpression: {word} operator must have the key "
            "attribute as its first operand"
        )
    key: Path | None = None
    key_index = 0
    for index, operand in enumerate(operands):
        if isinstance(operand, PathSyntax):
            if key is not None:
                return (
                    "Invalid condition in KeyConditionExpression: "
                    "Multiple attribute names used in one condition"
                )
            key = binder.path(operand)
            if len(key) > 1:
                return "KeyConditionExpressions cannot have conditions on nested attributes"
            key_index = index
    if key is None:
        return "Invalid condition in KeyConditionExpression: No key attribute specified"
    key_name = key[0]
    assert isinstance(key_name, str)
    if key_name in terms:
        return "KeyConditionExpressions must only contain one condition per key"
    if key_index != 0:
        op = _FLIPPED[op]
    values = tuple(
        binder.value(operand) for operand in operands if isinstance(operand, ValueSyntax)
    )
    for value in values:
        kind = type_of(value)
        if kind not in _KEY_VALUE_TYPES[op]:
            return (
                "One or more parameter values were invalid: ComparisonOperator "
                f"{op} is not valid for {kind} AttributeValue type"
            )
    terms[key_name] = KeyTerm(key_name, op, values)
    return None


def bind_key_condition(
    syntax: ConditionSyntax,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
) -> KeyCondition:
    """Bind a parsed KeyConditionExpression into one or two key terms."""
    binder = _Binder(names, values, "Invalid KeyConditionExpression: ")
    binder.condition(syntax)  # the generic checks first, with the expression prefix
    terms: dict[str, KeyTerm] = {}
    message = _key_error(syntax, binder, terms)
    if message is not None:
        raise ValidationError(message)
    if len(terms) > KEY_TERMS_MAX:
        raise ValidationError(MSG_KEY_TERMS)
    return KeyCondition(
        tuple(terms.values()), frozenset(binder.names_used), frozenset(binder.values_used)
    )


# A key condition with its values taken out: per term the key name, the operator and the
# placeholders of its values. Binding again with the same text, names and value types
# would give the same terms with the new values, and the same errors (none).
KeyPlan: TypeAlias = tuple[tuple[str, str, tuple[str, ...]], ...]


def key_plan(bound: KeyCondition, values: Mapping[str, AttributeValue] | None) -> KeyPlan | None:
    """The plan of a bound key condition, or None when its checks read the values."""
    by_id = {id(value): name for name, value in (values or {}).items()}
    plan: list[tuple[str, str, tuple[str, ...]]] = []
    for term in bound.terms:
        if term.op == "BETWEEN":  # the bounds' order is checked on the values
            return None
        placeholders = tuple(by_id.get(id(value), "") for value in term.values)
        if "" in placeholders:
            return None
        plan.append((term.name, term.op, placeholders))
    return tuple(plan)


def bind_key_plan(
    plan: KeyPlan, bound: KeyCondition, values: Mapping[str, AttributeValue]
) -> KeyCondition:
    """``plan`` (from ``key_plan`` of ``bound``) with this request's values."""
    return KeyCondition(
        tuple(KeyTerm(name, op, tuple(values[p] for p in refs)) for name, op, refs in plan),
        bound.names_used,
        bound.values_used,
    )


# ---------------------------------------------------------------------------------------
# Projections


def _overlap_error(paths: Sequence[Path]) -> str | None:
    """AWS's overlap check (a path is a prefix of another) then conflict check."""
    conflict: str | None = None
    for index, second in enumerate(paths):
        for first in paths[:index]:
            for a, b in zip(first, second, strict=False):
                if type(a) is not type(b):
                    if conflict is None:
                        conflict = (
                            "Two document paths conflict with each other; must remove or "
                            f"rewrite one of these paths; path one: {path_text(first)}, "
                            f"path two: {path_text(second)}"
                        )
                    break
                if a != b:
                    break
            else:
                return (
                    "Two document paths overlap with each other; must remove or rewrite one "
                    f"of these paths; path one: {path_text(first)}, "
                    f"path two: {path_text(second)}"
                )
    return conflict


class _Node:
    """A map or list being assembled by a projection."""

    __slots__ = ("children", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.children: dict[Any, Any] = {}

    def finish(self) -> AttributeValue:
        if self.kind == "M":
            return {"M": {k: _finish(v) for k, v in self.children.items()}}
        return {"L": [_finish(self.children[k]) for k in sorted(self.children)]}


def _finish(value: Any) -> AttributeValue:
    return value.finish() if isinstance(value, _Node) else value  # type: ignore[no-any-return]


def project(item: Item, paths: Sequence[Path]) -> Item:
    """The parts of ``item`` at ``paths``; list elements keep their order, compacted.

    Values are shared with ``item``, not copied: the result must be treated as read-only.
    """
    out: dict[str, Any] = {}
    nested = False
    for path in paths:
        value = resolve(item, path)
        if value is None:
            continue
        first = path[0]
        assert isinstance(first, str)
        if len(path) == 1:
            out[first] = value
            continue
        nested = True
        parent: dict[Any, Any] = out
        key: str | int = first
        for part in path[1:]:
            node = parent.get(key)
            if not isinstance(node, _Node):
                node = _Node("L" if type(part) is int else "M")
                parent[key] = node
            parent = node.children
            key = part
        parent[key] = value
    if nested:
        for name, value in out.items():
            if isinstance(value, _Node):
                out[name] = value.finish()
    return out


@dataclass(frozen=True, slots=True)
class Projection:
    """A bound ProjectionExpression."""

    paths: tuple[Path, ...]
    names_used: frozenset[str]
    values_used: frozenset[str]

    @property
    def attribute_names(self) -> frozenset[str]:
        """The top-level attributes read (index projections and key checks need them)."""
        return frozenset(str(path[0]) for path in self.paths)

    def apply(self, item: Item) -> Item:
        return project(item, self.paths)


def bind_projection(syntax: ProjectionSyntax, names: Mapping[str, str] | None) -> Projection:
    binder = _Binder(names, None, "Invalid ProjectionExpression: ")
    for path in syntax.paths:
        message = binder.missing_in_path(path)
        if message is not None:
            raise binder.error(message)
    paths = tuple(binder.path(path) for path in syntax.paths)
    message = _overlap_error(paths)
    if message is not None:
        raise binder.error(message)
    return Projection(paths, frozenset(binder.names_used), frozenset())


# ---------------------------------------------------------------------------------------
# Updates


class _SetValue:
    """The right-hand side of a SET action, computed against the item before the update."""

    __slots__ = ()

    def compute(self, item: Item) -> AttributeValue:
        raise NotImplementedError


class _PathValue(_SetValue):
    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def compute(self, item: Item) -> AttributeValue:
        value = resolve(item, self.path)
        if value is None:
            raise ValidationError(MSG_MISSING_OPERAND)
        return value


class _ConstValue(_SetValue):
    __slots__ = ("value",)

    def __init__(self, value: AttributeValue) -> None:
        self.value = value

    def compute(self, item: Item) -> AttributeValue:
        return self.value


class _IfNotExists(_SetValue):
    __slots__ = ("default", "path")

    def __init__(self, path: Path, default: _SetValue) -> None:
        self.path = path
        self.default = default

    def compute(self, item: Item) -> AttributeValue:
        value = resolve(item, self.path)
        return value if value is not None else self.default.compute(item)


class _ListAppend(_SetValue):
    __slots__ = ("left", "right")

    def __init__(self, left: _SetValue, right: _SetValue) -> None:
        self.left = left
        self.right = right

    def compute(self, item: Item) -> AttributeValue:
        left = self.left.compute(item).get("L")
        right = self.right.compute(item).get("L")
        if left is None or right is None:
            raise ValidationError(MSG_BAD_OPERAND_TYPE)
        return {"L": left + right}


class _Arithmetic(_SetValue):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: _SetValue, right: _SetValue) -> None:
        self.op = op
        self.left = left
        self.right = right

    def compute(self, item: Item) -> AttributeValue:
        left = self.left.compute(item).get("N")
        right = self.right.compute(item).get("N")
        if left is None or right is None:
            raise ValidationError(MSG_BAD_OPERAND_TYPE)
        if self.op == "+":
            return {"N": add_numbers(left, right)}
        return {"N": subtract_numbers(left, right)}


class UpdateResult(NamedTuple):
    """The item after an update, and the paths it wrote (for UPDATED_OLD / UPDATED_NEW).

    A named tuple: one is built per UpdateItem, and a frozen dataclass costs more to build.
    """

    item: Item
    updated_paths: tuple[Path, ...]


def _parent(root: Item, path: Path, fresh: set[int]) -> tuple[Any, str | int]:
    """The container holding ``path[-1]``, copied on the way so ``root``'s source is untouched.

    ``fresh`` holds the ids of containers this update already copied: each is copied once.
    """
    container: Any = root
    last = len(path) - 1
    for index in range(last):
        key = path[index]
        if type(container) is list:
            assert isinstance(key, int)
            child = container[key] if key < len(container) else None
        else:
            child = container.get(key)
        want = "L" if type(path[index + 1]) is int else "M"
        inner = None if child is None else child.get(want)
        if inner is None:
            raise ValidationError(MSG_BAD_PATH)
        if id(inner) not in fresh:
            inner = list(inner) if want == "L" else dict(inner)
            fresh.add(id(inner))
            container[key] = {want: inner}
        container = inner
    return container, path[last]


def _get(container: Any, key: str | int) -> AttributeValue | None:
    if type(container) is list:
        assert isinstance(key, int)
        return container[key] if key < len(container) else None  # type: ignore[no-any-return]
    return container.get(key)  # type: ignore[no-any-return]


def _put(container: Any, key: str | int, value: AttributeValue, path: Path) -> Path:
    """Store ``value``; past the end of a list it is appended. Returns the path written."""
    if type(container) is list:
        assert isinstance(key, int)
        if key < len(container):
            container[key] = value
            return path
        container.append(value)
        return (*path[:-1], len(container) - 1)
    container[key] = value
    return path


def _set_union(kind: str, existing: list[str], added: list[str]) -> list[str]:
    if kind == "NS":
        seen = {to_decimal(member) for member in existing}
        extra = [m for m in added if to_decimal(m) not in seen]
    else:
        present = set(existing)
        extra = [m for m in added if m not in present]
    return existing + extra if extra else existing


def _set_difference(kind: str, existing: list[str], removed: list[str]) -> list[str]:
    if kind == "NS":
        gone = {to_decimal(member) for member in removed}
        return [m for m in existing if to_decimal(m) not in gone]
    drop = set(removed)
    return [m for m in existing if m not in drop]


class Update:
    """A bound UpdateExpression. ``apply(item)`` returns a new item; ``item`` is not changed.

    ``paths`` lists every path the expression writes, in expression order, so the service
    can refuse updates to key attributes before applying anything.
    """

    __slots__ = ("adds", "deletes", "names_used", "paths", "removes", "sets", "values_used")

    def __init__(
        self,
        sets: tuple[tuple[Path, _SetValue], ...],
        removes: tuple[Path, ...],
        adds: tuple[tuple[Path, AttributeValue], ...],
        deletes: tuple[tuple[Path, AttributeValue], ...],
        paths: tuple[Path, ...],
        names_used: frozenset[str],
        values_used: frozenset[str],
    ) -> None:
        self.sets = sets
        self.removes = removes
        self.adds = adds
        self.deletes = deletes
        self.paths = paths
        self.names_used = names_used
        self.values_used = values_used

    @property
    def removes_only(self) -> bool:
        """Only REMOVE actions: on an absent item AWS writes nothing (and finds no fault)."""
        return not (self.sets or self.adds or self.deletes)

    def apply(self, item: Item) -> UpdateResult:
        """Apply to ``item`` (``{}`` when absent). Every right-hand side reads the old item."""
        computed = [(path, value.compute(item)) for path, value in self.sets] if self.sets else []
        if len(computed) > 1:
            # Elements set past a list's end are appended in the order of their indexes, as
            # AWS documents; paths never overlap, so only their order in a list changes.
            computed.sort(key=lambda entry: entry[0][-1] if type(entry[0][-1]) is int else -1)
        new: Item = dict(item)
        fresh: set[int] = set()
        written: list[Path] = []
        for path, value in computed:
            container, key = _parent(new, path, fresh)
            written.append(_put(container, key, value, path))
        for path, value in self.adds:
            if len(path) == 1:  # a top-level attribute: no containers to walk
                container, key = new, path[0]
            else:
                container, key = _parent(new, path, fresh)
            existing = _get(container, key)
            kind = type_of(value)
            if existing is None:
                result = value
            elif kind not in existing:
                raise ValidationError(MSG_BAD_OPERAND_TYPE)
            elif kind == "N":
                result = {"N": add_numbers(existing["N"], value["N"])}
            else:
                result = {kind: _set_union(kind, existing[kind], value[kind])}
            written.append(_put(container, key, result, path))
        removals: list[tuple[Any, str | int]] = []
        for path, value in self.deletes:
            container, key = _parent(new, path, fresh)
            written.append(path)
            existing = _get(container, key)
            if existing is None:
                continue
            kind = type_of(value)
            if kind not in existing:
                raise ValidationError(MSG_BAD_OPERAND_TYPE)
            remaining = _set_difference(kind, existing[kind], value[kind])
            if remaining:
                _put(container, key, {kind: remaining}, path)
            else:
                removals.append((container, key))
        for path in self.removes:
            container, key = _parent(new, path, fresh)
            written.append(path)
            removals.append((container, key))
        # List elements go last and from the highest index down, so every index in the
        # expression means a position in the list as it was.
        if len(removals) > 1:
            removals.sort(
                key=lambda entry: entry[1] if isinstance(entry[1], int) else -1, reverse=True
            )
        for container, key in removals:
            if type(container) is list:
                assert isinstance(key, int)
                if key < len(container):
                    del container[key]
            else:
                container.pop(key, None)
        return UpdateResult(new, tuple(written))


def bind_update(
    syntax: UpdateSyntax,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
    checked: bool = False,
) -> Update:
    """Bind a parsed UpdateExpression, with AWS's checks in AWS's order."""
    binder = _Binder(names, values, "Invalid UpdateExpression: ")
    if checked:
        # The same text, names and value types bound before without an error: every check
        # of an update reads only those, so only the build runs.
        paths = tuple(binder.path(action.path) for action in syntax.actions)
        return _build_update(syntax, binder, paths)
    # 1. undefined names anywhere, then undefined values anywhere
    for action in syntax.actions:
        message = binder.missing_in_path(action.path) or (
            None if action.value is None else _missing_names(binder, action.value)
        )
        if message is not None:
            raise binder.error(message)
    for action in syntax.actions:
        if action.value is not None:
            message = _missing_values(binder, action.value)
            if message is not None:
                raise binder.error(message)
    # 2. overlapping or conflicting target paths
    paths = tuple(binder.path(action.path) for action in syntax.actions)
    message = _overlap_error(paths)
    if message is not None:
        raise binder.error(message)
    # 3. ADD and DELETE operand types, then function and operator checks of SET values
    for action in syntax.actions:
        if action.section in ("ADD", "DELETE"):
            assert isinstance(action.value, ValueSyntax)
            kind = type_of(binder.values[action.value.name])
            if kind in _TYPE_WORDS and not (action.section == "ADD" and kind == "N"):
                raise binder.error(
                    "Incorrect operand type for operator or function; "
                    f"operator: {action.section}, operand type: {_TYPE_WORDS[kind]}"
                )
    for action in syntax.actions:
        if action.section == "SET":
            assert action.value is not None
            message = _set_value_error(binder, action.value)
            if message is not None:
                raise binder.error(message)
    return _build_update(syntax, binder, paths)


def _build_update(syntax: UpdateSyntax, binder: _Binder, paths: tuple[Path, ...]) -> Update:
    sets: list[tuple[Path, _SetValue]] = []
    removes: list[Path] = []
    adds: list[tuple[Path, AttributeValue]] = []
    deletes: list[tuple[Path, AttributeValue]] = []
    for action, path in zip(syntax.actions, paths, strict=True):
        if action.section == "SET":
            assert action.value is not None
            sets.append((path, _set_value(binder, action.value)))
        elif action.section == "REMOVE":
            removes.append(path)
        else:
            assert isinstance(action.value, ValueSyntax)
            entry = (path, binder.value(action.value))
            (adds if action.section == "ADD" else deletes).append(entry)
    return Update(
        tuple(sets),
        tuple(removes),
        tuple(adds),
        tuple(deletes),
        paths,
        frozenset(binder.names_used),
        frozenset(binder.values_used),
    )


def _missing_names(binder: _Binder, value: SetValueSyntax) -> str | None:
    if isinstance(value, PathSyntax):
        return binder.missing_in_path(value)
    if isinstance(value, ValueSyntax):
        return None
    args = (value.left, value.right) if isinstance(value, ArithmeticSyntax) else value.args
    for arg in args:
        message = _missing_names(binder, arg)
        if message is not None:
            return message
    return None


def _missing_values(binder: _Binder, value: SetValueSyntax) -> str | None:
    if isinstance(value, PathSyntax):
        return None
    if isinstance(value, ValueSyntax):
        return binder.missing_value(value)
    args = (value.left, value.right) if isinstance(value, ArithmeticSyntax) else value.args
    for arg in args:
        message = _missing_values(binder, arg)
        if message is not None:
            return message
    return None


def _set_value_error(binder: _Binder, value: SetValueSyntax) -> str | None:
    for call in _calls(value):
        if len(call.args) != _ARITY[call.name]:
            return (
                "Incorrect number of operands for operator or function; "
                f"operator or function: {call.name}, number of operands: {len(call.args)}"
            )
        if call.name == "if_not_exists" and not isinstance(call.args[0], PathSyntax):
            return (
                "Operator or function requires a document path; operator or function: if_not_exists"
            )
        if call.name == "list_append":
            for arg in call.args:
                if isinstance(arg, ValueSyntax):
                    kind = type_of(binder.values[arg.name])
                    if kind != "L":
                        return _operand_type_message("list_append", kind)
    if isinstance(value, ArithmeticSyntax):
        for arg in (value.left, value.right):
            if isinstance(arg, ValueSyntax):
                kind = type_of(binder.values[arg.name])
                if kind != "N":
                    return _operand_type_message(value.op, kind)
    return None


def _set_value(binder: _Binder, value: SetValueSyntax) -> _SetValue:
    if isinstance(value, PathSyntax):
        return _PathValue(binder.path(value))
    if isinstance(value, ValueSyntax):
        return _ConstValue(binder.value(value))
    if isinstance(value, ArithmeticSyntax):
        return _Arithmetic(
            value.op, _set_value(binder, value.left), _set_value(binder, value.right)
        )
    if value.name == "if_not_exists":
        first = value.args[0]
        assert isinstance(first, PathSyntax)
        return _IfNotExists(binder.path(first), _set_value(binder, value.args[1]))
    assert value.name == "list_append"
    return _ListAppend(_set_value(binder, value.args[0]), _set_value(binder, value.args[1]))
