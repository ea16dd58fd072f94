"""Capacity units as AWS counts them; model-validation messages as AWS words them."""

from __future__ import annotations

import pytest

from strata.service.tables import capacity
from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import ValidationError


@pytest.mark.parametrize(
    ("size", "consistent", "units"),
    [(0, False, 0.5), (1, True, 1.0), (4096, True, 1.0), (4097, True, 2.0), (8193, False, 1.5)],
)
def test_read_units(size: int, consistent: bool, units: float) -> None:
    assert capacity.read_units(size, consistent) == units


def test_write_and_transactional_units() -> None:
    assert capacity.write_units(1) == 1.0
    assert capacity.write_units(1025) == 2.0
    assert capacity.write_units(1025, transactional=True) == 4.0
    assert capacity.read_units(100, False, transactional=True) == 2.0


def test_consumed_document_indexes() -> None:
    consumed = capacity.Consumed("t", read=False)
    consumed.table = 1.0
    consumed.add_index("g", True, 1.0)
    consumed.add_index("l", False, 2.0)
    assert consumed.document("NONE") is None
    assert consumed.document("TOTAL") == {
        "TableName": "t",
        "CapacityUnits": 4.0,
        "WriteCapacityUnits": 4.0,
    }
    doc = consumed.document("INDEXES")
    assert doc is not None
    assert doc["Table"]["CapacityUnits"] == 1.0
    assert doc["GlobalSecondaryIndexes"] == {"g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}}
    assert doc["LocalSecondaryIndexes"]["l"]["CapacityUnits"] == 2.0


def test_constraint_messages_are_joined() -> None:
    checks = Constraints()
    checks.table_name("a!")
    checks.not_null(None, "key")
    with pytest.raises(ValidationError) as caught:
        checks.raise_if_any()
    assert caught.value.message == (
        # AWS's order: the pattern, then the length
        "3 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at "
        "'tableName' failed to satisfy constraint: Member must have length greater than or equal "
        "to 3; Value null at 'key' failed to satisfy constraint: Member must not be null"
    )


def test_enum_and_range_messages() -> None:
    checks = Constraints()
    checks.enum("X", "returnValues", ("NONE", "ALL_OLD"))
    checks.range(0, "limit", 1, None)
    assert checks.errors == [
        "Value 'X' at 'returnValues' failed to satisfy constraint: Member must satisfy enum "
        "value set: [NONE, ALL_OLD]",
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than "
        "or equal to 1",
    ]
