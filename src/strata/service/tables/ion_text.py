"""Amazon Ion text for DynamoDB items, as AWS's exports write it and its imports read it.

One item a line: ``$ion_1_0 {Item:{pk:"a",n:1.5,b:{{AQI=}},ss:$dynamodb_SS::["x"]}}``.
The mapping is AWS's (DynamoDB export output, "Amazon Ion"): S is a string, N a decimal,
B a blob, BOOL a bool, NULL a null, L a list, M a struct, SS/NS/BS lists annotated
``$dynamodb_SS``/``$dynamodb_NS``/``$dynamodb_BS``.

``encode_item`` writes that; ``parse_value`` reads the Ion text subset such lines use
(structs, lists, strings, symbols, decimals, ints, floats, blobs, bools, nulls,
annotations, comments) into wire-format attribute values. Anything else is an
``IonError``, which an import counts as a bad line.
"""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Final

from strata.service.tables.values import AttributeValue, Item

VERSION_MARKER: Final = "$ion_1_0"
_SETS: Final = {"$dynamodb_SS": "SS", "$dynamodb_NS": "NS", "$dynamodb_BS": "BS"}
_SYMBOL: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER: Final = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eEdD][-+]?[0-9]+)?")
_NAME_SAFE: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_KEYWORDS: Final = frozenset({"true", "false", "null", "nan"})


class IonError(ValueError):
    """Text that is not the Ion an item line can be."""


# -- writing --------------------------------------------------------------------------------


def encode_item(item: Item) -> bytes:
    """One export line: the version marker and ``{Item:{...}}``."""
    return f"{VERSION_MARKER} {{Item:{_struct(item)}}}\n".encode()


def _struct(fields: dict[str, AttributeValue]) -> str:
    return "{" + ",".join(f"{_name(k)}:{_value(v)}" for k, v in fields.items()) + "}"


def _name(name: str) -> str:
    if _NAME_SAFE.match(name) and name not in _KEYWORDS:
        return name
    return json.dumps(name, ensure_ascii=False)


def _decimal(text: str) -> str:
    """A DynamoDB number as an Ion decimal (``1.``, ``-0.5``, ``1.5d20``)."""
    number = Decimal(text)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    mantissa = ("-" if sign else "") + "".join(map(str, digits))
    return f"{mantissa}d{exponent}"


def _value(value: AttributeValue) -> str:
    kind, raw = next(iter(value.items()))
    if kind == "BOOL":
        return "true" if raw else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return "[" + ",".join(_value(v) for v in raw) + "]"
    if kind == "M":
        return _struct(raw)
    if kind in ("SS", "NS", "BS"):
        member = kind[0]
        return f"$dynamodb_{kind}::[" + ",".join(_scalar(member, m) for m in raw) + "]"
    return _scalar(kind, raw)


def _scalar(kind: str, raw: str) -> str:
    if kind == "S":
        return json.dumps(raw, ensure_ascii=False)
    if kind == "N":
        return _decimal(raw)
    return "{{" + raw + "}}"


# -- reading --------------------------------------------------------------------------------


def item_of_line(line: str) -> Item | None:
    """The item of one import line (None: a blank line or a version marker alone)."""
    reader = _Reader(line)
    reader.skip()
    if reader.text.startswith(VERSION_MARKER, reader.at):
        reader.at += len(VERSION_MARKER)
        reader.skip()
    if reader.done():
        return None
    doc = reader.value()
    reader.skip()
    if not reader.done():
        raise IonError("more than one value on the line")
    if not isinstance(doc, dict) or set(doc) != {"M"} or set(doc["M"]) != {"Item"}:
        raise IonError("the line is not one {Item:{...}} struct")
    item = doc["M"]["Item"]
    if "M" not in item or not item["M"]:
        raise IonError("the item is not a struct of attributes")
    return item["M"]  # type: ignore[no-any-return]


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def done(self) -> bool:
        return self.at >= len(self.text)

    def skip(self) -> None:
        text = self.text
        while self.at < len(text):
            if text[self.at].isspace():
                self.at += 1
            elif text.startswith("//", self.at):
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.at):
                end = text.find("*/", self.at + 2)
                if end < 0:
                    raise IonError("an unterminated comment")
                self.at = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        if self.done():
            raise IonError("the value ends too soon")
        return self.text[self.at]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise IonError(f"expected {char!r} at {self.at}")
        self.at += 1

    def value(self, depth: int = 0) -> AttributeValue:
        if depth > 32:
            raise IonError("nested too deep")
        annotation = self._annotation()
        char = self.peek()
        if annotation is not None:
            kind = _SETS.get(annotation)
            if kind is None or char != "[":
                raise IonError(f"an unknown annotation {annotation}")
            members = self._list(depth)
            wanted = {"SS": "S", "NS": "N", "BS": "B"}[kind]
            if not members or any(set(m) != {wanted} for m in members):
                raise IonError(f"a {kind} set of other values")
            return {kind: [m[wanted] for m in members]}
        if char == "{":
            if self.text.startswith("{{", self.at):
                return {"B": self._blob()}
            return {"M": self._struct(depth)}
        if char == "[":
            return {"L": self._list(depth)}
        if char in "\"'":
            return {"S": self._string()}
        if char.isdigit() or char in "-+":
            return {"N": self._number()}
        word = _SYMBOL.match(self.text, self.at)
        if word is None:
            raise IonError(f"an unexpected {char!r} at {self.at}")
        self.at = word.end()
        if word.group() == "true":
            return {"BOOL": True}
        if word.group() == "false":
            return {"BOOL": False}
        if word.group() == "null":
            if self.text.startswith(".", self.at):  # a typed null: null.string, ...
                typed = _SYMBOL.match(self.text, self.at + 1)
                self.at = typed.end() if typed else self.at + 1
            return {"NULL": True}
        raise IonError(f"a symbol value {word.group()}")

    def _annotation(self) -> str | None:
        self.skip()
        word = _SYMBOL.match(self.text, self.at)
        if word is None or not self.text.startswith("::", word.end()):
            return None
        self.at = word.end() + 2
        return word.group()

    def _struct(self, depth: int) -> dict[str, AttributeValue]:
        self.expect("{")
        fields: dict[str, AttributeValue] = {}
        while self.peek() != "}":
            if self.peek() in "\"'":
                name = self._string()
            else:
                word = _SYMBOL.match(self.text, self.at)
                if word is None:
                    raise IonError(f"a field name expected at {self.at}")
                name = word.group()
                self.at = word.end()
            self.expect(":")
            fields[name] = self.value(depth + 1)
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "}":
                raise IonError(f"',' or '}}' expected at {self.at}")
        self.at += 1
        return fields

    def _list(self, depth: int) -> list[AttributeValue]:
        self.expect("[")
        members: list[AttributeValue] = []
        while self.peek() != "]":
            members.append(self.value(depth + 1))
            if self.peek() == ",":
                self.at += 1
            elif self.peek() != "]":
                raise IonError(f"',' or ']' expected at {self.at}")
        self.at += 1
        return members

    def _string(self) -> str:
        quote = self.text[self.at]
        end = self.at + 1
        text = self.text
        while end < len(text) and text[end] != quote:
            end += 2 if text[end] == "\\" else 1
        if end >= len(text):
            raise IonError("an unterminated string")
        body = text[self.at + 1 : end]
        self.at = end + 1
        if quote == "'":
            body = body.replace('"', '\\"').replace("\\'", "'")
        try:
            decoded: str = json.loads('"' + body + '"')
        except ValueError:
            raise IonError("a string with a bad escape") from None
        return decoded

    def _blob(self) -> str:
        end = self.text.find("}}", self.at + 2)
        if end < 0:
            raise IonError("an unterminated blob")
        raw = "".join(self.text[self.at + 2 : end].split())
        self.at = end + 2
        try:
            base64.b64decode(raw, validate=True)
        except ValueError:
            raise IonError("a blob that is not base64") from None
        return raw

    def _number(self) -> str:
        found = _NUMBER.match(self.text, self.at)
        if found is None:
            raise IonError(f"a number expected at {self.at}")
        self.at = found.end()
        text = found.group().replace("_", "").replace("d", "e").replace("D", "e")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise IonError(f"a bad number {found.group()}") from None
        return _plain(number)


def _plain(number: Decimal) -> str:
    """A decimal as DynamoDB writes a number (``values.normalize_number`` checks it)."""
    return format(number.normalize(), "f") if number else "0"
