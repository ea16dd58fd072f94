"""Property tests: parser round trips, garbage never escapes as a crash, exact numbers, order."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.expressions import (
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)
from strata.service.tables.expressions.reserved import RESERVED_WORDS
from strata.service.tables.expressions.syntax import (
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
    UpdateActionSyntax,
    UpdateSyntax,
    ValueSyntax,
    parse_condition_syntax,
    parse_projection_syntax,
    parse_update_syntax,
)
from strata.service.tables.values import (
    add_numbers,
    compare_values,
    format_number,
    sort_key,
    subtract_numbers,
    validate_value,
)
from strata.storage.keys import encode_number

NAMES = ["a", "b2", "c_d", "#n", "#m1"]
VALUE_NAMES = [":v", ":w1", ":x_y"]
BARE = st.text("abcdefgxyz_", min_size=1, max_size=6).filter(
    lambda s: s.upper() not in RESERVED_WORDS and not s.startswith("_")
)

# -- strategies producing syntax trees --------------------------------------------------

path_part = st.one_of(BARE, st.sampled_from(["#n", "#m1"]))
paths = st.builds(
    lambda head, tail: PathSyntax((head, *tail)),
    path_part,
    st.lists(st.one_of(path_part, st.integers(0, 99)), max_size=3),
)
values = st.builds(ValueSyntax, st.sampled_from(VALUE_NAMES))
sizes = st.builds(lambda p: CallSyntax("size", (p,)), paths)
operands: st.SearchStrategy[OperandSyntax] = st.one_of(paths, values, sizes)

leaves: st.SearchStrategy[ConditionSyntax] = st.one_of(
    st.builds(
        CompareSyntax, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands, operands
    ),
    st.builds(BetweenSyntax, operands, operands, operands),
    st.builds(
        lambda o, opts: InSyntax(o, tuple(opts)),
        operands,
        st.lists(operands, min_size=1, max_size=4),
    ),
    st.builds(lambda p: FunctionSyntax(CallSyntax("attribute_exists", (p,))), paths),
    st.builds(lambda p: FunctionSyntax(CallSyntax("attribute_not_exists", (p,))), paths),
    st.builds(lambda p, v: FunctionSyntax(CallSyntax("attribute_type", (p, v))), paths, values),
    st.builds(lambda a, b: FunctionSyntax(CallSyntax("begins_with", (a, b))), operands, operands),
    st.builds(lambda a, b: FunctionSyntax(CallSyntax("contains", (a, b))), operands, operands),
)
conditions: st.SearchStrategy[ConditionSyntax] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(AndSyntax, inner, inner),
        st.builds(OrSyntax, inner, inner),
        st.builds(NotSyntax, inner),
    ),
    max_leaves=8,
)


def render_path(path: PathSyntax) -> str:
    out = str(path.parts[0])
    for part in path.parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def render_operand(operand: OperandSyntax | ArithmeticSyntax) -> str:
    if isinstance(operand, PathSyntax):
        return render_path(operand)
    if isinstance(operand, ValueSyntax):
        return operand.name
    if isinstance(operand, ArithmeticSyntax):
        return f"{render_operand(operand.left)} {operand.op} {render_operand(operand.right)}"
    return f"{operand.name}({', '.join(render_operand(a) for a in operand.args)})"


def render_condition(node: ConditionSyntax) -> str:
    if isinstance(node, (AndSyntax, OrSyntax)):
        word = "AND" if isinstance(node, AndSyntax) else "OR"
        left = render_condition(node.left)
        right = render_condition(node.right)
        # Parenthesise what would otherwise regroup: the parser is left-associative and
        # AND binds tighter than OR.
        if isinstance(node, AndSyntax) and isinstance(node.left, OrSyntax):
            left = f"({left})"
        if not isinstance(
            node.right, (NotSyntax, CompareSyntax, BetweenSyntax, InSyntax, FunctionSyntax)
        ):
            right = f"({right})"
        return f"{left} {word} {right}"
    if isinstance(node, NotSyntax):
        inner = render_condition(node.inner)
        if isinstance(node.inner, (AndSyntax, OrSyntax)):
            inner = f"({inner})"
        return f"NOT {inner}"
    if isinstance(node, CompareSyntax):
        return f"{render_operand(node.left)} {node.op} {render_operand(node.right)}"
    if isinstance(node, BetweenSyntax):
        low, high = render_operand(node.low), render_operand(node.high)
        return f"{render_operand(node.operand)} BETWEEN {low} AND {high}"
    if isinstance(node, InSyntax):
        options = ", ".join(render_operand(o) for o in node.options)
        return f"{render_operand(node.operand)} IN ({options})"
    assert isinstance(node, FunctionSyntax)
    return render_operand(node.call)


ALL_NAMES = {"#n": "name1", "#m1": "name2"}
ALL_VALUES = {":v": {"S": "x"}, ":w1": {"S": "x"}, ":x_y": {"S": "x"}}
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "a": st.sampled_from(
            [{"S": "x"}, {"N": "1"}, {"L": [{"S": "x"}]}, {"M": {"b2": {"S": "x"}}}]
        ),
        "name1": st.sampled_from([{"SS": ["x"]}, {"B": "eA=="}, {"BOOL": True}]),
        "b2": st.sampled_from([{"S": "xy"}, {"NULL": True}]),
    },
)


@settings(max_examples=300, deadline=None)
@given(conditions, ITEMS)
def test_condition_round_trip(node: ConditionSyntax, item: dict[str, Any]) -> None:
    text = render_condition(node)
    assert parse_condition_syntax(text) == node, text
    try:
        condition = parse_condition(text, ALL_NAMES, ALL_VALUES)
    except ValidationError:
        return  # e.g. "a = a" or attribute_type with a bad type name: still a clean error
    assert condition.evaluate(item) in (True, False)


set_values: st.SearchStrategy[SetValueSyntax] = st.one_of(
    operands.filter(lambda o: not isinstance(o, CallSyntax)),
    st.builds(ArithmeticSyntax, st.sampled_from(["+", "-"]), paths, values),
    st.builds(lambda p, v: CallSyntax("if_not_exists", (p, v)), paths, values),
    st.builds(lambda a, b: CallSyntax("list_append", (a, b)), paths, values),
)
actions = st.one_of(
    st.builds(lambda p, v: UpdateActionSyntax("SET", p, v), paths, set_values),
    st.builds(lambda p: UpdateActionSyntax("REMOVE", p, None), paths),
    st.builds(lambda p, v: UpdateActionSyntax("ADD", p, v), paths, values),
    st.builds(lambda p, v: UpdateActionSyntax("DELETE", p, v), paths, values),
)


def render_update(node: UpdateSyntax) -> str:
    sections: dict[str, list[str]] = {}
    for action in node.actions:
        text = render_path(action.path)
        if action.section == "SET":
            assert action.value is not None
            text += f" = {render_operand(action.value)}"
        elif action.value is not None:
            text += f" {render_operand(action.value)}"
        sections.setdefault(action.section, []).append(text)
    return " ".join(f"{section} {', '.join(parts)}" for section, parts in sections.items())


@settings(max_examples=300, deadline=None)
@given(st.lists(actions, min_size=1, max_size=6))
def test_update_round_trip(parsed_actions: list[UpdateActionSyntax]) -> None:
    # group by section in first-appearance order, as one expression must
    order: list[str] = []
    for action in parsed_actions:
        if action.section not in order:
            order.append(action.section)
    node = UpdateSyntax(tuple(a for s in order for a in parsed_actions if a.section == s))
    text = render_update(node)
    assert parse_update_syntax(text) == node, text
    try:
        update = parse_update(
            text, ALL_NAMES, {":v": {"N": "1"}, ":w1": {"NS": ["1"]}, ":x_y": {"N": "2"}}
        )
    except ValidationError:
        return  # overlapping paths, wrong operand types...
    try:
        update.apply({"a": {"N": "1"}, "name1": {"L": [{"N": "1"}]}})
    except ValidationError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(paths, min_size=1, max_size=5))
def test_projection_round_trip(path_list: list[PathSyntax]) -> None:
    text = ", ".join(render_path(p) for p in path_list)
    assert parse_projection_syntax(text) == ProjectionSyntax(tuple(path_list))


# -- garbage ------------------------------------------------------------------------------

TOKENS = [
    "a", "b", "#n", ":v", "(", ")", "[", "]", "0", "12", ",", ".", "=", "<>", "<", "<=", ">", ">=",
    "+", "-", "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "size",
    "begins_with", "contains", "attribute_exists", "attribute_type", "if_not_exists",
    "list_append", "status", "#", ":", " ", "!", "é", "\n", "#undefined", ":undefined",
]  # fmt: skip
garbage = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
)
GARBAGE_VALUES = {":v": {"N": "1"}, ":undefined_not": {"S": "x"}}


@settings(max_examples=1000, deadline=None)
@given(garbage)
def test_garbage_only_raises_validation_errors(text: str) -> None:
    for parse in (
        lambda: parse_condition(text, {"#n": "a"}, GARBAGE_VALUES).evaluate({"a": {"N": "1"}}),
        lambda: parse_condition(text, None, None, kind="FilterExpression"),
        lambda: parse_key_condition(text, {"#n": "a"}, GARBAGE_VALUES),
        lambda: parse_update(text, {"#n": "a"}, GARBAGE_VALUES).apply({"a": {"N": "1"}}),
        lambda: parse_projection(text, {"#n": "a"}),
    ):
        try:
            parse()
        except ValidationError:
            pass


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.text(max_size=5) | st.integers(),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(["S", "N", "B", "L", "M", "SS", "NULL", "x"]), c, max_size=3
            )
        ),
    )
)
def test_garbage_values_only_raise_our_errors(value: Any) -> None:
    try:
        validate_value(value)
    except (ValidationError, SerializationError):
        pass


# -- numbers ------------------------------------------------------------------------------

EXACT = Context(prec=1000, Emax=999_999, Emin=-999_999)
numbers = st.builds(
    lambda digits, exponent, negative: Decimal(f"{'-' if negative else ''}{digits}E{exponent}"),
    st.integers(0, 10**38 - 1),
    st.integers(-150, 120),
    st.booleans(),
).filter(lambda d: d.is_zero() or -130 <= d.adjusted() <= 125)


@settings(max_examples=500, deadline=None)
@given(numbers, numbers, st.sampled_from(["+", "-"]))
def test_arithmetic_matches_decimal(left: Decimal, right: Decimal, op: str) -> None:
    exact = EXACT.add(left, right) if op == "+" else EXACT.subtract(left, right)
    digits = len(exact.normalize(EXACT).as_tuple().digits)
    fits = exact.is_zero() or (digits <= 38 and -130 <= exact.adjusted() <= 125)
    func = add_numbers if op == "+" else subtract_numbers
    a, b = format_number(left.normalize(EXACT)), format_number(right.normalize(EXACT))
    try:
        result = func(a, b)
    except ValidationError:
        assert not fits
    else:
        assert fits
        assert Decimal(result) == exact


@settings(max_examples=500, deadline=None)
@given(numbers, numbers)
def test_number_order(left: Decimal, right: Decimal) -> None:
    a = {"N": format_number(left.normalize(EXACT))}
    b = {"N": format_number(right.normalize(EXACT))}
    expected = (left > right) - (left < right)
    assert compare_values(a, b) == expected
    assert compare_values(b, a) == -expected
    key_a, key_b = sort_key(a), sort_key(b)
    assert isinstance(key_a, Decimal)
    assert isinstance(key_b, Decimal)
    assert (key_a < key_b) == (left < right)
    # the storage key encoding agrees with DynamoDB's order
    ka, kb = encode_number(Decimal(a["N"])), encode_number(Decimal(b["N"]))
    assert (ka > kb) - (ka < kb) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=8), st.text(max_size=8))
def test_string_order_is_utf8_byte_order(left: str, right: str) -> None:
    expected = (left.encode("utf-8", "surrogatepass") > right.encode("utf-8", "surrogatepass")) - (
        left.encode("utf-8", "surrogatepass") < right.encode("utf-8", "surrogatepass")
    )
    assert compare_values({"S": left}, {"S": right}) == expected
