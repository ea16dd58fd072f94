"""Update, projection and key condition expressions."""

# ruff: noqa: E501 - AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import copy
from typing import Any

import pytest

from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions import (
    KeyTerm,
    parse_key_condition,
    parse_projection,
    parse_update,
    project,
)

ITEM: dict[str, Any] = {
    "pk": {"S": "p1"},
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]},
    "m": {"M": {"kid": {"M": {"v": {"N": "10"}}}, "lst": {"L": [{"N": "1"}]}}},
}
VALUES: dict[str, Any] = {
    ":one": {"N": "1"},
    ":s": {"S": "new"},
    ":ss": {"SS": ["b", "c"]},
    ":ns": {"NS": ["2.0", "3"]},
    ":bs": {"BS": ["YQ=="]},
    ":l": {"L": [{"S": "w"}]},
    ":empty": {"L": []},
    ":m": {"M": {}},
    ":true": {"BOOL": True},
}


def apply(expression: str, item: dict[str, Any] | None = None, names: Any = None) -> Any:
    values = {k: v for k, v in VALUES.items() if k in expression}
    return parse_update(expression, names, values).apply(ITEM if item is None else item)


def update_error(expression: str, names: Any = None, values: Any = None) -> str:
    if values is None:
        values = {k: v for k, v in VALUES.items() if k in expression}
    with pytest.raises(ValidationError) as caught:
        parse_update(expression, names, values).apply(ITEM)
    return caught.value.message


def test_original_item_is_never_modified() -> None:
    before = copy.deepcopy(ITEM)
    apply("SET m.kid.v = :one, l[0] = :s, m.lst[5] = :one REMOVE l[1] ADD ss :ss DELETE ns :ns")
    assert before == ITEM


@pytest.mark.parametrize(
    ("expression", "changes"),
    [
        ("SET n = :one", {"n": {"N": "1"}}),
        ("SET fresh = :s", {"fresh": {"S": "new"}}),
        ("SET n = n + :one", {"n": {"N": "6"}}),
        ("SET n = :one - n", {"n": {"N": "-4"}}),
        ("SET n = (n + :one)", {"n": {"N": "6"}}),
        ("SET n = (n) - (:one)", {"n": {"N": "4"}}),
        ("SET c = if_not_exists(c, :one)", {"c": {"N": "1"}}),
        ("SET n = if_not_exists(n, :one)", {"n": {"N": "5"}}),
        (
            "SET l = list_append(l, :l)",
            {"l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}, {"S": "w"}]}},
        ),
        (
            "SET l = list_append(:l, l)",
            {"l": {"L": [{"S": "w"}, {"S": "x"}, {"S": "y"}, {"S": "z"}]}},
        ),
        ("SET q = list_append(if_not_exists(q, :empty), :l)", {"q": {"L": [{"S": "w"}]}}),
        ("SET dup = s, s = n", {"dup": {"S": "hello"}, "s": {"N": "5"}}),  # reads the old item
        ("SET l[1] = :s", {"l": {"L": [{"S": "x"}, {"S": "new"}, {"S": "z"}]}}),
        ("SET l[10] = :s", {"l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}, {"S": "new"}]}}),
        (
            "SET m.kid.v = :one",
            {"m": {"M": {"kid": {"M": {"v": {"N": "1"}}}, "lst": {"L": [{"N": "1"}]}}}},
        ),
        (
            "SET m.kid.w = :one",
            {
                "m": {
                    "M": {
                        "kid": {"M": {"v": {"N": "10"}, "w": {"N": "1"}}},
                        "lst": {"L": [{"N": "1"}]},
                    }
                }
            },
        ),
        ("REMOVE s", {"s": None}),
        ("REMOVE zzz", {}),
        ("REMOVE l[0], l[2]", {"l": {"L": [{"S": "y"}]}}),
        ("REMOVE l[7]", {}),
        ("REMOVE m.kid.v", {"m": {"M": {"kid": {"M": {}}, "lst": {"L": [{"N": "1"}]}}}}),
        ("ADD n :one", {"n": {"N": "6"}}),
        ("ADD fresh :one", {"fresh": {"N": "1"}}),
        ("ADD ss :ss", {"ss": {"SS": ["a", "b", "c"]}}),
        ("ADD ns :ns", {"ns": {"NS": ["1", "2", "3"]}}),
        ("ADD fresh :bs", {"fresh": {"BS": ["YQ=="]}}),
        (
            "ADD m.kid.v :one",
            {"m": {"M": {"kid": {"M": {"v": {"N": "11"}}}, "lst": {"L": [{"N": "1"}]}}}},
        ),
        ("DELETE ss :ss", {"ss": {"SS": ["a"]}}),
        ("DELETE ns :ns", {"ns": {"NS": ["1"]}}),
        ("DELETE zzz :ss", {}),
        (
            "SET n = :one REMOVE s ADD ss :ss",
            {"n": {"N": "1"}, "s": None, "ss": {"SS": ["a", "b", "c"]}},
        ),
        ("remove s set n = :one", {"n": {"N": "1"}, "s": None}),
    ],
)
def test_apply(expression: str, changes: dict[str, Any]) -> None:
    expected = dict(ITEM)
    for name, value in changes.items():
        if value is None:
            del expected[name]
        else:
            expected[name] = value
    assert apply(expression).item == expected


def test_delete_last_members_removes_the_attribute() -> None:
    result = parse_update("DELETE ss :all", None, {":all": {"SS": ["a", "b"]}}).apply(ITEM)
    assert "ss" not in result.item


def test_update_on_absent_item() -> None:
    result = parse_update("SET a = :one ADD c :one", None, {":one": {"N": "1"}}).apply({})
    assert result.item == {"a": {"N": "1"}, "c": {"N": "1"}}


def test_updated_paths_feed_return_values() -> None:
    update = parse_update(
        "SET m.kid.v = :one, l[9] = :s REMOVE s", None, {":one": VALUES[":one"], ":s": VALUES[":s"]}
    )
    assert update.paths == (("m", "kid", "v"), ("l", 9), ("s",))
    result = update.apply(ITEM)
    assert result.updated_paths == (("m", "kid", "v"), ("l", 3), ("s",))
    assert project(ITEM, result.updated_paths) == {
        "m": {"M": {"kid": {"M": {"v": {"N": "10"}}}}},
        "s": {"S": "hello"},
    }
    assert project(result.item, result.updated_paths) == {
        "m": {"M": {"kid": {"M": {"v": {"N": "1"}}}}},
        "l": {"L": [{"S": "new"}]},
    }


def test_names_in_updates() -> None:
    update = parse_update("SET #a.#b = :v", {"#a": "m", "#b": "status"}, {":v": {"S": "x"}})
    assert update.names_used == {"#a", "#b"}
    assert update.apply(ITEM).item["m"]["M"]["status"] == {"S": "x"}


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("", "Invalid UpdateExpression: The expression can not be empty;"),
        (
            "INVALID SYNTAX HERE",
            'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"',
        ),
        (
            "ADD hits : incr",
            'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"',
        ),
        ("SET a = :one +", 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "+"'),
        (
            "SET a = n / :one",
            'Invalid UpdateExpression: Syntax error; token: "/", near: "n / :one"',
        ),
        (
            "SET a = n + :one + :one",
            'Invalid UpdateExpression: Syntax error; token: "+", near: ":one + :one"',
        ),
        ("SET", 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"'),
        ("SET a = :one,", 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'),
        (
            "SET a = :one, REMOVE b",
            'Invalid UpdateExpression: Syntax error; token: "REMOVE", near: ", REMOVE b"',
        ),
        ("ADD a n", 'Invalid UpdateExpression: Syntax error; token: "n", near: "a n"'),
        (
            "SET a = :one SET b = :one",
            'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
        ),
        (
            "SET status = :one",
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        ("SET a = size(s)", "Invalid UpdateExpression: Invalid function name; function: size"),
        (
            "SET #x = :one",
            "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        (
            "SET a = :nope",
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            "SET a = :one, a = :one",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "SET a.b = :one REMOVE a",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
        ),
        (
            "SET a[0] = :one REMOVE a.b",
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]",
        ),
        (
            "ADD a :s",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "ADD a :l",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST",
        ),
        (
            "DELETE a :one",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER",
        ),
        (
            "SET a = :s + :one",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "SET a = list_append(:one, l)",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N",
        ),
        (
            "SET a = if_not_exists(:one, :one)",
            "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = list_append(l)",
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1",
        ),
        ("SET a = s + :one", "An operand in the update expression has an incorrect data type"),
        (
            "SET a = list_append(s, :l)",
            "An operand in the update expression has an incorrect data type",
        ),
        ("ADD s :one", "An operand in the update expression has an incorrect data type"),
        ("ADD ss :ns", "An operand in the update expression has an incorrect data type"),
        ("DELETE s :ss", "An operand in the update expression has an incorrect data type"),
        (
            "SET a = zzz",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a = zzz + :one",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a = list_append(zzz, :l)",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET zzz.a = :one",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET s.a = :one",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET s[0] = :one",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET m[0] = :one",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET l[5].a = :one",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "REMOVE zzz.a",
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "ADD zzz.a :one",
            "The document path provided in the update expression is invalid for update",
        ),
    ],
)
def test_update_errors(expression: str, error: str) -> None:
    assert update_error(expression) == error


def test_update_error_order() -> None:
    # names before values before overlaps before operand types
    assert update_error("SET a = :nope, b = #nope").endswith("attribute name: #nope")
    assert update_error("SET a = :nope, a = :one").endswith("attribute value: :nope")
    assert "overlap" in update_error("ADD a :s SET a = :one")
    assert "operator: ADD" in update_error("SET b = :s + :one ADD a :s")


def test_arithmetic_overflow_in_update() -> None:
    big = {":big": {"N": "9" + "9" * 37 + "E+88"}}
    message = update_error("SET a = :big + :big", values=big)
    assert message.startswith("Number overflow")


# -- projections ------------------------------------------------------------------------


def test_projection() -> None:
    projection = parse_projection("s, m.kid.v, l[2], l[0], zzz, m.lst[3]")
    assert projection.apply(ITEM) == {
        "s": {"S": "hello"},
        "m": {"M": {"kid": {"M": {"v": {"N": "10"}}}}},
        "l": {"L": [{"S": "x"}, {"S": "z"}]},
    }
    assert projection.attribute_names == {"s", "m", "l", "zzz"}
    assert parse_projection("#n", {"#n": "status"}).apply({"status": {"S": "x"}}) == {
        "status": {"S": "x"}
    }
    assert parse_projection("s.x, l.a").apply(ITEM) == {}


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("", "The expression can not be empty;"),
        ("a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("a b", 'Syntax error; token: "b", near: "a b"'),
        ("a = :v", 'Syntax error; token: "=", near: "a = :v"'),
        ("name", "Attribute name is a reserved keyword; reserved keyword: name"),
        (
            "#x",
            "An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        (
            "a, a",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "a.b, a",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
        ),
        (
            "a.b, a[1]",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
        ),
        ("a" + "z" * 4096, "Expression size has exceeded the maximum allowed size;"),
    ],
)
def test_projection_errors(expression: str, error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_projection(expression)
    assert caught.value.message == f"Invalid ProjectionExpression: {error}"


# -- key conditions ---------------------------------------------------------------------

KEY_VALUES: dict[str, Any] = {
    ":p": {"S": "p1"},
    ":a": {"S": "a"},
    ":b": {"S": "b"},
    ":n": {"N": "1"},
    ":t": {"BOOL": True},
}


def key_condition(expression: str, names: Any = None) -> Any:
    values = {k: v for k, v in KEY_VALUES.items() if k in expression}
    return parse_key_condition(expression, names, values)


@pytest.mark.parametrize(
    ("expression", "term"),
    [
        ("pk = :p", None),
        ("pk = :p AND sk = :a", KeyTerm("sk", "EQ", ({"S": "a"},))),
        ("pk = :p AND sk < :a", KeyTerm("sk", "LT", ({"S": "a"},))),
        ("pk = :p AND sk <= :a", KeyTerm("sk", "LE", ({"S": "a"},))),
        ("pk = :p AND sk > :a", KeyTerm("sk", "GT", ({"S": "a"},))),
        ("pk = :p AND sk >= :a", KeyTerm("sk", "GE", ({"S": "a"},))),
        ("pk = :p AND :a < sk", KeyTerm("sk", "GT", ({"S": "a"},))),
        ("sk BETWEEN :a AND :b AND pk = :p", KeyTerm("sk", "BETWEEN", ({"S": "a"}, {"S": "b"}))),
        ("pk = :p AND begins_with(sk, :a)", KeyTerm("sk", "BEGINS_WITH", ({"S": "a"},))),
        ("(pk = :p) AND (sk = :a)", KeyTerm("sk", "EQ", ({"S": "a"},))),
        ("#k = :p", None),
    ],
)
def test_key_conditions(expression: str, term: KeyTerm | None) -> None:
    parsed = key_condition(expression, {"#k": "pk"} if "#k" in expression else None)
    value, sort = parsed.resolve("pk", "sk", {"pk": "S", "sk": "S"})
    assert value == {"S": "p1"}
    assert sort == term


def test_key_term_matches() -> None:
    between = KeyTerm("sk", "BETWEEN", ({"N": "1"}, {"N": "5"}))
    assert between.matches({"N": "5"})
    assert not between.matches({"N": "5.1"})
    assert KeyTerm("sk", "BEGINS_WITH", ({"S": "ab"},)).matches({"S": "abc"})
    assert not KeyTerm("sk", "LT", ({"S": "b"},)).matches({"N": "1"})
    assert KeyTerm("sk", "GE", ({"S": "b"},)).matches({"S": "b"})
    assert not KeyTerm("sk", "EQ", ({"S": "b"},)).matches(None)


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("pk = :p OR sk = :a", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :p", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "pk = :p AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "pk = :p AND contains(sk, :a)",
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        ("pk = :p AND size(sk) = :n", "KeyConditionExpressions cannot contain nested operations"),
        (
            "pk = :p AND :a BETWEEN sk AND :b",
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "pk = :p AND begins_with(:a, sk)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        (
            "pk = sk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        ("pk.x = :p", "KeyConditionExpressions cannot have conditions on nested attributes"),
        (":p = :a", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("pk = :p AND pk = :a", "KeyConditionExpressions must only contain one condition per key"),
        (
            " AND ".join(f"k{i} = :p" for i in range(9)),
            "Conditions can be of length 1 or 2 only",
        ),
        (
            "pk = :t",
            "One or more parameter values were invalid: ComparisonOperator EQ is not valid for BOOL AttributeValue type",
        ),
        (
            "pk = :p AND begins_with(sk, :n)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "pk = :p AND",
            'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"',
        ),
        (
            "pk = :p AND sk BETWEEN :b AND :a",
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "a" + "z" * 4096 + " = :p",
            "Invalid KeyConditionExpression: Expression size has exceeded the maximum allowed size;",
        ),
    ],
)
def test_key_condition_errors(expression: str, error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        key_condition(expression)
    assert caught.value.message == error


@pytest.mark.parametrize(
    ("expression", "hash_key", "range_key", "error"),
    [
        ("sk = :a", "pk", "sk", "Query condition missed key schema element: pk"),
        ("pk > :p", "pk", "sk", "Query key condition not supported"),
        ("pk = :p AND x1 = :a", "pk", "sk", "Query condition missed key schema element: sk"),
        ("pk = :p AND sk = :a", "pk", None, "Query key condition not supported"),
        ("pk = :p AND sk = :a AND x = :b", "pk", "sk", "Conditions can be of length 1 or 2 only"),
        (
            "pk = :n",
            "pk",
            None,
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
    ],
)
def test_key_condition_schema_errors(
    expression: str, hash_key: str, range_key: str | None, error: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        key_condition(expression).resolve(hash_key, range_key, {"pk": "S", "sk": "S"})
    assert caught.value.message == error


def test_bound_signatures_still_check_new_value_types() -> None:
    """A text that bound without error skips the checks only for the same value types."""
    update = parse_update("ADD #c :v", {"#c": "cnt"}, {":v": {"N": "1"}})
    assert update.apply({}).item == {"cnt": {"N": "1"}}
    again = parse_update("ADD #c :v", {"#c": "cnt"}, {":v": {"N": "7"}})
    assert again.apply({"cnt": {"N": "1"}}).item == {"cnt": {"N": "8"}}
    with pytest.raises(ValidationError) as caught:
        parse_update("ADD #c :v", {"#c": "cnt"}, {":v": {"S": "x"}})
    assert caught.value.message == (
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator: ADD, operand type: STRING"
    )
    with pytest.raises(ValidationError) as caught:
        parse_update("ADD #c :v", {"#d": "cnt"}, {":v": {"N": "1"}})
    assert "attribute name: #c" in caught.value.message


def test_key_condition_plan_takes_each_request_values() -> None:
    text = "pk = :p AND sk >= :s"
    first = parse_key_condition(text, None, {":p": {"S": "a"}, ":s": {"S": "1"}})
    second = parse_key_condition(text, None, {":p": {"S": "b"}, ":s": {"S": "2"}})
    assert first.terms == (KeyTerm("pk", "EQ", ({"S": "a"},)), KeyTerm("sk", "GE", ({"S": "1"},)))
    assert second.terms == (KeyTerm("pk", "EQ", ({"S": "b"},)), KeyTerm("sk", "GE", ({"S": "2"},)))
    assert second.values_used == frozenset({":p", ":s"})
    with pytest.raises(ValidationError) as caught:
        parse_key_condition(text, None, {":p": {"S": "b"}, ":s": {"BOOL": True}})
    assert caught.value.message == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: >=, operand type: BOOL"
    )
    between = "pk = :p AND sk BETWEEN :a AND :b"
    parse_key_condition(between, None, {":p": {"S": "b"}, ":a": {"S": "1"}, ":b": {"S": "2"}})
    with pytest.raises(ValidationError) as caught:
        parse_key_condition(between, None, {":p": {"S": "b"}, ":a": {"S": "3"}, ":b": {"S": "2"}})
    assert "requires upper bound to be greater than or equal to lower bound" in (
        caught.value.message
    )
