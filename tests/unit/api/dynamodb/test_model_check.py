"""The model check's quick test never lets through what the full check would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from strata.api.dynamodb.handler import _well_formed, check_model, check_model_fully
from strata.api.dynamodb.model import MEMBERS
from strata.service.tables.errors import SerializationError, ValidationError

SAMPLES: list[Any] = [
    None,
    "",
    "ab",
    "abc",
    "tbl",
    "bad name!",
    "arn:aws:dynamodb:us-east-1:000000000000:table/tbl",
    "x" * 256,
    "x" * 1300,
    0,
    -1,
    1,
    100,
    101,
    1_000_000,
    1.5,
    True,
    False,
    [],
    [{"a": 1}],
    [{}] * 101,
    {},
    {"a": {"S": "x"}},
    {f"t{i}": {} for i in range(101)},
]
VALID: dict[str, Any] = {
    "string": "tbl",
    "map": {"k": {"S": "v"}},
    "list": [{"k": "v"}],
    "structure": {"k": "v"},
}


def _base(members: tuple[Any, ...]) -> dict[str, Any]:
    """The operation's required members, with values the full check accepts."""
    return {m[0]: VALID[m[3]] for m in members if m[2]}


@pytest.mark.parametrize("operation", sorted(MEMBERS))
def test_quick_test_agrees_with_full_check(operation: str) -> None:
    members = MEMBERS[operation]
    check_model_fully(operation, _base(members))
    for member in members:
        candidates = [*SAMPLES, *(member[4] or ())]
        for value in candidates:
            req = {**_base(members), member[0]: value}
            if _well_formed(operation, req):
                assert _refusal(check_model_fully, operation, req) is None
            assert _refusal(check_model, operation, req) == _refusal(
                check_model_fully, operation, req
            )


def _refusal(check: Any, operation: str, req: dict[str, Any]) -> tuple[type, str] | None:
    try:
        check(operation, req)
    except (ValidationError, SerializationError) as exc:
        return type(exc), exc.message
    return None
