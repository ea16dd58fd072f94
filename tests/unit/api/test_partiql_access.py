"""PartiQL calls are authorized per statement with DynamoDB's PartiQL actions."""

from __future__ import annotations

from typing import Any

import pytest

from strata.api.dynamodb.actions import authorize
from strata.service.iam.access import AccessControl
from tests.unit.api.test_access import ACCOUNT, ALICE, Recorder, make_request

TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM T WHERE pk = 1", [("dynamodb:PartiQLSelect", f"{TABLE}/T")]),
        ('SELECT a FROM "T"."g"', [("dynamodb:PartiQLSelect", f"{TABLE}/T/index/g")]),
        ("INSERT INTO T VALUE {'pk': 1}", [("dynamodb:PartiQLInsert", f"{TABLE}/T")]),
        ("UPDATE T SET a = 1 WHERE pk = 1", [("dynamodb:PartiQLUpdate", f"{TABLE}/T")]),
        ("DELETE FROM T WHERE pk = 1", [("dynamodb:PartiQLDelete", f"{TABLE}/T")]),
        ("not a statement", []),
    ],
)
def test_statement_actions(statement: str, expected: list[tuple[str, str]]) -> None:
    test_partiql_actions("ExecuteStatement", {"Statement": statement}, expected)


@pytest.mark.parametrize(
    ("operation", "req", "expected"),
    [
        (
            "BatchExecuteStatement",
            {"Statements": [
                {"Statement": "DELETE FROM A WHERE pk = 1"},
                {"Statement": "DELETE FROM A WHERE pk = 2"},
                {"Statement": "INSERT INTO B VALUE {'pk': 1}"},
            ]},
            [("dynamodb:PartiQLDelete", f"{TABLE}/A"), ("dynamodb:PartiQLInsert", f"{TABLE}/B")],
        ),
        (
            "ExecuteTransaction",
            {"TransactStatements": [
                {"Statement": "UPDATE A SET a = 1 WHERE pk = 1"},
                {"Statement": "EXISTS(SELECT * FROM B WHERE pk = 1)"},
            ]},
            [("dynamodb:PartiQLUpdate", f"{TABLE}/A"), ("dynamodb:PartiQLSelect", f"{TABLE}/B")],
        ),
    ],
)  # fmt: skip
def test_partiql_actions(
    operation: str, req: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    recorder = Recorder()
    request = make_request("POST", "/")
    request.principal = ALICE
    authorize(AccessControl(recorder), request, operation, req, "us-east-1")
    assert recorder.asked == expected


def test_selects_carry_full_table_scan() -> None:
    recorder = Recorder()
    request = make_request("POST", "/")
    request.principal = ALICE
    statements = [
        {"Statement": "SELECT * FROM A"},
        {"Statement": "SELECT * FROM A WHERE pk = 1"},
        {"Statement": "UPDATE A SET a = 1 WHERE pk = 1"},
    ]
    authorize(
        AccessControl(recorder),
        request,
        "BatchExecuteStatement",
        {"Statements": statements},
        "us-east-1",
        full_scan=lambda text: "WHERE" not in text,
    )
    assert recorder.asked == [
        ("dynamodb:PartiQLSelect", f"{TABLE}/A"),
        ("dynamodb:PartiQLSelect", f"{TABLE}/A"),
        ("dynamodb:PartiQLUpdate", f"{TABLE}/A"),
    ]
    scans = [context.get("dynamodb:FullTableScan") for context in recorder.contexts]
    assert scans == ["true", "false", None]
