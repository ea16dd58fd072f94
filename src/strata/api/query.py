"""AWS's query protocol (IAM, STS): form-encoded ``Action=...&Version=...`` requests in,
``<ActionResponse><ActionResult>...`` XML out, ``<ErrorResponse>`` on failure.

The request's parameters are checked against the operation's members from botocore's
model (``api/iam/model.py``) with AWS's ValidationError wording before any handler runs.
Lists arrive as ``Name.member.N`` and maps of tags as ``Tags.member.N.Key/Value``; a
result is a plain dict (lists render as ``<member>`` elements, booleans as true/false).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Final
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from strata.api.iam.model import Member
from strata.service.iam.errors import IamValidationError

Value = str | int | bool | None | Sequence["Value"] | Mapping[str, "Value"]
CONTENT_TYPE: Final = "text/xml"
_INDEX_MAX: Final = 1000  # list members accepted per parameter


def parse_form(body: bytes) -> dict[str, str]:
    """The form's parameters (the first of a repeated name)."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        params.setdefault(name, value)
    return params


def timestamp(seconds: float) -> str:
    """ISO 8601 in UTC, as IAM writes dates (``2024-05-01T12:00:00Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.ASCII | re.DOTALL)


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def string_list(params: Mapping[str, str], name: str, field: str = "") -> list[str]:
    """``Name.member.1``, ``Name.member.2``, ... up to the first gap; with ``field``, that
    member of each structure (``PolicyArns.member.1.arn``)."""
    suffix = f".{field}" if field else ""
    found = []
    for index in range(1, _INDEX_MAX + 1):
        value = params.get(f"{name}.member.{index}{suffix}")
        if value is None:
            break
        found.append(value)
    return found


def tag_list(params: Mapping[str, str], name: str = "Tags") -> list[tuple[str, str]]:
    found = []
    for index in range(1, _INDEX_MAX + 1):
        key = params.get(f"{name}.member.{index}.Key")
        if key is None:
            break
        found.append((key, params.get(f"{name}.member.{index}.Value", "")))
    return found


def _list_length(params: Mapping[str, str], name: str) -> int:
    prefix = f"{name}.member."
    indexes = {k[len(prefix) :].split(".", 1)[0] for k in params if k.startswith(prefix)}
    return len(indexes)


def _violations(member: Member, params: Mapping[str, str]) -> list[str]:
    name, required, kind, enum, low, high, pattern = member
    at = _camel(name)
    if kind == "list":
        count = _list_length(params, name)
        if count == 0 and required:
            return [f"Value null at '{at}' failed to satisfy constraint: Member must not be null"]
        shown = f"Value '[{count} members]' at '{at}' failed to satisfy constraint: "
        if high is not None and count > high:
            return [f"{shown}Member must have length less than or equal to {high}"]
        return []
    value = params.get(name)
    if value is None:
        if required:
            return [f"Value null at '{at}' failed to satisfy constraint: Member must not be null"]
        return []
    shown = f"Value '{value}' at '{at}' failed to satisfy constraint: "
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            return [f"{shown}Member must be an integer"]
        if low is not None and number < low:
            return [f"{shown}Member must have value greater than or equal to {low}"]
        if high is not None and number > high:
            return [f"{shown}Member must have value less than or equal to {high}"]
        return []
    if kind == "boolean":
        return [] if value in ("true", "false") else [f"{shown}Member must be a boolean"]
    if kind != "string":
        return []
    problems = []
    if enum is not None and value not in enum:
        problems.append(f"{shown}Member must satisfy enum value set: [{', '.join(enum)}]")
    if low is not None and len(value) < low:
        problems.append(f"{shown}Member must have length greater than or equal to {low}")
    if high is not None and len(value) > high:
        problems.append(f"{shown}Member must have length less than or equal to {high}")
    if pattern is not None and value and _pattern(pattern).fullmatch(value) is None:
        problems.append(f"{shown}Member must satisfy regular expression pattern: {pattern}")
    return problems


def check(members: Sequence[Member], params: Mapping[str, str]) -> None:
    """Raise ``IamValidationError`` with AWS's "N validation error(s) detected" message."""
    problems = [p for member in members for p in _violations(member, params)]
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise IamValidationError(f"{count} validation {noun} detected: {'; '.join(problems)}")


def flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name) == "true"


def _element(name: str, value: Value, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    elif isinstance(value, int):
        out.append(f"<{name}>{value}</{name}>")
    elif isinstance(value, str):
        out.append(f"<{name}>{escape(value)}</{name}>")
    elif isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, inner in value.items():
            _element(key, inner, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>")
        for item in value:
            _element("member", item, out)
        out.append(f"</{name}>")


def render_result(
    action: str, result: Mapping[str, Value] | None, request_id: str, namespace: str
) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{namespace}">']
    if result is not None:
        _element(f"{action}Result", result, out)
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    out.append(f"</{action}Response>")
    return "".join(out).encode()


def render_error(code: str, message: str, request_id: str, namespace: str, sender: bool) -> bytes:
    kind = "Sender" if sender else "Receiver"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
