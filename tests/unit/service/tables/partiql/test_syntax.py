"""The PartiQL parser: trees for DynamoDB's subset, AWS's words for the rest, no crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strata.service.tables.errors import ValidationError
from strata.service.tables.partiql import statement_access
from strata.service.tables.partiql.syntax import parse_statement
from strata.service.tables.partiql.tree import (
    And,
    Call,
    Compare,
    Delete,
    Exists,
    In,
    Insert,
    IsType,
    Literal,
    Param,
    Path,
    Select,
    SetAction,
    Target,
    TupleValue,
    Update,
)

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "


def test_select_tree() -> None:
    parsed = parse_statement(
        'SELECT a.b[2].c, "x y" FROM "t"."i" WHERE pk = ? AND begins_with(sk, \'p\') '
        "ORDER BY sk DESC"
    )
    assert parsed.params_count == 1
    assert parsed.statement == Select(
        Target("t", "i"),
        (Path(("a", "b", 2, "c")), Path(("x y",))),
        And(
            Compare("=", Path(("pk",)), Param(0)),
            Call("begins_with", (Path(("sk",)), Literal({"S": "p"}))),
        ),
        ((Path(("sk",)), True),),
    )


def test_write_trees() -> None:
    insert = parse_statement("INSERT INTO t VALUE {'pk': 'a', 'it''s': -1.5e3}").statement
    assert insert == Insert(
        Target("t"), TupleValue((("pk", Literal({"S": "a"})), ("it's", Literal({"N": "-1.5e3"}))))
    )
    update = parse_statement("update t set a = 1 where pk = 'k' returning all new *").statement
    assert isinstance(update, Update)
    assert update.actions == (SetAction(Path(("a",)), Literal({"N": "1"})),)
    assert update.returning == "ALL NEW"
    delete = parse_statement("DELETE FROM t WHERE pk IN [1, 2] AND x IS NOT MISSING").statement
    assert delete == Delete(
        Target("t"),
        And(
            In(Path(("pk",)), (Literal({"N": "1"}), Literal({"N": "2"}))),
            IsType(Path(("x",)), "MISSING", True),
        ),
        None,
    )
    assert isinstance(parse_statement("EXISTS(SELECT * FROM t WHERE pk = 1)").statement, Exists)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", NOT_WELL_FORMED + "Expected data manipulation"),
        ("CREATE TABLE t", NOT_WELL_FORMED + "Expected data manipulation"),
        ("SELECT * FROM", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM t WHERE", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM t WHERE;", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM t WHERE NOT", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM t WHERE (", NOT_WELL_FORMED + "Unexpected term"),
        (
            "SELECT * FROM t WHERE a = 1 OR",
            NOT_WELL_FORMED + "Missing right-hand side expression of infix operator",
        ),
        ("SELECT * FROM t WHERE IS NULL", NOT_WELL_FORMED + "Unexpected operator"),
        ("SELECT * FROM t WHERE pk = LIKE", NOT_WELL_FORMED + "Unexpected operator"),
        ("SELECT * FROM t WHERE ORDER BY pk", NOT_WELL_FORMED + "Unexpected keyword"),
        (
            "SELECT * FROM t ORDER BY pk WHERE pk = 1",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        (
            "DELETE FROM t WHERE pk = 1 ORDER BY pk",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        (
            "INSERT INTO t VALUE {'pk': 1} foo",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        ("DELETE FROM;", NOT_WELL_FORMED + "Expected identifier for simple path"),
        ("DELETE FROM WHERE pk = 'a'", NOT_WELL_FORMED + "Expected identifier for simple path"),
        ("SELECT * FROM t WHERE pk = 1 /* open", NOT_WELL_FORMED),
        ("SELECT * FROM t WHERE pk = 'open", NOT_WELL_FORMED),
        ("SELECT * FROM t AS x WHERE pk = 1", "Aliasing is not supported"),
        ("UPDATE t x SET a = 3 WHERE pk = 'x'", "Aliasing is not supported"),
        ("DELETE FROM t x WHERE pk = 'x'", "Aliasing is not supported"),
        (
            "INSERT INTO t x VALUE {'pk': 'x'}",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_statement(text)
    assert caught.value.message == message


def test_deep_nesting_is_refused_without_recursion() -> None:
    for text in (
        "SELECT * FROM t WHERE " + "(" * 10_000 + "a = 1" + ")" * 10_000,
        "SELECT * FROM t WHERE " + "NOT " * 10_000 + "a = 1",
        "INSERT INTO t VALUE " + "{'a': " * 10_000 + "1" + "}" * 10_000,
        "INSERT INTO t VALUE " + "[" * 10_000 + "]" * 10_000,
        "SELECT * FROM t WHERE a = " + "size(" * 10_000 + "b" + ")" * 10_000,
    ):
        with pytest.raises(ValidationError):
            parse_statement(text)
    # 32 levels of document nesting (DynamoDB's own limit) parse.
    parse_statement("INSERT INTO t VALUE " + "{'a': " * 32 + "1" + "}" * 32)


def test_access_names_action_and_target() -> None:
    assert statement_access('SELECT * FROM "t"."i"') == ("dynamodb:PartiQLSelect", "t", "i")
    assert statement_access("INSERT INTO t VALUE {'a': 1}") == ("dynamodb:PartiQLInsert", "t", None)
    assert statement_access("UPDATE t SET a = 1") == ("dynamodb:PartiQLUpdate", "t", None)
    assert statement_access("DELETE FROM t") == ("dynamodb:PartiQLDelete", "t", None)
    assert statement_access("EXISTS(SELECT * FROM t)") == ("dynamodb:PartiQLSelect", "t", None)
    assert statement_access("garbage") is None
    assert statement_access(7) is None


TOKENS = [
    "SELECT", "*", "FROM", '"t"', "t", ".", '"i"', "WHERE", "pk", "=", "'a'", "1", "-2.5e3",
    "?", "AND", "OR", "NOT", "IN", "[", "]", "(", ")", "{", "}", "<<", ">>", ":", ",", "BETWEEN",
    "IS", "MISSING", "NULL", "TRUE", "INSERT", "INTO", "VALUE", "UPDATE", "SET", "REMOVE",
    "DELETE", "RETURNING", "ALL", "OLD", "NEW", "MODIFIED", "ORDER", "BY", "DESC", "EXISTS",
    "size", "begins_with", "contains", "attribute_type", "set_add", "list_append", "+", "<>",
    "!=", "<=", ">", "--", "/*", "*/", "'", '"', ";", "#", "é", "\n",
]  # fmt: skip
GARBAGE = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
)


@settings(max_examples=2000, deadline=None)
@given(GARBAGE)
def test_garbage_parses_or_is_a_validation_error(text: str) -> None:
    try:
        parse_statement(text)
    except ValidationError:
        pass
