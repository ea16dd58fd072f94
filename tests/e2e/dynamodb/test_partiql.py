"""PartiQL through boto3: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.e2e.dynamodb.test_streams import read_all
from tests.server import RunningServer
from tests.unit.service.tables.partiql.test_syntax import TOKENS

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
DIGITS = "Attempting to store more than 38 significant digits in a Number"
MSG_KEYS = "Where clause does not contain a mandatory equality on all key attributes"


@pytest.fixture
def hash_table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    """A table with only a string hash key ``pk``."""
    yield make_table(dynamodb, unique_name, range_key=None)
    dynamodb.delete_table(TableName=unique_name)


@pytest.fixture
def indexed(dynamodb: Any, unique_name: str) -> Iterator[str]:
    """``pk``/``sk`` with a global index ``by_g`` on ``g`` (hash) and ``sk`` (range)."""
    yield make_table(
        dynamodb,
        unique_name,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.delete_table(TableName=unique_name)


def run(dynamodb: Any, statement: str, *params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    if params:
        extra["Parameters"] = list(params)
    return dynamodb.execute_statement(Statement=statement, **extra)  # type: ignore[no-any-return]


def refused(
    dynamodb: Any, statement: str, *params: dict[str, Any], **extra: Any
) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        run(dynamodb, statement, *params, **extra)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error_of(caught)


def seed(dynamodb: Any, table: str, *items: dict[str, Any]) -> None:
    for item in items:
        dynamodb.put_item(TableName=table, Item=item)


def get(dynamodb: Any, table: str, **key: str) -> dict[str, Any] | None:
    found = dynamodb.get_item(
        TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )
    return found.get("Item")  # type: ignore[no-any-return]


# -- SELECT -------------------------------------------------------------------------------


def test_select_by_full_key_and_by_partition(dynamodb: Any, table: str) -> None:
    seed(
        dynamodb,
        table,
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "10"}},
        {"pk": {"S": "a"}, "sk": {"S": "2"}, "v": {"N": "20"}},
        {"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "30"}},
    )
    one = run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = '2'")
    assert one["Items"] == [{"pk": {"S": "a"}, "sk": {"S": "2"}, "v": {"N": "20"}}]
    part = run(dynamodb, f'SELECT sk FROM "{table}" WHERE "pk" = ?', {"S": "a"})
    assert part["Items"] == [{"sk": {"S": "1"}}, {"sk": {"S": "2"}}]
    assert "NextToken" not in part
    filtered = run(dynamodb, f"SELECT sk FROM \"{table}\" WHERE pk = 'a' AND v > 15")
    assert filtered["Items"] == [{"sk": {"S": "2"}}]
    missing = run(dynamodb, f"SELECT * FROM \"{table}\" WHERE pk = 'zzz'")
    assert missing["Items"] == []


def test_select_sort_key_conditions_and_order_by(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, *({"pk": {"S": "p"}, "sk": {"S": f"k{i}"}} for i in range(5)))
    between = run(
        dynamodb, f"SELECT sk FROM \"{table}\" WHERE pk = 'p' AND sk BETWEEN 'k1' AND 'k3'"
    )
    assert [i["sk"]["S"] for i in between["Items"]] == ["k1", "k2", "k3"]
    flipped = run(dynamodb, f"SELECT sk FROM \"{table}\" WHERE 'k3' < sk AND pk = 'p'")
    assert [i["sk"]["S"] for i in flipped["Items"]] == ["k4"]
    prefix = run(dynamodb, f"SELECT sk FROM \"{table}\" WHERE pk = 'p' AND begins_with(sk, 'k')")
    assert len(prefix["Items"]) == 5
    desc = run(dynamodb, f"SELECT sk FROM \"{table}\" WHERE pk = 'p' ORDER BY sk DESC")
    assert [i["sk"]["S"] for i in desc["Items"]] == ["k4", "k3", "k2", "k1", "k0"]
    # A sort-key OR is no key condition: the rest of the WHERE filters the partition.
    either = run(
        dynamodb, f"SELECT sk FROM \"{table}\" WHERE pk = 'p' AND (sk = 'k0' OR sk = 'k4')"
    )
    assert [i["sk"]["S"] for i in either["Items"]] == ["k0", "k4"]
    code, message = refused(dynamodb, f'SELECT * FROM "{table}" ORDER BY sk')
    assert code == "ValidationException"
    assert message == "Must have WHERE clause in the statement when using ORDER BY clause."


def test_select_in_partition_keys_and_or(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, *({"pk": {"S": f"p{i}"}, "sk": {"S": "x"}} for i in range(4)))
    found = run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE pk IN ['p2', 'p0', 'nope']")
    assert [i["pk"]["S"] for i in found["Items"]] == ["p2", "p0"]
    ors = run(dynamodb, f"SELECT pk FROM \"{table}\" WHERE pk = 'p1' OR pk = 'p3'")
    assert [i["pk"]["S"] for i in ors["Items"]] == ["p1", "p3"]


def test_select_scan_with_functions(dynamodb: Any, table: str) -> None:
    seed(
        dynamodb,
        table,
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "name": {"S": "alpha"}, "tags": {"SS": ["x", "y"]}},
        {"pk": {"S": "b"}, "sk": {"S": "1"}, "name": {"S": "beta"}, "n": {"NULL": True}},
        {"pk": {"S": "c"}, "sk": {"S": "1"}, "name": {"S": "gamma"}, "n": {"N": "3"}},
    )

    def pks(where: str) -> list[str]:
        items = run(dynamodb, f'SELECT pk FROM "{table}" WHERE {where}')["Items"]
        return sorted(i["pk"]["S"] for i in items)

    assert pks("begins_with(name, 'al')") == ["a"]
    assert pks("contains(tags, 'y')") == ["a"]
    assert pks("tags IS MISSING") == ["b", "c"]
    assert pks("tags IS NOT MISSING") == ["a"]
    assert pks("n IS NULL") == ["a", "b"]
    assert pks("n IS NOT NULL") == ["c"]
    assert pks("attribute_type(n, 'N')") == ["c"]
    assert pks("size(name) > 4") == ["a", "c"]
    assert pks("NOT (name = 'beta' OR name = 'gamma')") == ["a"]
    assert pks("name IN ['beta', 'gamma'] AND n <> 3") == ["b"]
    assert pks("n BETWEEN 1 AND 5") == ["c"]
    assert pks("pk > 'a'") == ["b", "c"]


def test_select_nested_projection(dynamodb: Any, hash_table: str) -> None:
    seed(
        dynamodb,
        hash_table,
        {
            "pk": {"S": "n"},
            "m": {
                "M": {"inner": {"S": "deep"}, "l": {"L": [{"N": "1"}, {"M": {"c": {"S": "z"}}}]}}
            },
            "extra": {"S": "no"},
        },
    )
    items = run(dynamodb, f"SELECT m.inner, m.l[1].c, pk FROM \"{hash_table}\" WHERE pk = 'n'")
    assert items["Items"] == [{"inner": {"S": "deep"}, "c": {"S": "z"}, "pk": {"S": "n"}}]
    listed = run(dynamodb, f"SELECT m.l[0] FROM \"{hash_table}\" WHERE pk = 'n'")
    assert listed["Items"] == [{"l": {"L": [{"N": "1"}]}}]


def test_select_index_target(dynamodb: Any, indexed: str) -> None:
    seed(
        dynamodb,
        indexed,
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "G"}},
        {"pk": {"S": "b"}, "sk": {"S": "2"}, "g": {"S": "G"}},
        {"pk": {"S": "c"}, "sk": {"S": "3"}, "g": {"S": "H"}},
    )
    found = run(dynamodb, f'SELECT pk FROM "{indexed}"."by_g" WHERE g = \'G\'')
    assert [i["pk"]["S"] for i in found["Items"]] == ["a", "b"]
    code, message = refused(dynamodb, f'SELECT * FROM "{indexed}"."nope" WHERE g = \'G\'')
    assert (code, message) == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )
    code, message = refused(
        dynamodb, f'SELECT * FROM "{indexed}"."by_g" WHERE g = \'G\'', ConsistentRead=True
    )
    assert message == "Consistent reads are not supported on global secondary indexes"


def test_select_paging_with_limit_and_next_token(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, *({"pk": {"S": "p"}, "sk": {"S": f"k{i:02}"}} for i in range(7)))
    statement = f"SELECT sk FROM \"{table}\" WHERE pk = 'p'"
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        extra: dict[str, Any] = {"Limit": 3}
        if token is not None:
            extra["NextToken"] = token
        page = run(dynamodb, statement, **extra)
        pages += 1
        seen += [i["sk"]["S"] for i in page["Items"]]
        token = page.get("NextToken")
        if token is None:
            break
        assert "LastEvaluatedKey" in page
    assert seen == [f"k{i:02}" for i in range(7)]
    assert pages == 3
    # A token belongs to its statement.
    first = run(dynamodb, statement, Limit=1)
    code, message = refused(dynamodb, f'SELECT * FROM "{table}"', NextToken=first["NextToken"])
    assert (code, message) == ("ValidationException", "Invalid NextToken")
    code, _ = refused(dynamodb, statement, NextToken="not a token!")
    assert code == "ValidationException"


def test_select_in_pages_by_ten(dynamodb: Any, hash_table: str) -> None:
    seed(dynamodb, hash_table, *({"pk": {"S": f"p{i:02}"}} for i in range(15)))
    keys = ", ".join(f"'p{i:02}'" for i in range(15))
    statement = f'SELECT pk FROM "{hash_table}" WHERE pk IN [{keys}]'
    first = run(dynamodb, statement)
    assert len(first["Items"]) == 10
    second = run(dynamodb, statement, NextToken=first["NextToken"])
    assert len(second["Items"]) == 5
    assert "NextToken" not in second
    every = [i["pk"]["S"] for i in first["Items"] + second["Items"]]
    assert every == [f"p{i:02}" for i in range(15)]


def test_select_consumed_capacity(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}})
    out = run(
        dynamodb,
        f"SELECT * FROM \"{table}\" WHERE pk = 'a'",
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert out["ConsumedCapacity"]["TableName"] == table
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0


# -- writes -------------------------------------------------------------------------------


def test_insert_then_duplicate(dynamodb: Any, table: str) -> None:
    run(
        dynamodb,
        f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': ?, 'n': 1.50, "
        "'m': {'l': [1, 'x', true, null]}, 's': <<'b', 'a'>>}",
        {"S": "1"},
    )
    item = get(dynamodb, table, pk="a", sk="1")
    assert item == {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "n": {"N": "1.5"},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}, {"BOOL": True}, {"NULL": True}]}}},
        "s": {"SS": ["b", "a"]},
    }
    code, message = refused(dynamodb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'sk': '1'}}")
    assert (code, message) == ("DuplicateItemException", "Duplicate primary key exists in table")
    assert get(dynamodb, table, pk="a", sk="1") == item
    code, message = refused(dynamodb, f"INSERT INTO \"{table}\" VALUE {{'pk': 'a'}}")
    assert code == "ValidationException"
    code, _ = refused(dynamodb, f"INSERT INTO \"{table}\" VALUES ({{'pk': 'a'}})")
    assert code == "ValidationException"


def test_update_set_remove_returning(dynamodb: Any, table: str) -> None:
    seed(
        dynamodb,
        table,
        {
            "pk": {"S": "a"},
            "sk": {"S": "1"},
            "n": {"N": "1"},
            "gone": {"S": "x"},
            "l": {"L": [{"N": "1"}]},
            "tags": {"SS": ["a"]},
        },
    )
    out = run(
        dynamodb,
        f'UPDATE "{table}" SET n = n + 2 SET l = list_append(l, [2]) REMOVE gone '
        f"SET tags = set_add(tags, <<'b'>>) WHERE pk = 'a' AND sk = '1' RETURNING ALL NEW *",
    )
    assert out["Items"] == [
        {
            "pk": {"S": "a"},
            "sk": {"S": "1"},
            "n": {"N": "3"},
            "l": {"L": [{"N": "1"}, {"N": "2"}]},
            "tags": {"SS": ["a", "b"]},
        }
    ]
    old = run(
        dynamodb,
        f"UPDATE \"{table}\" SET n = 9, tags = set_delete(tags, <<'a'>>)"
        " WHERE pk = 'a' AND sk = '1' "
        "RETURNING MODIFIED OLD *",
    )
    assert old["Items"] == [{"n": {"N": "3"}, "tags": {"SS": ["a", "b"]}}]
    plain = run(dynamodb, f"UPDATE \"{table}\" SET x = 'y' WHERE pk = 'a' AND sk = '1'")
    assert plain["Items"] == []


def test_update_is_no_upsert_and_checks_conditions(dynamodb: Any, table: str) -> None:
    code, _ = refused(dynamodb, f"UPDATE \"{table}\" SET x = 1 WHERE pk = 'none' AND sk = '1'")
    assert code == "ConditionalCheckFailedException"
    assert get(dynamodb, table, pk="none", sk="1") is None
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    code, _ = refused(
        dynamodb,
        f"UPDATE \"{table}\" SET v = 'new' WHERE pk = 'a' AND sk = '1' AND v = 'other'",
    )
    assert code == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as caught:
        run(
            dynamodb,
            f"UPDATE \"{table}\" SET v = 'new' WHERE pk = 'a' AND sk = '1' AND v = 'other'",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Item"]["v"] == {"S": "old"}
    run(dynamodb, f"UPDATE \"{table}\" SET v = 'new' WHERE pk = 'a' AND sk = '1' AND v = 'old'")
    assert get(dynamodb, table, pk="a", sk="1") == {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "v": {"S": "new"},
    }
    assert refused(dynamodb, f"UPDATE \"{table}\" SET v = 1 WHERE pk = 'a'") == (
        "ValidationException",
        MSG_KEYS,
    )
    assert refused(dynamodb, f"UPDATE \"{table}\" SET v = 1 WHERE v = 'new'") == (
        "ValidationException",
        MSG_KEYS,
    )
    code, message = refused(
        dynamodb, f"UPDATE \"{table}\" SET pk = 'b' WHERE pk = 'a' AND sk = '1'"
    )
    assert code == "ValidationException"
    assert "part of the key" in message


def test_delete(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "5"}})
    # A missing item: success, nothing deleted.
    assert run(dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '2'")["Items"] == []
    code, _ = refused(dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1' AND v > 7")
    assert code == "ConditionalCheckFailedException"
    out = run(
        dynamodb,
        f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1' AND v < 7 RETURNING ALL OLD *",
    )
    assert out["Items"] == [{"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "5"}}]
    assert get(dynamodb, table, pk="a", sk="1") is None
    assert refused(dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'a'") == (
        "ValidationException",
        MSG_KEYS,
    )
    assert refused(
        dynamodb, f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1' RETURNING ALL NEW *"
    ) == (
        "ValidationException",
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in "
        "DELETE statements.",
    )


def test_writes_reach_the_stream(dynamodb: Any, server: RunningServer, unique_name: str) -> None:
    dynamodb_streams = client(server, "dynamodbstreams")
    make_table(
        dynamodb,
        unique_name,
        range_key=None,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    try:
        run(dynamodb, f"INSERT INTO \"{unique_name}\" VALUE {{'pk': 'a', 'v': 1}}")
        run(dynamodb, f"UPDATE \"{unique_name}\" SET v = 2 WHERE pk = 'a'")
        run(dynamodb, f"DELETE FROM \"{unique_name}\" WHERE pk = 'a'")
        arn = dynamodb.describe_table(TableName=unique_name)["Table"]["LatestStreamArn"]
        records = read_all(dynamodb_streams, arn)
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    finally:
        dynamodb.delete_table(TableName=unique_name)


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SLECT * FROM t", NOT_WELL_FORMED + "Expected data manipulation"),
        ('SELECT * FROM "{t}" WHERE', NOT_WELL_FORMED + "Unexpected term"),
        # a statement that stops after RETURNING (or after one of its words): never a 500
        (
            "DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = '1' RETURNING",
            NOT_WELL_FORMED + "Unexpected term",
        ),
        (
            "DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = '1' RETURNING ALL",
            NOT_WELL_FORMED + "Unexpected term",
        ),
        (
            "SELECT * FROM \"{t}\" WHERE pk = 'a' AND",
            NOT_WELL_FORMED + "Missing right-hand side expression of infix operator",
        ),
        (
            "SELECT * FROM \"{t}\" WHERE pk = 'a' foo",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        (
            "SELECT * FROM \"{t}\" WHERE pk = 'a')",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        ('SELECT * FROM "{t}" WHERE ORDER BY pk', NOT_WELL_FORMED + "Unexpected keyword"),
        ('SELECT * FROM "{t}" WHERE pk = 1 # x', NOT_WELL_FORMED),
        (
            "SELECT * FROM \"{t}\" WHERE pk = 'a' AND x IS FOO",
            NOT_WELL_FORMED + "Expected type name",
        ),
        ("DELETE FROM", NOT_WELL_FORMED + "Expected identifier for simple path"),
        ("SELECT * FROM \"{t}\" x WHERE pk = 'a'", "Aliasing is not supported"),
        ("SELECT * FROM \"{t}\" WHERE pk = 'a' AND x = 1e126", f"{OVERFLOW} under root"),
        (
            "INSERT INTO \"{t}\" VALUE {'pk': 'a', 'sk': 'b', 'm': {'x': 1e-131}}",
            f"{UNDERFLOW} under root.m.x",
        ),
        (
            "INSERT INTO \"{t}\" VALUE {'pk': 'a', 'sk': 'b', 'l': [1, 1e126]}",
            f"{OVERFLOW} under root.l[1]",
        ),
        (
            'UPDATE "{t}" SET a = 12345678901234567890123456789012345678901'
            " WHERE pk = 'a' AND sk = 'b'",
            f"{DIGITS} under root",
        ),
        ('SELECT * FROM "{t}" WHERE pk = 1e2147483648', NOT_WELL_FORMED),
        ('SELECT * FROM "{t}" WHERE pk = 1.5e-2147483647', NOT_WELL_FORMED),
        (
            'SELECT * FROM "{t}" WHERE pk = ?',
            "Number of parameters in request and statement don't match.",
        ),
        ('SELECT * FROM "{t}" WHERE ' + "(" * 200 + "pk = 'a'" + ")" * 200, None),
        ('INSERT INTO "{t}" VALUE ' + "[" * 5000 + "]" * 5000, None),
    ],
)
def test_statement_errors(dynamodb: Any, table: str, statement: str, message: str | None) -> None:
    code, text = refused(dynamodb, statement.replace("{t}", table))
    assert code == "ValidationException"
    if message is not None:
        assert text == message


def test_missing_table(dynamodb: Any) -> None:
    code, _ = refused(dynamodb, "SELECT * FROM \"no-such-table\" WHERE pk = 'a'")
    assert code == "ResourceNotFoundException"


# -- BatchExecuteStatement ----------------------------------------------------------------


def test_batch_reads(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "x"}})
    out = dynamodb.batch_execute_statement(
        Statements=[
            {
                "Statement": f'SELECT v FROM "{table}" WHERE pk = ? AND sk = ?',
                "Parameters": [{"S": "a"}, {"S": "1"}],
            },
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'b' AND sk = '1'"},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE v = 'x'"},
            {"Statement": "SLECT"},
            {"Statement": "SELECT * FROM \"no-such-table\" WHERE pk = 'a' AND sk = '1'"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    responses = out["Responses"]
    assert responses[0] == {"TableName": table, "Item": {"v": {"S": "x"}}}
    assert responses[1] == {"TableName": table}
    assert responses[2]["Error"]["Code"] == "ValidationError"
    assert "must specify the primary key in the where clause" in responses[2]["Error"]["Message"]
    assert "TableName" not in responses[2]
    assert responses[3]["Error"] == {
        "Code": "ValidationError",
        "Message": NOT_WELL_FORMED + "Expected data manipulation",
    }
    assert responses[4]["Error"]["Code"] == "ResourceNotFound"
    assert out["ConsumedCapacity"] == [
        # the aggregate alone, as AWS answers the GetItem each read is
        {"TableName": table, "CapacityUnits": 1.0}
    ]


def test_batch_writes(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "u"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    out = dynamodb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'n', 'sk': '1'}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'u', 'sk': '1'}}"},
            {
                "Statement": f"UPDATE \"{table}\" SET v = 'new'"
                " WHERE pk = 'u' AND sk = '1' RETURNING ALL NEW *"
            },
            {
                "Statement": f"UPDATE \"{table}\" SET v = 'z'"
                " WHERE pk = 'u' AND sk = '1' AND v = 'no'",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            {
                "Statement": f'DELETE FROM "{table}"'
                " WHERE pk = 'u' AND sk = '1' RETURNING MODIFIED OLD *"
            },
        ]
    )
    responses = out["Responses"]
    assert responses[0] == {"TableName": table}
    assert responses[1]["Error"]["Code"] == "DuplicateItem"
    assert responses[1]["TableName"] == table
    assert responses[2] == {
        "TableName": table,
        "Item": {"pk": {"S": "u"}, "sk": {"S": "1"}, "v": {"S": "new"}},
    }
    assert responses[3]["Error"]["Code"] == "ConditionalCheckFailed"
    assert "Item" not in responses[3]["Error"]
    assert responses[4]["Error"]["Code"] == "ValidationError"
    assert get(dynamodb, table, pk="n", sk="1") is not None
    assert get(dynamodb, table, pk="u", sk="1") == {
        "pk": {"S": "u"},
        "sk": {"S": "1"},
        "v": {"S": "new"},
    }


def test_batch_refuses_mixed(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.batch_execute_statement(
            Statements=[
                {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = '1'"},
                {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1'"},
            ]
        )
    assert error_of(caught)[0] == "ValidationException"


# -- ExecuteTransaction -------------------------------------------------------------------


def test_transaction_writes_all_or_nothing(dynamodb: Any, table: str) -> None:
    seed(
        dynamodb,
        table,
        {"pk": {"S": "dup"}, "sk": {"S": "1"}},
        {"pk": {"S": "u"}, "sk": {"S": "1"}, "n": {"N": "1"}},
        {"pk": {"S": "e"}, "sk": {"S": "1"}, "n": {"N": "1"}},
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'new', 'sk': '1'}}"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'dup', 'sk': '1'}}"},
                {"Statement": f"UPDATE \"{table}\" SET n = n + 1 WHERE pk = 'u' AND sk = '1'"},
            ]
        )
    assert error_of(caught)[0] == "TransactionCanceledException"
    reasons = caught.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "DuplicateItem", "None"]
    assert get(dynamodb, table, pk="new", sk="1") is None
    dynamodb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'new', 'sk': '1'}}"},
            {
                "Statement": f"UPDATE \"{table}\" SET n = n + ? WHERE pk = 'u' AND sk = '1'",
                "Parameters": [{"N": "5"}],
            },
            {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'dup' AND sk = '1'"},
            {
                "Statement": f'EXISTS(SELECT * FROM "{table}"'
                " WHERE pk = 'e' AND sk = '1' AND n = 1)"
            },
        ]
    )
    assert get(dynamodb, table, pk="new", sk="1") is not None
    assert get(dynamodb, table, pk="u", sk="1")["n"] == {"N": "6"}  # type: ignore[index]
    assert get(dynamodb, table, pk="dup", sk="1") is None


def test_transaction_condition_check_and_token(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "c"}, "sk": {"S": "1"}, "n": {"N": "0"}})
    statements = [
        {"Statement": f"UPDATE \"{table}\" SET n = n + 1 WHERE pk = 'c' AND sk = '1'"},
        {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE pk = 'c' AND sk = '1' AND n = 0)"},
    ]
    # Two actions on one item: refused as TransactWriteItems refuses it.
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(TransactStatements=statements)
    assert error_of(caught)[0] == "ValidationException"
    once = [statements[0]]
    dynamodb.execute_transaction(TransactStatements=once, ClientRequestToken="tok-1")
    dynamodb.execute_transaction(TransactStatements=once, ClientRequestToken="tok-1")
    assert get(dynamodb, table, pk="c", sk="1")["n"] == {"N": "1"}  # type: ignore[index]
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[
                {
                    "Statement": f'EXISTS(SELECT * FROM "{table}"'
                    " WHERE pk = 'c' AND sk = '1' AND n = 7)"
                }
            ]
        )
    assert error_of(caught)[0] == "TransactionCanceledException"
    assert caught.value.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"


def test_transaction_reads(dynamodb: Any, indexed: str) -> None:
    seed(dynamodb, indexed, {"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "G"}, "v": {"N": "1"}})
    out = dynamodb.execute_transaction(
        TransactStatements=[
            {"Statement": f"SELECT v FROM \"{indexed}\" WHERE pk = 'a' AND sk = '1'"},
            {"Statement": f"SELECT * FROM \"{indexed}\" WHERE pk = 'b' AND sk = '1'"},
        ]
    )
    assert out["Responses"] == [{"Item": {"v": {"N": "1"}}}, {}]
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[{"Statement": f'SELECT * FROM "{indexed}"."by_g" WHERE g = \'G\''}]
        )
    assert error_of(caught) == (
        "ValidationException",
        "Reads on indices are not supported within transactions",
    )


def test_transaction_refusals(dynamodb: Any, table: str) -> None:
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[
                {
                    "Statement": f"UPDATE \"{table}\" SET v = 'new'"
                    " WHERE pk = 'a' AND sk = '1' RETURNING ALL NEW *"
                }
            ]
        )
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert "RETURNING clause is not supported in ExecuteTransaction" in message
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[{"Statement": f'SELECT * FROM "{table}" WHERE'}]
        )
    assert error_of(caught) == (
        "ValidationException",
        f"Validation failed in TransactStatements[0]: {NOT_WELL_FORMED}Unexpected term",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_transaction(
            TransactStatements=[
                {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'a' AND sk = '1'"},
                {"Statement": f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1'"},
            ]
        )
    assert error_of(caught)[0] == "ValidationException"
    assert get(dynamodb, table, pk="a", sk="1") == {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "v": {"S": "old"},
    }


VERBS = [
    ("SELECT * FROM", "WHERE"),
    ("UPDATE", "SET"),
    ("DELETE FROM", "WHERE"),
    ("INSERT INTO", "VALUE"),
]


def test_garbage_statements_through_the_server(dynamodb: Any, table: str) -> None:
    """A bounded, seeded fuzz: every answer is a 200 or a 4xx, never a 5xx."""
    seed(dynamodb, table, {"pk": {"S": "a"}, "sk": {"S": "1"}})
    rng = random.Random(16)
    words = [*TOKENS, f'"{table}"', "sk", "'1'"]
    starts = ["", *(f'{verb} "{table}" {word} ' for verb, word in VERBS)]
    for _ in range(150):
        text = rng.choice(starts) + " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        params = [{"S": "a"}] * rng.randint(0, 2)
        try:
            run(dynamodb, text or "x", *params)
            status = 200
        except ClientError as exc:
            status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status in (200, 400), text


def test_local_index_reads_back_what_it_does_not_hold(dynamodb: Any, unique_name: str) -> None:
    make_table(
        dynamodb,
        unique_name,
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    try:
        seed(
            dynamodb,
            unique_name,
            {"pk": {"S": "a"}, "sk": {"S": "1"}, "l": {"S": "z"}, "x": {"S": "one"}},
            {"pk": {"S": "a"}, "sk": {"S": "2"}, "l": {"S": "y"}, "x": {"S": "two"}},
        )
        target = f'"{unique_name}"."by_l"'
        star = run(dynamodb, f"SELECT * FROM {target} WHERE pk = 'a'")
        assert [sorted(i) for i in star["Items"]] == [["l", "pk", "sk"], ["l", "pk", "sk"]]
        named = run(dynamodb, f"SELECT x FROM {target} WHERE pk = 'a' AND x <> 'two'")
        assert named["Items"] == [{"x": {"S": "one"}}]
        ordered = run(dynamodb, f"SELECT sk FROM {target} WHERE pk = 'a' AND l > 'a'")
        assert [i["sk"]["S"] for i in ordered["Items"]] == ["2", "1"]
    finally:
        dynamodb.delete_table(TableName=unique_name)
