"""PartiQL statement text -> tokens.

Kinds: ``ident`` (bare word; keywords are idents compared case-insensitively), ``quoted``
(a ``"double-quoted"`` identifier, ``""`` escapes a quote), ``string`` (a ``'single-quoted'``
literal, ``''`` escapes), ``number``, ``param`` (``?``), ``op`` (punctuation), ``eof``.
``--`` line comments and ``/* */`` block comments are skipped. A character that starts no
token (``#``, ``$``, ...), an unterminated literal or comment is AWS's bare "wasn't well
formed" with nothing after the colon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from strata.service.tables.errors import ValidationError

NOT_WELL_FORMED: Final = "Statement wasn't well formed, can't be processed: "


class PartiqlSyntaxError(ValidationError):
    """The statement does not parse; ``detail`` is what AWS prints after the colon."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(NOT_WELL_FORMED + detail)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str  # identifiers and strings unescaped; numbers and punctuation as written
    start: int

    def is_word(self, word: str) -> bool:
        """An unquoted identifier equal to ``word`` (upper case), as keywords are matched."""
        return self.kind == "ident" and self.text.upper() == word

    def is_op(self, text: str) -> bool:
        return self.kind == "op" and self.text == text


_TOKEN_RE: Final = re.compile(
    r"""
     (?P<space>[ \t\r\n\f]+)
    |(?P<line_comment>--[^\n]*)
    |(?P<block_comment>/\*.*?\*/)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<quoted>"(?:[^"]|"")*")
    |(?P<string>'(?:[^']|'')*')
    |(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<param>\?)
    |(?P<op><<|>>|<>|!=|<=|>=|[=<>()\[\]{},.:*+\-;])
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token."""
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    match = _TOKEN_RE.match
    while pos < length:
        found = match(text, pos)
        if found is None:
            raise PartiqlSyntaxError("")
        kind = found.lastgroup
        assert kind is not None
        raw = found.group()
        if kind == "quoted":
            tokens.append(Token(kind, raw[1:-1].replace('""', '"'), pos))
        elif kind == "string":
            tokens.append(Token(kind, raw[1:-1].replace("''", "'"), pos))
        elif kind == "number":
            if not _scale_fits(raw):
                raise PartiqlSyntaxError("")
            tokens.append(Token(kind, raw, pos))
        elif kind in ("ident", "param", "op"):
            tokens.append(Token(kind, raw, pos))
        pos = found.end()
    tokens.append(Token("eof", "", length))
    return tokens


INT32_MAX: Final = 2**31 - 1


def _scale_fits(number: str) -> bool:
    """A decimal literal's exponent, and its scale (digits after the point less the
    exponent), fit a 32-bit integer: beyond that AWS cannot read the literal at all."""
    mantissa, _, exponent_text = number.lower().partition("e")
    if len(exponent_text.lstrip("+-0")) > 10:
        return False  # too long to fit, and too long to be worth converting
    exponent = int(exponent_text) if exponent_text else 0
    fraction = mantissa.partition(".")[2]
    return abs(exponent) <= INT32_MAX and abs(len(fraction) - exponent) <= INT32_MAX
