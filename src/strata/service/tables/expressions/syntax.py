"""Tokenizer and recursive-descent parser: expression text -> syntax tree.

The syntax tree still holds ``#name`` and ``:value`` placeholders, so it depends only on
the expression string and can be cached; binding to a request's names and values is a
separate, cheap pass (``bind.py``). Errors that depend only on the text (syntax, redundant
parentheses, unknown or misused functions, reserved words, repeated update sections) are
found here, in the order AWS reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, TypeAlias

from strata.service.tables.expressions.reserved import RESERVED_WORDS

# ---------------------------------------------------------------------------------------
# Syntax tree

RawPath: TypeAlias = tuple[str | int, ...]
"""A document path as written: bare names, ``#placeholders`` (they start with ``#``) and
list indexes (ints)."""


@dataclass(frozen=True, slots=True)
class PathSyntax:
    parts: RawPath


@dataclass(frozen=True, slots=True)
class ValueSyntax:
    name: str  # ":placeholder"


@dataclass(frozen=True, slots=True)
class CallSyntax:
    name: str
    args: tuple[OperandSyntax, ...]


OperandSyntax: TypeAlias = PathSyntax | ValueSyntax | CallSyntax


@dataclass(frozen=True, slots=True)
class CompareSyntax:
    op: str  # = <> < <= > >=
    left: OperandSyntax
    right: OperandSyntax


@dataclass(frozen=True, slots=True)
class BetweenSyntax:
    operand: OperandSyntax
    low: OperandSyntax
    high: OperandSyntax


@dataclass(frozen=True, slots=True)
class InSyntax:
    operand: OperandSyntax
    options: tuple[OperandSyntax, ...]


@dataclass(frozen=True, slots=True)
class FunctionSyntax:
    call: CallSyntax


@dataclass(frozen=True, slots=True)
class NotSyntax:
    inner: ConditionSyntax


@dataclass(frozen=True, slots=True)
class AndSyntax:
    left: ConditionSyntax
    right: ConditionSyntax


@dataclass(frozen=True, slots=True)
class OrSyntax:
    left: ConditionSyntax
    right: ConditionSyntax


ConditionSyntax: TypeAlias = (
    CompareSyntax | BetweenSyntax | InSyntax | FunctionSyntax | NotSyntax | AndSyntax | OrSyntax
)


@dataclass(frozen=True, slots=True)
class ArithmeticSyntax:
    op: str  # + or -
    left: OperandSyntax
    right: OperandSyntax


SetValueSyntax: TypeAlias = OperandSyntax | ArithmeticSyntax


@dataclass(frozen=True, slots=True)
class UpdateActionSyntax:
    section: str  # SET, REMOVE, ADD, DELETE
    path: PathSyntax
    value: SetValueSyntax | None  # None for REMOVE; a ValueSyntax for ADD and DELETE


@dataclass(frozen=True, slots=True)
class UpdateSyntax:
    actions: tuple[UpdateActionSyntax, ...]


@dataclass(frozen=True, slots=True)
class ProjectionSyntax:
    paths: tuple[PathSyntax, ...]


class ExpressionSyntaxError(Exception):
    """The text is not a valid expression; ``message`` is AWS's, without the kind prefix."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# ---------------------------------------------------------------------------------------
# Tokens

_TOKEN_RE: Final = re.compile(
    r"""
     (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<name>\#[A-Za-z0-9_]+)
    |(?P<value>:[A-Za-z0-9_]+)
    |(?P<number>[0-9]+)
    |(?P<op><>|<=|>=|[=<>()\[\],.+\-])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SPACE_RE: Final = re.compile(r"[ \t\r\n]*")

EXPRESSION_BYTES_MAX: Final = 4096
# Parentheses, function calls and NOTs open at once. AWS has no such limit of its own (a
# deeper condition has redundant parentheses or more than OPERATORS_MAX operators, but
# AWS does take 680 nested size() calls to its type check, where this is a syntax error);
# it keeps hostile input off Python's recursion limit (about two frames a level).
PAREN_DEPTH_MAX: Final = 300
# AWS's limit on operators and functions in one expression (documented for UpdateExpression,
# observed on every kind: "The expression contains too many operators; operator count: 301").
OPERATORS_MAX: Final = 300
IN_OPERANDS_MAX: Final = 100

CONDITION_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
UPDATE_KEYWORDS: Final = frozenset({"SET", "REMOVE", "ADD", "DELETE"})
CONDITION_FUNCTIONS: Final = frozenset(
    {
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
    }
)
UPDATE_FUNCTIONS: Final = frozenset({"if_not_exists", "list_append"})
COMPARATORS: Final = frozenset({"=", "<>", "<", "<=", ">", ">="})
ARITHMETIC: Final = frozenset({"+", "-"})


class Token:
    __slots__ = ("end", "kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r})"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``<EOF>`` token."""
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    space = _SPACE_RE.match
    token = _TOKEN_RE.match
    while True:
        found = space(text, pos)
        assert found is not None
        pos = found.end()
        if pos >= length:
            break
        match = token(text, pos)
        assert match is not None
        assert match.lastgroup is not None
        tokens.append(Token(match.lastgroup, match.group(), pos, match.end()))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", length, length))
    return tokens


class _Failure(Exception):
    """Internal: this alternative does not parse; the furthest one is reported."""


# ---------------------------------------------------------------------------------------
# Parser


class _Parser:
    """One parse of one expression text; not reused."""

    def __init__(self, text: str, keywords: frozenset[str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.furthest = 0
        self.keywords = keywords
        self.soft: dict[str, str] = {}  # category -> first message, AWS reports one
        self.depth = 0

    # -- helpers ----------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def fail(self) -> _Failure:
        if self.pos > self.furthest:
            self.furthest = self.pos
        return _Failure()

    def is_op(self, text: str) -> bool:
        tok = self.tokens[self.pos]
        return tok.kind == "op" and tok.text == text

    def is_keyword(self, word: str) -> bool:
        tok = self.tokens[self.pos]
        return tok.kind == "ident" and tok.text.upper() == word

    def expect_op(self, text: str) -> None:
        if not self.is_op(text):
            raise self.fail()
        self.pos += 1

    def expect_eof(self) -> None:
        if self.token.kind != "eof":
            raise self.fail()

    def note(self, category: str, message: str) -> None:
        self.soft.setdefault(category, message)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > PAREN_DEPTH_MAX:
            raise self.fail()

    def syntax_error(self) -> ExpressionSyntaxError:
        index = min(self.furthest, len(self.tokens) - 1)
        bad = self.tokens[index]
        start = self.tokens[index - 1].start if index > 0 else bad.start
        end = self.tokens[index + 1].end if index + 1 < len(self.tokens) else len(self.text)
        near = self.text[start:end]
        return ExpressionSyntaxError(f'Syntax error; token: "{bad.text}", near: "{near}"')

    def first_soft(self, order: tuple[str, ...]) -> str | None:
        for category in order:
            message = self.soft.get(category)
            if message is not None:
                return message
        return None

    # -- paths and operands -----------------------------------------------------------

    def path_part(self) -> str:
        tok = self.token
        if tok.kind == "ident" and tok.text.upper() not in self.keywords:
            if tok.text.upper() in RESERVED_WORDS:
                self.note(
                    "reserved",
                    f"Attribute name is a reserved keyword; reserved keyword: {tok.text}",
                )
            self.pos += 1
            return tok.text
        if tok.kind == "name":
            self.pos += 1
            return tok.text
        raise self.fail()

    def path(self) -> PathSyntax:
        parts: list[str | int] = [self.path_part()]
        while True:
            if self.is_op("."):
                self.pos += 1
                parts.append(self.path_part())
            elif self.is_op("["):
                self.pos += 1
                tok = self.token
                if tok.kind != "number":
                    raise self.fail()
                self.pos += 1
                self.expect_op("]")
                parts.append(int(tok.text))
            else:
                return PathSyntax(tuple(parts))

    def call_args(self, functions: frozenset[str], check_misuse: bool) -> tuple[OperandSyntax, ...]:
        self.expect_op("(")
        self.enter()
        args = [self.operand(functions, check_misuse)[0]]
        while self.is_op(","):
            self.pos += 1
            args.append(self.operand(functions, check_misuse)[0])
        self.depth -= 1
        self.expect_op(")")
        return tuple(args)

    def operand(self, functions: frozenset[str], check_misuse: bool) -> tuple[OperandSyntax, bool]:
        """An operand; the flag says it was wrapped in parentheses."""
        tok = self.token
        if tok.kind == "op" and tok.text == "(":
            self.pos += 1
            self.enter()
            inner, wrapped = self.operand(functions, check_misuse)
            self.depth -= 1
            self.expect_op(")")
            if wrapped and check_misuse:
                self.note("parens", "The expression has redundant parentheses;")
            return inner, True
        if tok.kind == "value":
            self.pos += 1
            return ValueSyntax(tok.text), False
        if (
            tok.kind == "ident"
            and self.tokens[self.pos + 1].kind == "op"
            and self.tokens[self.pos + 1].text == "("
            and tok.text.upper() not in self.keywords
        ):
            self.pos += 1
            if tok.text not in functions:
                self.note("unknownFunction", f"Invalid function name; function: {tok.text}")
            args = self.call_args(functions, check_misuse)
            if check_misuse:
                self.check_misused(args)
            return CallSyntax(tok.text, args), False
        return self.path(), False

    def check_misused(self, operands: tuple[OperandSyntax, ...]) -> None:
        for operand in operands:
            if isinstance(operand, CallSyntax) and operand.name != "size":
                self.note(
                    "misusedFunction",
                    "The function is not allowed to be used this way in an expression; "
                    f"function: {operand.name}",
                )

    # -- conditions -------------------------------------------------------------------

    def condition(self) -> tuple[ConditionSyntax, bool]:
        """OR of ANDs of optionally negated primaries; the flag says the whole thing is one
        parenthesised condition.

        One loop, no recursion but through parentheses (``primary``), so a nesting as deep
        as AWS's 300 operators allow costs two Python frames a level.
        """
        terms: list[ConditionSyntax] = []  # the ORed terms, each an AND chain
        node: ConditionSyntax | None = None  # the AND chain being built
        wrapped = False
        while True:
            negations = 0
            while self.is_keyword("NOT"):
                self.pos += 1
                negations += 1
                self.enter()
            unit, wrapped = self.primary()
            self.depth -= negations
            for _ in range(negations):
                unit, wrapped = NotSyntax(unit), False
            if node is None:
                node = unit
            else:
                node, wrapped = AndSyntax(node, unit), False
            if self.is_keyword("AND"):
                self.pos += 1
                continue
            terms.append(node)
            node = None
            if self.is_keyword("OR"):
                self.pos += 1
                continue
            break
        result = terms[0]
        for right in terms[1:]:
            result, wrapped = OrSyntax(result, right), False
        return result, wrapped

    def primary(self) -> tuple[ConditionSyntax, bool]:
        if self.is_op("("):
            # "(" starts either a parenthesised condition or a parenthesised operand.
            start, soft, depth = self.pos, dict(self.soft), self.depth
            try:
                self.pos += 1
                self.enter()
                inner, wrapped = self.condition()
                self.depth -= 1
                self.expect_op(")")
                tok = self.token
                if (tok.kind == "op" and tok.text in COMPARATORS) or (
                    tok.kind == "ident" and tok.text.upper() in ("BETWEEN", "IN")
                ):
                    raise self.fail()  # it was a parenthesised operand: "(size(a)) > :v"
            except _Failure:
                self.pos, self.soft, self.depth = start, soft, depth
            else:
                if wrapped:
                    self.note("parens", "The expression has redundant parentheses;")
                return inner, True
        return self.comparison(), False

    def comparison(self) -> ConditionSyntax:
        left, wrapped = self.operand(CONDITION_FUNCTIONS, True)
        tok = self.token
        if tok.kind == "op" and tok.text in COMPARATORS:
            self.pos += 1
            right, _ = self.operand(CONDITION_FUNCTIONS, True)
            self.check_misused((left, right))
            return CompareSyntax(tok.text, left, right)
        if tok.kind == "ident":
            word = tok.text.upper()
            if word == "BETWEEN":
                self.pos += 1
                low, _ = self.operand(CONDITION_FUNCTIONS, True)
                if not self.is_keyword("AND"):
                    raise self.fail()
                self.pos += 1
                high, _ = self.operand(CONDITION_FUNCTIONS, True)
                self.check_misused((left, low, high))
                return BetweenSyntax(left, low, high)
            if word == "IN":
                self.pos += 1
                self.expect_op("(")
                options = [self.operand(CONDITION_FUNCTIONS, True)[0]]
                while self.is_op(","):
                    self.pos += 1
                    options.append(self.operand(CONDITION_FUNCTIONS, True)[0])
                self.expect_op(")")
                self.check_misused((left, *options))
                return InSyntax(left, tuple(options))
        if isinstance(left, CallSyntax) and not wrapped:
            if left.name == "size":
                self.note(
                    "misusedFunction",
                    "The function is not allowed to be used this way in an expression; "
                    "function: size",
                )
            return FunctionSyntax(left)
        raise self.fail()

    # -- update -----------------------------------------------------------------------

    def update(self) -> UpdateSyntax:
        actions: list[UpdateActionSyntax] = []
        seen: set[str] = set()
        while True:
            tok = self.token
            section = tok.text.upper() if tok.kind == "ident" else ""
            if section not in UPDATE_KEYWORDS:
                raise self.fail()
            if section in seen:
                self.note(
                    "section",
                    f'The "{section}" section can only be used once in an update expression;',
                )
            seen.add(section)
            self.pos += 1
            while True:
                actions.append(self.update_action(section))
                if not self.is_op(","):
                    break
                self.pos += 1
            if self.token.kind == "eof":
                return UpdateSyntax(tuple(actions))

    def update_action(self, section: str) -> UpdateActionSyntax:
        path = self.path()
        if section == "REMOVE":
            return UpdateActionSyntax(section, path, None)
        if section == "SET":
            self.expect_op("=")
            return UpdateActionSyntax(section, path, self.set_value())
        tok = self.token
        if tok.kind != "value":
            raise self.fail()
        self.pos += 1
        return UpdateActionSyntax(section, path, ValueSyntax(tok.text))

    def set_value(self) -> SetValueSyntax:
        if self.is_op("("):
            start, depth = self.pos, self.depth
            try:
                self.pos += 1
                self.enter()
                value = self.arithmetic()
                self.depth -= 1
                self.expect_op(")")
                if self.is_op("+") or self.is_op("-"):
                    raise self.fail()
            except _Failure:
                self.pos, self.depth = start, depth
            else:
                return value
        return self.arithmetic()

    def arithmetic(self) -> SetValueSyntax:
        left, _ = self.operand(UPDATE_FUNCTIONS, False)
        tok = self.token
        if tok.kind == "op" and tok.text in ("+", "-"):
            self.pos += 1
            right, _ = self.operand(UPDATE_FUNCTIONS, False)
            return ArithmeticSyntax(tok.text, left, right)
        return left

    # -- projection -------------------------------------------------------------------

    def projection(self) -> ProjectionSyntax:
        paths = [self.path()]
        while self.is_op(","):
            self.pos += 1
            paths.append(self.path())
        self.expect_eof()
        return ProjectionSyntax(tuple(paths))


def _check_text(text: str, kind: str) -> None:
    if not text.strip():
        raise ExpressionSyntaxError("The expression can not be empty;")
    size = len(text.encode("utf-8"))
    if size > EXPRESSION_BYTES_MAX:
        suffix = f" expression size: {size}" if kind in ("condition",) else ""
        raise ExpressionSyntaxError(
            "Expression size has exceeded the maximum allowed size;" + suffix
        )


def _operator_count(tokens: list[Token], operators: frozenset[str]) -> int:
    """Operators and function calls as AWS counts them against OPERATORS_MAX.

    ``operators`` (comparators in conditions, + and - in updates), AND/OR/NOT, BETWEEN
    (its AND is part of it) and IN; not parentheses and not function calls (AWS takes
    ``a < size(size(...))`` 680 deep to its type check). Counted on the tokens, before
    parsing, so an expression too deep to parse still gets AWS's count.
    """
    count = 0
    betweens = 0
    for tok in tokens:
        if tok.kind == "op":
            if tok.text in operators:
                count += 1
            continue
        if tok.kind != "ident":
            continue
        word = tok.text.upper()
        if word == "BETWEEN":
            betweens += 1
            count += 1
        elif word == "AND" and betweens:
            betweens -= 1
        elif word in ("AND", "OR", "NOT", "IN"):
            count += 1
    return count


def _check_operators(parser: _Parser, operators: frozenset[str]) -> None:
    count = _operator_count(parser.tokens, operators)
    if count > OPERATORS_MAX:
        raise ExpressionSyntaxError(
            f"The expression contains too many operators; operator count: {count}"
        )


_CONDITION_ORDER: Final = ("parens", "unknownFunction", "misusedFunction", "reserved")
_UPDATE_ORDER: Final = ("reserved", "unknownFunction", "section")
_PROJECTION_ORDER: Final = ("reserved",)


def parse_condition_syntax(text: str, *, size_suffix: bool = True) -> ConditionSyntax:
    """Parse a Condition/Filter/KeyCondition expression; ExpressionSyntaxError if invalid."""
    _check_text(text, "condition" if size_suffix else "other")
    parser = _Parser(text, CONDITION_KEYWORDS)
    _check_operators(parser, COMPARATORS)
    try:
        node, _ = parser.condition()
        parser.expect_eof()
    except _Failure:
        raise parser.syntax_error() from None
    message = parser.first_soft(_CONDITION_ORDER)
    if message is not None:
        raise ExpressionSyntaxError(message)
    return node


def parse_update_syntax(text: str) -> UpdateSyntax:
    """Parse an UpdateExpression; ExpressionSyntaxError if invalid."""
    _check_text(text, "update")
    parser = _Parser(text, UPDATE_KEYWORDS)
    _check_operators(parser, ARITHMETIC)
    try:
        node = parser.update()
    except _Failure:
        raise parser.syntax_error() from None
    message = parser.first_soft(_UPDATE_ORDER)
    if message is not None:
        raise ExpressionSyntaxError(message)
    return node


def parse_projection_syntax(text: str) -> ProjectionSyntax:
    """Parse a ProjectionExpression; ExpressionSyntaxError if invalid."""
    _check_text(text, "projection")
    parser = _Parser(text, frozenset())
    try:
        node = parser.projection()
    except _Failure:
        raise parser.syntax_error() from None
    message = parser.first_soft(_PROJECTION_ORDER)
    if message is not None:
        raise ExpressionSyntaxError(message)
    return node
