"""AWS's model-level validation messages: "1 validation error detected: Value ... at ...".

Collect violations with a ``Constraints`` object, then ``raise_if_any()``: AWS lists every
model constraint a request breaks in one ValidationException, joined by "; ".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from strata.service.tables.errors import ValidationError

TABLE_NAME_RE: Final = re.compile(r"[a-zA-Z0-9_.-]+")
TABLE_NAME_PATTERN: Final = "[a-zA-Z0-9_.-]+"
ERRORS_LISTED_MAX: Final = 10


def render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "'[" + ", ".join(render_inner(v) for v in value) + "]'"
    return f"'{value}'"


def render_inner(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render_inner(v)}" for k, v in value.items()) + "}"
    return str(value)


class Constraints:
    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, value: Any, path: str, constraint: str, shown: str | None = None) -> None:
        if shown is None:
            shown = "null" if value is None else render(value)
        self.errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def not_null(self, value: Any, path: str) -> bool:
        if value is None:
            self.errors.append(
                f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
            )
            return False
        return True

    def length(
        self, value: Any, path: str, low: int | None, high: int | None, shown: str | None = None
    ) -> None:
        """``shown``: the value as the message prints it, when not ``render(value)``."""
        if value is None:
            return
        if low is not None and len(value) < low:
            self.add(value, path, f"Member must have length greater than or equal to {low}", shown)
        elif high is not None and len(value) > high:
            self.add(value, path, f"Member must have length less than or equal to {high}", shown)

    def range(self, value: Any, path: str, low: int | None, high: int | None) -> None:
        if value is None:
            return
        if low is not None and value < low:
            self.add(value, path, f"Member must have value greater than or equal to {low}")
        elif high is not None and value > high:
            self.add(value, path, f"Member must have value less than or equal to {high}")

    def enum(self, value: Any, path: str, allowed: Iterable[str]) -> None:
        if value is not None and value not in allowed:
            self.add(value, path, f"Member must satisfy enum value set: [{', '.join(allowed)}]")

    def table_name(
        self, value: Any, path: str = "tableName", required: bool = True, shortest: int = 3
    ) -> None:
        """The pattern, then the length (AWS's order); ``shortest``: 1 on item operations."""
        if value is None:
            if required:
                self.not_null(value, path)
            return
        if not isinstance(value, str):
            return
        arn = value.startswith("arn:")
        if not TABLE_NAME_RE.fullmatch(value) and not arn:
            self.add(
                value,
                path,
                f"Member must satisfy regular expression pattern: {TABLE_NAME_PATTERN}",
            )
        if len(value) < shortest:
            self.add(value, path, f"Member must have length greater than or equal to {shortest}")
        elif len(value) > 255 and not arn:
            self.add(value, path, "Member must have length less than or equal to 255")

    def index_name(self, value: Any, path: str) -> None:
        if value is None or not isinstance(value, str):
            return
        if len(value) < 3:
            self.add(value, path, "Member must have length greater than or equal to 3")
        elif len(value) > 255:
            self.add(value, path, "Member must have length less than or equal to 255")
        if not TABLE_NAME_RE.fullmatch(value):
            self.add(
                value,
                path,
                f"Member must satisfy regular expression pattern: {TABLE_NAME_PATTERN}",
            )

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        # AWS stops looking after ERRORS_LISTED_MAX errors, and counts only those it lists.
        count = min(len(self.errors), ERRORS_LISTED_MAX)
        head = f"{count} validation error{'s' if count > 1 else ''} detected: "
        raise ValidationError(head + "; ".join(self.errors[:ERRORS_LISTED_MAX]))


def table_name_from(value: str) -> str:
    """A TableName member may be an ARN: keep the name."""
    if value.startswith("arn:"):
        return value.rsplit("/", 1)[-1]
    return value
