"""Wildcard patterns (``*``, ``?``) and policy variables (``${aws:username}``), compiled once.

A policy's Action, Resource and condition values are matched against request values many
times, so each is compiled at parse time: an exact string, a match-everything ``*``, or a
regular expression. A pattern with policy variables (only in a ``2012-10-17`` document) is
split into literal and variable parts; at evaluation the variables are replaced by the
request's values (taken literally: a ``*`` in a user name is not a wildcard) and the result
is compiled through a small cache. A variable the request does not have, and no default
(``${aws:PrincipalTag/team, 'none'}``), makes the pattern match nothing, as AWS documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

ContextValue = str | list[str]
Lookup = Callable[[str], "ContextValue | None"]

# ${*}, ${?} and ${$} stand for the literal characters, so a policy can match them.
_SPECIAL: Final = {"*": "*", "?": "?", "$": "$"}
_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_DEFAULT: Final = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")


def _translate(text: str) -> str:
    """Regex source for a wildcard text: ``*`` any run of characters, ``?`` any one."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@lru_cache(maxsize=4096)
def _cached_regex(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_regex(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    return _cached_regex(_translate(pattern), ignore_case)


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # lower-cased: condition keys are case-insensitive
    default: str | None


Part = str | Variable


def regex_parts(parts: Sequence[Part]) -> tuple[Part, ...]:
    """``parts`` with each literal already turned into regex source, once."""
    return tuple(_translate(p) if isinstance(p, str) else p for p in parts)


def split_variables(text: str) -> tuple[Part, ...]:
    """Literal text and ``Variable``s, in order. ``${*}``, ``${?}``, ``${$}`` become
    variables with no key whose value is that character (so it is not a wildcard)."""
    parts: list[Part] = []
    last = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > last:
            parts.append(text[last : found.start()])
        inner = found.group(1)
        if inner in _SPECIAL:
            parts.append(Variable("", _SPECIAL[inner]))
        else:
            with_default = _DEFAULT.match(inner)
            if with_default is not None:
                parts.append(Variable(with_default.group(1).lower(), with_default.group(2)))
            else:
                parts.append(Variable(inner.strip().lower(), None))
        last = found.end()
    if last < len(text):
        parts.append(text[last:])
    return tuple(parts)


def substitute(parts: Sequence[Part], lookup: Lookup, *, regex: bool) -> str | None:
    """The text with each variable's value in place; None if a variable is missing (or
    multi-valued). ``regex``: the regex source of the wildcard pattern instead (``parts``
    then from ``regex_parts``), in which the values are literal (a ``*`` in a user name is
    no wildcard)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = lookup(part.key) if part.key else None
        if not isinstance(value, str):
            value = part.default
        if value is None:
            return None
        out.append(re.escape(value) if regex else value)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One wildcard pattern, maybe with variables. ``matches`` is the hot path."""

    text: str
    ignore_case: bool
    parts: tuple[Part, ...] | None  # None: no variables
    regex: re.Pattern[str] | None  # None: exact (or variables)

    def matches(self, value: str, lookup: Lookup) -> bool:
        if self.parts is None:
            if self.regex is None:
                return value.lower() == self.text if self.ignore_case else value == self.text
            return self.regex.fullmatch(value) is not None
        source = substitute(self.parts, lookup, regex=True)
        if source is None:
            return False
        return _cached_regex(source, self.ignore_case).fullmatch(value) is not None


def compile_pattern(text: str, *, ignore_case: bool = False, variables: bool = True) -> Pattern:
    parts = split_variables(text) if variables and "${" in text else None
    if parts is not None and all(isinstance(p, str) for p in parts):
        parts = None
    if parts is not None:
        return Pattern(text, ignore_case, regex_parts(parts), None)
    if "*" not in text and "?" not in text:
        return Pattern(text.lower() if ignore_case else text, ignore_case, None, None)
    return Pattern(text, ignore_case, None, wildcard_regex(text, ignore_case=ignore_case))


@dataclass(frozen=True, slots=True)
class PatternSet:
    """Several patterns, any of which may match: exact values in a set, the rest scanned."""

    everything: bool
    exact: frozenset[str]
    others: tuple[Pattern, ...]
    ignore_case: bool

    @property
    def context_free(self) -> bool:
        return all(p.parts is None for p in self.others)

    def matches(self, value: str, lookup: Lookup) -> bool:
        if self.everything:
            return True
        if (value.lower() if self.ignore_case else value) in self.exact:
            return True
        return any(p.matches(value, lookup) for p in self.others)


def compile_set(
    texts: Sequence[str], *, ignore_case: bool = False, variables: bool = True
) -> PatternSet:
    exact: set[str] = set()
    others: list[Pattern] = []
    everything = False
    for text in texts:
        if text == "*":
            everything = True
            continue
        pattern = compile_pattern(text, ignore_case=ignore_case, variables=variables)
        if pattern.parts is None and pattern.regex is None:
            exact.add(pattern.text)
        else:
            others.append(pattern)
    return PatternSet(everything, frozenset(exact), tuple(others), ignore_case)


def context_lookup(context: Mapping[str, ContextValue]) -> Lookup:
    """A case-insensitive reader of the condition context (keys are lower-cased once)."""
    lowered = {key.lower(): value for key, value in context.items()}
    return lowered.get
