"""PartiQL syntax trees, and the recursive-descent parser that builds them from tokens.

A tree depends only on the statement text (parameters stay ``Param(i)`` placeholders), so
``parse_statement`` caches it by text, errors too. Only DynamoDB's subset is accepted:
SELECT, INSERT ... VALUE, UPDATE ... SET/REMOVE, DELETE, and EXISTS(SELECT ...) as a
transaction's condition check. Nesting (parentheses, NOT, literals, calls) is bounded by
``DEPTH_MAX`` so hostile input is a ValidationException, never a RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Final

from strata.service.tables.errors import ValidationError
from strata.service.tables.partiql.tokens import PartiqlSyntaxError, Token, tokenize
from strata.service.tables.partiql.tree import (
    And,
    Arithmetic,
    BagValue,
    Between,
    Call,
    Compare,
    Delete,
    Exists,
    In,
    Insert,
    IsType,
    ListValue,
    Literal,
    Node,
    Not,
    Or,
    Param,
    Parsed,
    Path,
    PathPart,
    RemoveAction,
    Select,
    SetAction,
    Statement,
    Target,
    TupleValue,
    Update,
)

DEPTH_MAX: Final = 64
CACHE_SIZE: Final = 1024
MSG_ALIAS: Final = "Aliasing is not supported"
MSG_VALUES: Final = (
    "Unsupported operation: Inserting multiple items in a single statement is not supported, "
    'use "INSERT INTO tableName VALUE item" instead'
)

# Words that end a clause or have a meaning of their own: never a bare attribute name.
KEYWORDS: Final = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "BETWEEN",
        "IS",
        "MISSING",
        "NULL",
        "TRUE",
        "FALSE",
        "INSERT",
        "INTO",
        "VALUE",
        "VALUES",
        "UPDATE",
        "SET",
        "REMOVE",
        "DELETE",
        "RETURNING",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "EXISTS",
        "AS",
        "LIKE",
    }
)
_COMPARATORS: Final = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_RETURNING: Final = ("ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW")
_STARTS: Final = ("SELECT", "INSERT", "UPDATE", "DELETE", "EXISTS")


# ---------------------------------------------------------------------------------------
# Parser


class _Parser:
    """One parse of one statement text; not reused."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.params = 0

    # -- helpers ----------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def word(self, word: str) -> bool:
        """Consume keyword ``word`` if it is next."""
        if self.token.is_word(word):
            self.pos += 1
            return True
        return False

    def op(self, text: str) -> bool:
        if self.token.is_op(text):
            self.pos += 1
            return True
        return False

    def expect_word(self, word: str, detail: str) -> None:
        if not self.word(word):
            raise PartiqlSyntaxError(detail)

    def expect_op(self, text: str, detail: str) -> None:
        if not self.op(text):
            raise PartiqlSyntaxError(detail)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > DEPTH_MAX:
            raise PartiqlSyntaxError("Expression nesting exceeds the supported depth")

    def leave(self) -> None:
        self.depth -= 1

    def is_keyword(self, token: Token) -> bool:
        return token.kind == "ident" and token.text.upper() in KEYWORDS

    def unexpected(self) -> PartiqlSyntaxError:
        """AWS's word for what stands where a term should start."""
        token = self.token
        if token.kind == "op" and token.text in ("=", "<>", "!=", "<", "<=", ">", ">=", "+"):
            return PartiqlSyntaxError("Unexpected operator")
        if token.is_word("IS") or token.is_word("LIKE"):
            return PartiqlSyntaxError("Unexpected operator")
        if self.is_keyword(token):
            return PartiqlSyntaxError("Unexpected keyword")
        return PartiqlSyntaxError("Unexpected term")

    def end(self) -> None:
        self.op(";")
        if self.token.kind != "eof":
            raise PartiqlSyntaxError("Unexpected token after expression")

    # -- statements -------------------------------------------------------------------

    def statement(self) -> Statement:
        token = self.token
        word = token.text.upper() if token.kind == "ident" else ""
        if word not in _STARTS:
            raise PartiqlSyntaxError("Expected data manipulation")
        if word == "SELECT":
            return self.select()
        if word == "INSERT":
            return self.insert()
        if word == "UPDATE":
            return self.update()
        if word == "DELETE":
            return self.delete()
        self.pos += 1
        self.expect_op("(", "Expected left parenthesis")
        if not self.token.is_word("SELECT"):
            raise PartiqlSyntaxError("Expected data manipulation")
        select = self.select(nested=True)
        self.expect_op(")", "Expected right parenthesis")
        return Exists(select)

    def target(self) -> Target:
        token = self.token
        if token.kind == "quoted" or (token.kind == "ident" and not self.is_keyword(token)):
            self.pos += 1
            table = token.text
        elif token.kind == "eof" or token.is_op(";") or self.is_keyword(token):
            raise PartiqlSyntaxError("Expected identifier for simple path")
        else:
            raise self.unexpected()
        index: str | None = None
        if self.op("."):
            part = self.token
            if part.kind == "quoted" or (part.kind == "ident" and not self.is_keyword(part)):
                self.pos += 1
                index = part.text
            else:
                raise PartiqlSyntaxError("Expected identifier for simple path")
        return Target(table, index)

    def no_alias(self, ends: tuple[str, ...]) -> None:
        token = self.token
        if token.is_word("AS") or token.kind == "quoted":
            raise ValidationError(MSG_ALIAS)
        if token.kind == "ident" and not any(token.is_word(w) for w in ends):
            raise ValidationError(MSG_ALIAS)

    def select(self, nested: bool = False) -> Select:
        self.pos += 1  # SELECT
        projection: tuple[Path, ...] | None
        if self.op("*"):
            projection = None
        else:
            paths = [self.projected_path()]
            while self.op(","):
                paths.append(self.projected_path())
            projection = tuple(paths)
        if not self.word("FROM"):
            raise self.unexpected()
        if self.token.kind == "eof":
            raise PartiqlSyntaxError("Unexpected term")
        target = self.target()
        self.no_alias(("WHERE", "ORDER"))
        where = self.where() if self.word("WHERE") else None
        order: list[tuple[Path, bool]] = []
        if self.word("ORDER"):
            self.expect_word("BY", "Expected BY")
            while True:
                key = self.path()
                descending = False
                if self.word("DESC"):
                    descending = True
                else:
                    self.word("ASC")
                order.append((key, descending))
                if not self.op(","):
                    break
        if not nested:
            self.end()
        return Select(target, projection, where, tuple(order))

    def projected_path(self) -> Path:
        token = self.token
        if token.kind not in ("ident", "quoted") or self.is_keyword(token):
            raise self.unexpected()
        return self.path()

    def insert(self) -> Insert:
        self.pos += 1  # INSERT
        self.expect_word("INTO", "Expected INTO")
        target = self.target()
        if self.token.is_word("VALUES"):
            raise ValidationError(MSG_VALUES)
        if not self.word("VALUE"):
            if self.token.kind == "eof":
                raise PartiqlSyntaxError("Expected VALUE")
            raise PartiqlSyntaxError("Unexpected token after expression")
        item = self.expression()
        self.end()
        return Insert(target, item)

    def update(self) -> Update:
        self.pos += 1  # UPDATE
        target = self.target()
        self.no_alias(("SET", "REMOVE"))
        actions: list[SetAction | RemoveAction] = []
        while True:
            if self.word("SET"):
                while True:
                    path = self.path()
                    self.expect_op("=", "Expected equals sign")
                    actions.append(SetAction(path, self.additive()))
                    if not self.op(","):
                        break
            elif self.word("REMOVE"):
                while True:
                    actions.append(RemoveAction(self.path()))
                    if not self.op(","):
                        break
            else:
                break
        if not actions:
            raise PartiqlSyntaxError("Expected SET or REMOVE")
        where = self.where() if self.word("WHERE") else None
        returning = self.returning()
        self.end()
        return Update(target, tuple(actions), where, returning)

    def delete(self) -> Delete:
        self.pos += 1  # DELETE
        self.expect_word("FROM", "Expected FROM")
        target = self.target()
        self.no_alias(("WHERE",))
        where = self.where() if self.word("WHERE") else None
        returning = self.returning()
        self.end()
        return Delete(target, where, returning)

    def returning(self) -> str | None:
        if not self.word("RETURNING"):
            return None
        words = []
        for _ in range(2):  # never past the end: the statement may stop after RETURNING
            if self.token.kind == "eof":
                raise PartiqlSyntaxError("Unexpected term")
            words.append(self.token.text.upper() if self.token.kind == "ident" else "")
            self.pos += 1
        chosen = " ".join(words)
        if chosen not in _RETURNING or not self.op("*"):
            raise PartiqlSyntaxError("Unexpected term")
        return chosen

    def where(self) -> Node:
        token = self.token
        if token.kind == "eof" or token.is_op(";"):
            raise PartiqlSyntaxError("Unexpected term")
        return self.expression()

    # -- paths ------------------------------------------------------------------------

    def path(self) -> Path:
        token = self.token
        if token.kind == "quoted" or (token.kind == "ident" and not self.is_keyword(token)):
            self.pos += 1
        elif token.kind == "eof":
            raise PartiqlSyntaxError("Unexpected term")
        else:
            raise PartiqlSyntaxError("Expected identifier for simple path")
        parts: list[PathPart] = [token.text]
        while True:
            if self.op("."):
                part = self.token
                if part.kind not in ("ident", "quoted"):
                    raise PartiqlSyntaxError("Expected identifier for simple path")
                self.pos += 1
                parts.append(part.text)
            elif self.token.is_op("["):
                self.pos += 1
                index = self.token
                if index.kind != "number" or not index.text.isdigit():
                    raise PartiqlSyntaxError("Expected an array index")
                self.pos += 1
                self.expect_op("]", "Expected right bracket")
                parts.append(int(index.text))
            else:
                return Path(tuple(parts))

    # -- expressions ------------------------------------------------------------------

    def expression(self) -> Node:
        """OR of ANDs of NOTs of predicates."""
        node = self.conjunction()
        while self.word("OR"):
            node = Or(node, self.operand_after_infix(self.conjunction))
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.word("AND"):
            node = And(node, self.operand_after_infix(self.negation))
        return node

    def operand_after_infix(self, parse: Callable[[], Node]) -> Node:
        token = self.token
        if token.kind == "eof" or token.is_op(";") or token.is_op(")"):
            raise PartiqlSyntaxError("Missing right-hand side expression of infix operator")
        node: Node = parse()
        return node

    def negation(self) -> Node:
        if self.word("NOT"):
            if self.token.kind == "eof":
                raise PartiqlSyntaxError("Unexpected term")
            self.enter()
            inner = self.negation()
            self.leave()
            return Not(inner)
        return self.predicate()

    def predicate(self) -> Node:
        left = self.additive()
        token = self.token
        if token.kind == "op" and token.text in _COMPARATORS:
            self.pos += 1
            right = self.operand_after_infix(self.additive)
            return Compare(_COMPARATORS[token.text], left, right)
        negated = False
        if token.is_word("NOT") and (
            self.tokens[self.pos + 1].is_word("IN") or self.tokens[self.pos + 1].is_word("BETWEEN")
        ):
            self.pos += 1
            negated = True
        if self.word("BETWEEN"):
            low = self.additive()
            self.expect_word("AND", "Expected AND")
            high = self.additive()
            node: Node = Between(left, low, high)
            return Not(node) if negated else node
        if self.word("IN"):
            options = self.in_options()
            node = In(left, options)
            return Not(node) if negated else node
        if self.word("IS"):
            is_not = self.word("NOT")
            if self.word("MISSING"):
                return IsType(left, "MISSING", is_not)
            if self.word("NULL"):
                return IsType(left, "NULL", is_not)
            raise PartiqlSyntaxError("Expected type name")
        return left

    def in_options(self) -> tuple[Node, ...]:
        if self.token.is_op("[") or self.token.is_op("("):
            close = "]" if self.token.text == "[" else ")"
            self.pos += 1
            self.enter()
            options = [self.additive()]
            while self.op(","):
                options.append(self.additive())
            self.leave()
            self.expect_op(close, "Expected right bracket")
            return tuple(options)
        if self.token.kind == "param":
            return (self.primary(),)
        raise self.unexpected()

    def additive(self) -> Node:
        node = self.primary()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.token.text
            self.pos += 1
            node = Arithmetic(op, node, self.operand_after_infix(self.primary))
        return node

    def primary(self) -> Node:
        token = self.token
        kind = token.kind
        if kind == "string":
            self.pos += 1
            return Literal({"S": token.text})
        if kind == "number":
            self.pos += 1
            return Literal({"N": token.text})
        if kind == "param":
            self.pos += 1
            self.params += 1
            return Param(self.params - 1)
        if kind == "op":
            if token.text == "-" and self.tokens[self.pos + 1].kind == "number":
                self.pos += 2
                return Literal({"N": "-" + self.tokens[self.pos - 1].text})
            if token.text == "(":
                self.pos += 1
                self.enter()
                if self.token.kind == "eof":
                    raise PartiqlSyntaxError("Unexpected term")
                inner = self.expression()
                self.leave()
                self.expect_op(")", "Expected right parenthesis")
                return inner
            if token.text in ("[", "<<", "{"):
                return self.collection()
            raise self.unexpected()
        if kind == "ident":
            word = token.text.upper()
            if word == "TRUE" or word == "FALSE":
                self.pos += 1
                return Literal({"BOOL": word == "TRUE"})
            if word == "NULL":
                self.pos += 1
                return Literal({"NULL": True})
            if self.tokens[self.pos + 1].is_op("(") and word not in KEYWORDS:
                return self.call()
            if word in KEYWORDS:
                raise self.unexpected()
            return self.path()
        if kind == "quoted":
            return self.path()
        raise self.unexpected()

    def call(self) -> Call:
        name = self.token.text.lower()
        self.pos += 2  # name (
        self.enter()
        args: list[Node] = []
        if not self.token.is_op(")"):
            args.append(self.additive())
            while self.op(","):
                args.append(self.additive())
        self.leave()
        self.expect_op(")", "Expected right parenthesis")
        return Call(name, tuple(args))

    def collection(self) -> Node:
        opener = self.token.text
        self.pos += 1
        self.enter()
        close = {"[": "]", "<<": ">>", "{": "}"}[opener]
        if opener == "{":
            entries: list[tuple[str, Node]] = []
            while not self.token.is_op("}"):
                key = self.token
                if key.kind != "string":
                    raise PartiqlSyntaxError("Expected a string for a tuple attribute name")
                self.pos += 1
                self.expect_op(":", "Expected colon")
                entries.append((key.text, self.additive()))
                if not self.op(","):
                    break
            self.expect_op("}", "Expected right curly brace")
            self.leave()
            return TupleValue(tuple(entries))
        items: list[Node] = []
        while not self.token.is_op(close):
            items.append(self.additive())
            if not self.op(","):
                break
        self.expect_op(close, "Expected right bracket")
        self.leave()
        return ListValue(tuple(items)) if opener == "[" else BagValue(tuple(items))


@lru_cache(maxsize=CACHE_SIZE)
def _parse(text: str) -> Parsed | ValidationError:
    try:
        parser = _Parser(text)
        statement = parser.statement()
    except ValidationError as exc:
        return exc
    return Parsed(statement, parser.params)


def parse_statement(text: str) -> Parsed:
    """The statement's syntax tree (cached by text); ValidationError with AWS's words."""
    parsed = _parse(text)
    if isinstance(parsed, ValidationError):
        raise ValidationError(parsed.message)
    return parsed
