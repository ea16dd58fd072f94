"""Condition and filter expressions: syntax, AWS's messages, evaluation."""

# ruff: noqa: E501 - AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import base64
from typing import Any

import pytest

from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions import (
    check_unused,
    parse_condition,
    parse_filter,
    validate_expression_attributes,
)

ITEM: dict[str, Any] = {
    "pk": {"S": "p1"},
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "b": {"B": base64.b64encode(b"\x01\x02\x03").decode()},
    "flag": {"BOOL": True},
    "nu": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "y"}}}]},
    "m": {"M": {"kid": {"M": {"v": {"N": "10"}}}, "status": {"S": "on"}}},
}
VALUES: dict[str, Any] = {
    ":one": {"N": "1"},
    ":five": {"N": "5.0"},
    ":ten": {"N": "10"},
    ":he": {"S": "he"},
    ":hello": {"S": "hello"},
    ":a": {"S": "a"},
    ":x": {"S": "x"},
    ":s": {"S": "S"},
    ":ss": {"S": "SS"},
    ":true": {"BOOL": True},
    ":b01": {"B": base64.b64encode(b"\x01").decode()},
    ":b02": {"B": base64.b64encode(b"\x02").decode()},
    ":two5": {"N": "2.50"},
    ":list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "y"}}}]},
    ":num1": {"N": "1"},
}


def check(expression: str, item: dict[str, Any] | None = None, names: Any = None) -> bool:
    return parse_condition(expression, names, VALUES).evaluate(ITEM if item is None else item)


def message(
    expression: str, names: Any = None, values: Any = VALUES, kind: str = "ConditionExpression"
) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_condition(expression, names, values, kind=kind)
    return caught.value.message


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("n = :five", True),
        ("n <> :five", False),
        ("n < :ten", True),
        ("n <= :five", True),
        ("n > :five", False),
        ("n >= :five", True),
        (":ten > n", True),
        ("s > :he", True),
        ("b < :b02", True),
        ("b > :b01", True),
        ("n BETWEEN :one AND :ten", True),
        ("n BETWEEN :five AND :ten", True),
        ("s BETWEEN :a AND :he", False),
        ("n IN (:one, :five)", True),
        ("n IN (:one, :ten)", False),
        ("attribute_exists(m.kid.v)", True),
        ("attribute_exists(m.kid.w)", False),
        ("attribute_not_exists(zzz)", True),
        ("attribute_exists(l[2].deep)", True),
        ("attribute_exists(l[3])", False),
        ("attribute_exists(s[0])", False),
        ("attribute_type(ss, :ss)", True),
        ("attribute_type(s, :ss)", False),
        ("attribute_type(s, :s)", True),
        ("begins_with(s, :he)", True),
        ("begins_with(s, :a)", False),
        ("begins_with(b, :b01)", True),
        ("begins_with(n, :he)", False),
        ("contains(s, :he)", True),
        ("contains(ss, :a)", True),
        ("contains(ss, :x)", False),
        ("contains(ns, :two5)", True),
        ("contains(l, :x)", True),
        ("contains(l, :num1)", True),
        ("contains(l, :a)", False),
        ("contains(b, :b02)", True),
        ("size(s) = :five", True),
        ("size(ss) = :five", False),
        ("size(l) > :one", True),
        ("size(m) = :one", False),
        ("size(b) < :five", True),
        ("size(n) > :one", False),  # no size for numbers: false, not an error
        ("size(n) <> :one", True),
        ("size(zzz) = :one", False),
        ("zzz = :one", False),
        ("zzz <> :one", True),
        ("zzz < :one", False),
        ("flag > :one", False),
        ("l = :list", True),
        ("m.kid.v = :ten", True),
        ("m.#st = :x", False),
        ("NOT n = :five", False),
        ("NOT (n = :five)", False),
        ("n = :one OR n = :five", True),
        ("n = :one AND n = :five", False),
        ("n = :one AND n = :five OR s = :hello", True),  # AND binds tighter than OR
        ("n = :one AND (n = :five OR s = :hello)", False),
        ("NOT n = :one AND n = :five", True),  # NOT binds tighter than AND
        ("not n = :one and n = :five", True),  # keywords in any case
        ("(n) = :five", True),
        ("(size(s)) = :five", True),
        ("n=:five", True),
        ("  n  =  :five  ", True),
        ("n\t=\n:five", True),
    ],
)
def test_evaluation(expression: str, expected: bool) -> None:
    names = {"#st": "status"} if "#st" in expression else None
    assert check(expression, names=names) is expected


def test_absent_item_is_empty() -> None:
    assert parse_condition("attribute_not_exists(pk)").evaluate({})
    assert not parse_condition("attribute_exists(pk)").evaluate({})


def test_placeholder_names() -> None:
    cond = parse_condition(
        "#a.#b = :x AND #a.#b[0] = :x", {"#a": "l", "#b": "x"}, {":x": {"S": "x"}}
    )
    assert cond.names_used == {"#a", "#b"}
    assert cond.values_used == {":x"}
    assert not cond.evaluate(ITEM)
    item = {"l": {"M": {"x": {"L": [{"S": "x"}]}}}}
    assert parse_condition("#a.#b[0] = :x", {"#a": "l", "#b": "x"}, {":x": {"S": "x"}}).evaluate(
        item
    )
    # a dot inside a substituted name is part of the name, not a path separator
    dotted = {"a.b": {"S": "x"}}
    assert parse_condition("#n = :x", {"#n": "a.b"}, {":x": {"S": "x"}}).evaluate(dotted)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("", "The expression can not be empty;"),
        ("   ", "The expression can not be empty;"),
        ("a = = b", 'Syntax error; token: "=", near: "= = b"'),
        ("n = :one AND", 'Syntax error; token: "<EOF>", near: "AND"'),
        ("n = :one n", 'Syntax error; token: "n", near: ":one n"'),
        ("n = :one;", 'Syntax error; token: ";", near: ":one;"'),
        ("begins_with(s, :he", 'Syntax error; token: "<EOF>", near: ":he"'),
        ("n == :one", 'Syntax error; token: "=", near: "== :one"'),
        ("#", 'Syntax error; token: "#", near: "#"'),
        ("n = :", 'Syntax error; token: ":", near: "= :"'),
        ("n BETWEEN :one", 'Syntax error; token: "<EOF>", near: ":one"'),
        ("n IN ()", 'Syntax error; token: ")", near: "()"'),
        ("a.b.", 'Syntax error; token: "<EOF>", near: "."'),
        ("a[x] = :one", 'Syntax error; token: "x", near: "[x]"'),
        ("n AND :one", 'Syntax error; token: "AND", near: "n AND :one"'),
        ("((n = :one))", "The expression has redundant parentheses;"),
        ("((n)) = :one", "The expression has redundant parentheses;"),
        ("foo(n)", "Invalid function name; function: foo"),
        ("ATTRIBUTE_EXISTS(n)", "Invalid function name; function: ATTRIBUTE_EXISTS"),
        (
            "attribute_exists(n) = :one",
            "The function is not allowed to be used this way in an expression; function: attribute_exists",
        ),
        (
            "size(n)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "begins_with(attribute_type(n, :s), :he)",
            "The function is not allowed to be used this way in an expression; function: attribute_type",
        ),
        ("status = :one", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("m.Size = :one", "Attribute name is a reserved keyword; reserved keyword: Size"),
        (
            "n = :nope",
            "An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            "#nope = :one",
            "An expression attribute name used in the document path is not defined; attribute name: #nope",
        ),
        (
            "begins_with(s)",
            "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1",
        ),
        (
            "attribute_exists(s, :one)",
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "n = n",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [n]",
        ),
        (
            "begins_with(l[1], l[1])",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: begins_with, first operand: [l, [1]]",
        ),
        (
            "attribute_exists(:one)",
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(s, :one)",
            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "begins_with(size(s), :he)",
            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "attribute_type(s, :one)",
            "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        ),
        (
            "attribute_type(s, n)",
            "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}",
        ),
        (
            "attribute_type(s, :he)",
            "Invalid attribute type name found; type: he, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "size(:one) = :one",
            "Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "n > :true",
            "Incorrect operand type for operator or function; operator or function: >, operand type: BOOL",
        ),
        (
            "n < :list",
            "Incorrect operand type for operator or function; operator or function: <, operand type: L",
        ),
        (
            "n BETWEEN :true AND :one",
            "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: BOOL",
        ),
        (
            "n BETWEEN :one AND :he",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:he}",
        ),
        (
            "n BETWEEN :ten AND :one",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "n IN (" + ", ".join([":one"] * 101) + ")",
            "The IN operator is provided with too many operands; number of operands: 101",
        ),
    ],
)
def test_errors(expression: str, error: str) -> None:
    assert message(expression) == f"Invalid ConditionExpression: {error}"


def test_error_order() -> None:
    # structural errors win over binding errors, whatever their position
    assert message("n = :nope AND status = :one").endswith("reserved keyword: status")
    assert message("((n = :nope)) AND foo(s)").endswith("redundant parentheses;")
    assert message("foo(s) AND attribute_exists(n) = :one").endswith("function: foo")
    # among binding errors the first faulty comparison wins
    assert message("begins_with(s, :one) AND n = :nope").endswith("operand type: N")
    # within one comparison an undefined placeholder wins
    assert message("begins_with(:nope)").endswith("attribute value: :nope")


def test_filter_prefix_and_size_limits() -> None:
    assert message("n = = n", kind="FilterExpression").startswith(
        "Invalid FilterExpression: Syntax error"
    )
    long_name = "a" + "z" * 4096
    assert message(f"{long_name} = :one") == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        f"expression size: {len(long_name) + 7}"
    )
    parse_filter("a" + "z" * 4088 + " = :one", None, VALUES)  # exactly 4096 bytes is fine


def test_deep_nesting_is_a_validation_error() -> None:
    text = "(" * 1000 + "n = :one" + ")" * 1000
    assert "Syntax error" in message(text)
    assert parse_condition(
        "(" * 20 + "n = :one" + ")" * 20 if False else "((n = :one) AND (n = :one))", None, VALUES
    )


def test_parse_cache_returns_equal_results() -> None:
    first = parse_condition("n = :five", None, VALUES)
    second = parse_condition("n = :five", None, {":five": {"N": "6"}})
    assert first.evaluate(ITEM)
    assert not second.evaluate(ITEM), "values are bound per call, never cached"


# -- request-level placeholder checks ---------------------------------------------------


def test_check_unused() -> None:
    cond = parse_condition(
        "#a = :a", {"#a": "x", "#b": "y"}, {":a": {"S": "1"}, ":b": {"S": "2"}, ":c": {"S": "3"}}
    )
    with pytest.raises(ValidationError) as caught:
        check_unused({"#a": "x", "#b": "y"}, {":a": {"S": "1"}}, cond)
    assert (
        caught.value.message
        == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    )
    with pytest.raises(ValidationError) as caught:
        check_unused({"#a": "x"}, {":a": {"S": "1"}, ":b": {"S": "2"}, ":c": {"S": "3"}}, cond)
    assert (
        caught.value.message
        == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b, :c}"
    )
    check_unused({"#a": "x"}, {":a": {"S": "1"}}, cond)
    check_unused(None, None)


def test_validate_expression_attributes() -> None:
    assert validate_expression_attributes(None, {":n": {"N": "1.0"}}) == {":n": {"N": "1"}}
    cases: list[tuple[Any, Any, str]] = [
        ({}, None, "ExpressionAttributeNames must not be empty"),
        ({"a": "b"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        (
            {"#a-b": "b"},
            None,
            'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"',
        ),
        (None, {}, "ExpressionAttributeValues must not be empty"),
        (
            None,
            {"v": {"S": "x"}},
            'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
        ),
        (
            None,
            {":v": {"N": "12e"}},
            "ExpressionAttributeValues contains invalid value: "
            "The parameter cannot be converted to a numeric value: 12e for key :v",
        ),
    ]
    for names, values, error in cases:
        with pytest.raises(ValidationError) as caught:
            validate_expression_attributes(names, values)
        assert caught.value.message == error
