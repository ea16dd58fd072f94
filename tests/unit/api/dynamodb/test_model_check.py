"""The model check's quick test never lets through what the full check would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from strata.api.dynamodb.handler import _well_formed, check_model, check_model_fully
from strata.api.dynamodb.model import MEMBERS
from strata.api.dynamodb.serialization import check_types
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


# Members whose shape the generic values above do not fit.
VALID_BY_MEMBER: dict[str, Any] = {
    "TagKeys": ["k"],
    "BackupArn": "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/backup/01700000000000-0a1b2c3d",
    "ExportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/export/01700000000000-0a1b2c3d",
    "RequestItems": {"t": {"Keys": [{"k": {"S": "v"}}]}},
    "ImportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/import/01700000000000-0a1b2c3d",
    "NextToken": "0" * 112,
}
VALID_BY_MEMBER_OF: dict[tuple[str, str], Any] = {
    ("BatchWriteItem", "RequestItems"): {"t": [{"PutRequest": {"Item": {"k": {"S": "v"}}}}]},
    ("ImportTable", "InputFormat"): "CSV",
}


def _base(operation: str) -> dict[str, Any]:
    """The operation's required members, with values the full check accepts."""
    return {
        m[0]: VALID_BY_MEMBER_OF.get((operation, m[0]), VALID_BY_MEMBER.get(m[0], VALID[m[3]]))
        for m in MEMBERS[operation]
        if m[2]
    }


@pytest.mark.parametrize("operation", sorted(MEMBERS))
def test_quick_test_agrees_with_full_check(operation: str) -> None:
    members = MEMBERS[operation]
    check_model_fully(operation, _base(operation))
    for member in members:
        candidates = [*SAMPLES, *(member[4] or ())]
        for value in candidates:
            req = {**_base(operation), member[0]: value}
            # The quick test looks at top-level constraints only; types are always checked.
            if _well_formed(operation, req) and _refusal(check_types, operation, req) is None:
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
