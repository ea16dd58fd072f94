"""A KMS request checked against botocore's model before any operation sees it.

First every top-level member's JSON type (SerializationException), blobs decoded from
base64 on the way; then the model's constraints in its member order, as AWS lists them in
one ValidationException: "Value null at 'keyId' ... Member must not be null", lengths,
ranges, enums, patterns. Blob values are not printed in the messages, as AWS does not.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

from strata.api.kms.model import MEMBERS, Member
from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import SerializationError

_JSON_TYPES: Final = {
    "string": (str,),
    "blob": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "map": (dict,),
    "list": (list,),
    "structure": (dict,),
}
_patterns: dict[str, re.Pattern[str]] = {}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES.get(kind, (object,)))


def _decode_blob(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationError(f"Value for {name} is not valid base64-encoded data") from None


def _check_map_of_strings(name: str, value: dict[str, Any]) -> None:
    for key, item in value.items():
        if not isinstance(item, str):
            raise SerializationError(f"Unexpected value type in payload for {name}.{key}")


def check_request(operation: str, req: dict[str, Any]) -> dict[str, Any]:
    """The request with its blobs decoded to bytes; raises AWS's errors for what is wrong."""
    members: tuple[Member, ...] = MEMBERS.get(operation, ())
    checked = dict(req)
    for name, _, _, kind, _, _, _, _ in members:
        value = req.get(name)
        if value is None:
            checked.pop(name, None)
            continue
        if not _type_ok(kind, value):
            raise SerializationError(f"Unexpected field type for {name}")
        if kind == "blob":
            checked[name] = _decode_blob(name, value)
        elif kind == "map":
            _check_map_of_strings(name, value)
    found = Constraints()
    for name, path, required, kind, enum, low, high, pattern in members:
        value = checked.get(name)
        if value is None:
            if required:
                found.not_null(None, path)
            continue
        if kind == "blob":
            _length_unshown(found, value, path, low, high)  # AWS prints no blob
        elif kind in ("string", "list", "map"):
            found.length(value, path, low, high)
        elif kind == "integer":
            found.range(value, path, low, high)
        if enum is not None:
            found.enum(value, path, enum)
        if pattern is not None and kind == "string":
            compiled = _patterns.get(pattern)
            if compiled is None:
                compiled = _patterns[pattern] = re.compile(pattern)
            if not compiled.fullmatch(value):
                found.add(value, path, f"Member must satisfy regular expression pattern: {pattern}")
    found.raise_if_any()
    return checked


def _length_unshown(
    found: Constraints, value: bytes, path: str, low: int | None, high: int | None
) -> None:
    if low is not None and len(value) < low:
        found.errors.append(
            f"Value at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {low}"
        )
    elif high is not None and len(value) > high:
        found.errors.append(
            f"Value at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {high}"
        )
