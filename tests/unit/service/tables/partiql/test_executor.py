"""PartiQL through the table service on a real store: garbage is a table-service error.

Statements made of PartiQL's own words (and random text) run against a table with items;
anything but a ``TablesError`` (a ValidationException, a ConditionalCheckFailed, ...) is a
500 in the making.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strata.service.tables.errors import TablesError, ValidationError
from strata.service.tables.service import TableOperations
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

from .test_syntax import TOKENS


class Runner:
    def __init__(self, ops: TableOperations, loop: asyncio.AbstractEventLoop) -> None:
        self.ops = ops
        self.routes = ops.routes()
        self.loop = loop

    def __call__(self, operation: str, req: dict[str, Any]) -> dict[str, Any]:
        return self.loop.run_until_complete(self.routes[operation](req))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    path: Path = tmp_path_factory.mktemp("partiql")
    store = LocalStore(str(path / "db"), ManualClock())
    loop = asyncio.new_event_loop()
    runner = Runner(TableOperations(store), loop)
    runner(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for n in range(5):
        item = {"pk": {"S": "a"}, "sk": {"N": str(n)}, "v": {"L": [{"N": "1"}, {"S": "x"}]}}
        runner("PutItem", {"TableName": "tbl", "Item": item})
    yield runner
    loop.close()
    store.close()


STATEMENT_TOKENS = [*TOKENS, "sk", "v", "v[0]", "'x'", "0", "3"]
STATEMENTS = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(STATEMENT_TOKENS), max_size=30).map(" ".join),
    st.tuples(
        st.sampled_from(
            [
                'SELECT * FROM "tbl" WHERE ',
                "SELECT v[0], pk FROM tbl WHERE pk = 'a' AND ",
                "UPDATE tbl SET v = ",
                "DELETE FROM tbl WHERE pk = 'a' AND sk = 1 AND ",
                "INSERT INTO tbl VALUE ",
                "EXISTS(SELECT * FROM tbl WHERE ",
            ]
        ),
        st.lists(st.sampled_from(STATEMENT_TOKENS), max_size=20).map(" ".join),
    ).map("".join),
)
PARAMETERS = st.one_of(
    st.none(),
    st.lists(
        st.sampled_from(
            [{"S": "a"}, {"N": "1"}, {"L": [{"S": "a"}]}, {"BOOL": True}, {"SS": ["a"]}]
        ),
        min_size=1,
        max_size=3,
    ),
)


@settings(max_examples=600, deadline=None)
@given(STATEMENTS, PARAMETERS)
def test_statements_raise_only_table_errors(run: Runner, text: str, params: Any) -> None:
    req: dict[str, Any] = {"Statement": text}
    if params is not None:
        req["Parameters"] = params
    for operation, body in (
        ("ExecuteStatement", req),
        ("BatchExecuteStatement", {"Statements": [req]}),
        ("ExecuteTransaction", {"TransactStatements": [req]}),
    ):
        try:
            run(operation, body)
        except TablesError:
            pass


def test_reads_and_writes_in_process(run: Runner) -> None:
    found = run("ExecuteStatement", {"Statement": "SELECT sk FROM tbl WHERE pk = 'a' AND sk >= 3"})
    assert plain(found["Items"]) == [{"sk": {"N": "3"}}, {"sk": {"N": "4"}}]
    run("ExecuteStatement", {"Statement": "INSERT INTO tbl VALUE {'pk': 'b', 'sk': 1}"})
    out = run(
        "ExecuteStatement",
        {
            "Statement": "UPDATE tbl SET w = ? WHERE pk = 'b' AND sk = 1 RETURNING MODIFIED NEW *",
            "Parameters": [{"S": "new"}],
        },
    )
    assert plain(out["Items"]) == [{"w": {"S": "new"}}]
    gone = run(
        "ExecuteStatement",
        {"Statement": "DELETE FROM tbl WHERE pk = 'b' AND sk = 1 RETURNING ALL OLD *"},
    )
    assert plain(gone["Items"]) == [{"pk": {"S": "b"}, "sk": {"N": "1"}, "w": {"S": "new"}}]


def plain(items: list[Any]) -> list[Any]:
    """Items as dicts (stored ones come back as raw JSON)."""
    return [msgspec.json.decode(i) if isinstance(i, msgspec.Raw) else i for i in items]


def test_statement_members_are_checked(run: Runner) -> None:
    with pytest.raises(ValidationError) as caught:
        run("ExecuteTransaction", {"TransactStatements": [{"Statement": "x"}, {"Parameters": []}]})
    assert caught.value.message == (
        "2 validation errors detected: Value null at 'transactStatements.2.member.statement' "
        "failed to satisfy constraint: Member must not be null; Value '[]' at "
        "'transactStatements.2.member.parameters' failed to satisfy constraint: Member must "
        "have length greater than or equal to 1"
    )
    with pytest.raises(ValidationError) as caught:
        run("BatchExecuteStatement", {"Statements": [{"Statement": ""}]})
    assert caught.value.message == (
        "1 validation error detected: Value '' at 'statements.1.member.statement' failed to "
        "satisfy constraint: Member must have length greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("statement", "scans"),
    [
        ("SELECT * FROM tbl", True),
        ("SELECT * FROM tbl WHERE sk = 1", True),
        ("SELECT * FROM tbl WHERE pk = 'a' OR sk = 1", True),
        ("SELECT * FROM tbl WHERE pk > 'a'", True),
        ("SELECT * FROM tbl WHERE pk = 'a'", False),
        ("SELECT * FROM tbl WHERE sk = 1 AND pk = ?", False),
        ("SELECT * FROM tbl WHERE pk IN ['a', 'b']", False),
        ("SELECT * FROM tbl WHERE pk = 'a' OR pk = 'b'", False),
        ("DELETE FROM tbl WHERE sk = 1", False),
        ("SELECT * FROM nosuchtable", False),
        ("garbage", False),
    ],
)
def test_full_scan(run: Runner, statement: str, scans: bool) -> None:
    assert run.ops.partiql.full_scan(statement) is scans
