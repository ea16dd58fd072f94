"""Multi-attribute keys of global secondary indexes (DynamoDB, November 2025): up to four
partition-key and four sort-key attributes; Query needs equality on every partition
attribute and may constrain a left-to-right prefix of the sort attributes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.server import start_server

INVALID = "One or more parameter values were invalid: "
TYPES = {"h1": "S", "h2": "N", "r1": "S", "r2": "N", "r3": "B"}


def composite_gsi(name: str, hash_keys: list[str], range_keys: list[str]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": "HASH"} for n in hash_keys]
        + [{"AttributeName": n, "KeyType": "RANGE"} for n in range_keys],
        "Projection": {"ProjectionType": "ALL"},
    }


@pytest.fixture
def table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    """pk (S) table; GSI ``mk``: partition (h1 S, h2 N), sort (r1 S, r2 N, r3 B)."""
    yield make_table(
        dynamodb,
        unique_name,
        range_key=None,
        types=TYPES,
        GlobalSecondaryIndexes=[composite_gsi("mkix", ["h1", "h2"], ["r1", "r2", "r3"])],
    )
    dynamodb.delete_table(TableName=unique_name)


def put(dynamodb: Any, table: str, pk: str, **attrs: Any) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}}
    for name, value in attrs.items():
        kind = TYPES.get(name, "S")
        item[name] = {kind: value if kind != "N" else str(value)}
    dynamodb.put_item(TableName=table, Item=item)


def query(dynamodb: Any, table: str, condition: str, **values: Any) -> list[str]:
    """The pks a Query of index ``mk`` returns, in order."""
    answer = dynamodb.query(
        TableName=table,
        IndexName="mkix",
        KeyConditionExpression=condition,
        ExpressionAttributeValues={
            f":{name}": {TYPES.get(name.split("_")[0], "S"): str(value)}
            if not isinstance(value, bytes)
            else {"B": value}
            for name, value in values.items()
        },
    )
    return [item["pk"]["S"] for item in answer["Items"]]


def load(dynamodb: Any, table: str) -> None:
    rows = [
        ("a", "x", 1, "m", 10, b"\x01"),
        ("b", "x", 1, "m", 2, b"\x02"),
        ("c", "x", 1, "m", 2, b"\x01"),
        ("d", "x", 1, "n", 1, b"\x00"),
        ("e", "x", 1, "l", 99, b"\x00"),
        ("f", "x", 2, "m", 10, b"\x01"),  # another partition: h2 differs
        ("g", "y", 1, "m", 10, b"\x01"),  # another partition: h1 differs
    ]
    for pk, h1, h2, r1, r2, r3 in rows:
        put(dynamodb, table, pk, h1=h1, h2=h2, r1=r1, r2=r2, r3=r3)


def test_describe_shows_every_key_attribute_in_order(dynamodb: Any, table: str) -> None:
    described = dynamodb.describe_table(TableName=table)["Table"]
    (gsi,) = described["GlobalSecondaryIndexes"]
    assert gsi["KeySchema"] == [
        {"AttributeName": "h1", "KeyType": "HASH"},
        {"AttributeName": "h2", "KeyType": "HASH"},
        {"AttributeName": "r1", "KeyType": "RANGE"},
        {"AttributeName": "r2", "KeyType": "RANGE"},
        {"AttributeName": "r3", "KeyType": "RANGE"},
    ]
    defined = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    assert defined == {"pk": "S", **TYPES}


def test_query_partition_and_sort_prefixes(dynamodb: Any, table: str) -> None:
    load(dynamodb, table)
    # Every partition attribute: the partition's items, ordered by (r1, r2 numerically, r3).
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=1) == [
        "e",
        "c",
        "b",
        "a",
        "d",
    ]
    assert query(dynamodb, table, "h2 = :h2 AND h1 = :h1 AND r1 = :r1", h1="x", h2=1, r1="m") == [
        "c",
        "b",
        "a",
    ]
    assert query(
        dynamodb,
        table,
        "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r2 = :r2",
        h1="x",
        h2=1,
        r1="m",
        r2=2,
    ) == ["c", "b"]
    full = "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r2 = :r2 AND r3 = :r3"
    assert query(dynamodb, table, full, h1="x", h2=1, r1="m", r2=2, r3=b"\x02") == ["b"]
    # A range on the last attribute named, after equalities.
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2 AND r1 > :r1", h1="x", h2=1, r1="l") == [
        "c",
        "b",
        "a",
        "d",
    ]
    between = "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r2 BETWEEN :r2_1 AND :r2_2"
    assert query(dynamodb, table, between, h1="x", h2=1, r1="m", r2_1=2, r2_2=9) == ["c", "b"]
    assert query(
        dynamodb,
        table,
        "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r2 < :r2",
        h1="x",
        h2=1,
        r1="m",
        r2=10,
    ) == ["c", "b"]
    assert query(
        dynamodb, table, "h1 = :h1 AND h2 = :h2 AND begins_with(r1, :r1)", h1="x", h2=1, r1="m"
    ) == ["c", "b", "a"]
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=3) == []


def test_query_backwards_and_in_pages(dynamodb: Any, table: str) -> None:
    load(dynamodb, table)
    values = {":h1": {"S": "x"}, ":h2": {"N": "1"}}
    backwards = dynamodb.query(
        TableName=table,
        IndexName="mkix",
        KeyConditionExpression="h1 = :h1 AND h2 = :h2",
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
    )
    assert [i["pk"]["S"] for i in backwards["Items"]] == ["d", "a", "b", "c", "e"]
    seen: list[str] = []
    start: dict[str, Any] | None = None
    for _ in range(10):
        page = dynamodb.query(
            TableName=table,
            IndexName="mkix",
            KeyConditionExpression="h1 = :h1 AND h2 = :h2",
            ExpressionAttributeValues=values,
            Limit=2,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        seen += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
        assert set(start) == {"pk", "h1", "h2", "r1", "r2", "r3"}
    assert seen == ["e", "c", "b", "a", "d"]


def test_legacy_key_conditions(dynamodb: Any, table: str) -> None:
    load(dynamodb, table)
    answer = dynamodb.query(
        TableName=table,
        IndexName="mkix",
        KeyConditions={
            "h1": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
            "h2": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]},
            "r1": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "m"}]},
            "r2": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "2"}]},
        },
    )
    assert [i["pk"]["S"] for i in answer["Items"]] == ["a"]


def test_item_missing_any_key_attribute_is_not_indexed(dynamodb: Any, table: str) -> None:
    put(dynamodb, table, "full", h1="x", h2=1, r1="m", r2=1, r3=b"\x00")
    put(dynamodb, table, "no-h2", h1="x", r1="m", r2=1, r3=b"\x00")
    put(dynamodb, table, "no-r3", h1="x", h2=1, r1="m", r2=1)
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=1) == ["full"]
    scanned = dynamodb.scan(TableName=table, IndexName="mkix")["Items"]
    assert [i["pk"]["S"] for i in scanned] == ["full"]
    # Adding the missing attribute indexes the item; removing one takes it out again.
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "no-r3"}},
        UpdateExpression="SET r3 = :b",
        ExpressionAttributeValues={":b": {"B": b"\x01"}},
    )
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=1) == ["full", "no-r3"]
    dynamodb.update_item(TableName=table, Key={"pk": {"S": "full"}}, UpdateExpression="REMOVE r1")
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=1) == ["no-r3"]
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "no-r3"}})
    assert query(dynamodb, table, "h1 = :h1 AND h2 = :h2", h1="x", h2=1) == []


def test_key_attribute_types_are_checked_on_write(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "p"}, "r2": {"S": "two"}})
    assert error_of(caught) == (
        "ValidationException",
        INVALID + "Type mismatch for Index Key r2 Expected: N Actual: S IndexName: mkix",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "p"}, "h1": {"S": ""}})
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert message.endswith("cannot contain an empty string value. IndexName: mkix, IndexKey: h1")
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "p"}})


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        ("h1 = :h1", {":h1": {"S": "x"}}, "Query condition missed key schema element: h2"),
        (
            "h1 = :h1 AND h2 > :h2",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}},
            "Query key condition not supported",
        ),
        (
            "h1 = :h1 AND h2 = :h2 AND r2 = :r2",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}, ":r2": {"N": "1"}},
            "Query condition missed key schema element: r1",
        ),
        (
            "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r3 = :r3",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}, ":r1": {"S": "m"}, ":r3": {"B": b"\x00"}},
            "Query condition missed key schema element: r2",
        ),
        (
            "h1 = :h1 AND h2 = :h2 AND r1 > :r1 AND r2 = :r2",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}, ":r1": {"S": "m"}, ":r2": {"N": "1"}},
            "Query key condition not supported",
        ),
        (
            "h1 = :h1 AND h2 = :h2 AND begins_with(r1, :r1) AND r2 = :r2",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}, ":r1": {"S": "m"}, ":r2": {"N": "1"}},
            "Query key condition not supported",
        ),
        (
            "h1 = :h1 AND h2 = :h2 AND colour = :o",
            {":h1": {"S": "x"}, ":h2": {"N": "1"}, ":o": {"S": "m"}},
            "Query condition missed key schema element: r1",
        ),
        (
            "h1 = :h1 AND h2 = :h2",
            {":h1": {"S": "x"}, ":h2": {"S": "1"}},
            INVALID + "Condition parameter type does not match schema type",
        ),
        (
            "h1 = :h1 AND h2 = :h2",
            {":h1": {"S": ""}, ":h2": {"N": "1"}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: h1",
        ),
    ],
)
def test_query_key_condition_rules(
    dynamodb: Any, table: str, condition: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=table,
            IndexName="mkix",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    assert error_of(caught) == ("ValidationException", message)


def test_filter_cannot_name_a_key_attribute(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=table,
            IndexName="mkix",
            KeyConditionExpression="h1 = :h1 AND h2 = :h2",
            FilterExpression="r2 = :v",
            ExpressionAttributeValues={":h1": {"S": "x"}, ":h2": {"N": "1"}, ":v": {"N": "1"}},
        )
    assert error_of(caught) == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: r2",
    )


def test_one_attribute_keys_still_take_two_conditions(dynamodb: Any, unique_name: str) -> None:
    make_table(dynamodb, unique_name)
    with pytest.raises(ClientError) as caught:
        dynamodb.query(
            TableName=unique_name,
            KeyConditionExpression="pk = :p AND sk = :s AND x = :x",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "s"}, ":x": {"S": "x"}},
        )
    assert error_of(caught) == ("ValidationException", "Conditions can be of length 1 or 2 only")


def _create(dynamodb: Any, name: str, **extra: Any) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "a", "b", "c", "d", "e")
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


@pytest.mark.parametrize(
    ("key_schema", "message"),
    [
        (
            [("a", "HASH"), ("b", "HASH"), ("c", "HASH"), ("d", "HASH"), ("e", "HASH")],
            INVALID + "The partition key of index gix has 5 attributes; a multi-attribute key "
            "has at most 4 (HASH KeySchemaElements)",
        ),
        (
            [
                ("a", "HASH"),
                ("b", "RANGE"),
                ("c", "RANGE"),
                ("d", "RANGE"),
                ("e", "RANGE"),
                ("pk", "RANGE"),
            ],
            INVALID + "The sort key of index gix has 5 attributes; a multi-attribute key "
            "has at most 4 (RANGE KeySchemaElements)",
        ),
        (
            [("a", "RANGE"), ("b", "HASH"), ("c", "HASH")],
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            [("a", "HASH"), ("b", "RANGE"), ("c", "HASH")],
            "Invalid KeySchema: every HASH KeySchemaElement must come before the RANGE "
            "KeySchemaElements for index: gix",
        ),
        (
            [("a", "HASH"), ("a", "HASH")],
            "Invalid KeySchema: Duplicate attribute name in KeySchema: a",
        ),
        (
            [("a", "HASH"), ("b", "HASH"), ("zz", "RANGE")],
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            "Keys: [a, b, zz], AttributeDefinitions: [pk, a, b, c, d, e]",
        ),
    ],
)
def test_create_table_checks_multi_attribute_key_schemas(
    dynamodb: Any, unique_name: str, key_schema: list[tuple[str, str]], message: str
) -> None:
    index = {
        "IndexName": "gix",
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in key_schema],
        "Projection": {"ProjectionType": "ALL"},
    }
    with pytest.raises(ClientError) as caught:
        _create(dynamodb, unique_name, GlobalSecondaryIndexes=[index])
    assert error_of(caught) == ("ValidationException", message)
    assert unique_name not in dynamodb.list_tables()["TableNames"]


def test_nine_key_schema_elements_break_the_model(dynamodb: Any, unique_name: str) -> None:
    index = {
        "IndexName": "gix",
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}] * 9,
        "Projection": {"ProjectionType": "ALL"},
    }
    with pytest.raises(ClientError) as caught:
        _create(dynamodb, unique_name, GlobalSecondaryIndexes=[index])
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '[")
    assert message.endswith(
        "at 'globalSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: "
        "Member must have length less than or equal to 8"
    )


def test_tables_and_local_indexes_keep_one_attribute_keys(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            TableName=unique_name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "a", "KeyType": "HASH"},
                {"AttributeName": "b", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "a", "b")
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    code, message = error_of(caught)
    assert (code, message.split(" at ")[-1]) == (
        "ValidationException",
        "'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            TableName=unique_name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "a", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "a", "b")
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "lix",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "a", "KeyType": "RANGE"},
                        {"AttributeName": "b", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    code, message = error_of(caught)
    assert (code, message.split(" at ")[-1]) == (
        "ValidationException",
        "'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member must "
        "have length less than or equal to 2",
    )


def _wait_active(dynamodb: Any, table: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        indexes = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
        if all(i["IndexStatus"] == "ACTIVE" for i in indexes):
            return
        time.sleep(0.05)
    pytest.fail("index never became ACTIVE")


def test_update_table_adds_a_multi_attribute_index_and_backfills(
    dynamodb: Any, unique_name: str
) -> None:
    make_table(dynamodb, unique_name, range_key=None)
    requests = []
    for i in range(1100):
        item: dict[str, Any] = {"pk": {"S": f"p{i:04d}"}, "a": {"S": f"a{i % 3}"}}
        if i % 4:
            item["b"] = {"N": str(i % 7)}
        item["c"] = {"N": str(i)}
        requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), 25):
        dynamodb.batch_write_item(RequestItems={unique_name: requests[start : start + 25]})
    with pytest.raises(ClientError) as caught:
        dynamodb.update_table(
            TableName=unique_name,
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "N" if n != "a" else "S"}
                for n in ("a", "b", "c", "d", "e")
            ],
            GlobalSecondaryIndexUpdates=[
                {"Create": composite_gsi("gix", ["a", "b", "c", "d", "e"], [])}
            ],
        )
    assert error_of(caught)[0] == "ValidationException"
    described = dynamodb.update_table(
        TableName=unique_name,
        AttributeDefinitions=[
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "b", "AttributeType": "N"},
            {"AttributeName": "c", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[{"Create": composite_gsi("gix", ["a", "b"], ["c"])}],
    )["TableDescription"]
    assert [e["AttributeName"] for e in described["GlobalSecondaryIndexes"][0]["KeySchema"]] == [
        "a",
        "b",
        "c",
    ]
    _wait_active(dynamodb, unique_name)
    found = [
        int(item["c"]["N"])
        for page in dynamodb.get_paginator("query").paginate(
            TableName=unique_name,
            IndexName="gix",
            KeyConditionExpression="a = :a AND b = :b AND c >= :c",
            ExpressionAttributeValues={":a": {"S": "a1"}, ":b": {"N": "3"}, ":c": {"N": "500"}},
        )
        for item in page["Items"]
    ]
    expected = [i for i in range(500, 1100) if i % 3 == 1 and i % 4 and i % 7 == 3]
    assert found == expected


def test_partiql_select_on_a_multi_attribute_index(dynamodb: Any, table: str) -> None:
    load(dynamodb, table)

    def run(statement: str) -> list[str]:
        items = dynamodb.execute_statement(Statement=statement)["Items"]
        return [i["pk"]["S"] for i in items]

    target = f'"{table}"."mkix"'
    assert run(f"SELECT pk FROM {target} WHERE h1 = 'x' AND h2 = 1") == ["e", "c", "b", "a", "d"]
    assert run(f"SELECT pk FROM {target} WHERE h2 = 1 AND h1 = 'x' AND r1 = 'm' AND r2 > 2") == [
        "a"
    ]
    assert run(
        f"SELECT pk FROM {target} WHERE h1 = 'x' AND h2 = 1 AND r1 = 'm' ORDER BY r1 DESC"
    ) == ["a", "b", "c"]
    # Without every partition attribute it is a scan of the index, filtered.
    assert sorted(run(f"SELECT pk FROM {target} WHERE h1 = 'x' AND r2 = 10")) == ["a", "f"]


@pytest.mark.slow
def test_index_entries_survive_kill(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        ddb = client(server, "dynamodb")
        make_table(
            ddb,
            "mk-crash",
            range_key=None,
            types=TYPES,
            GlobalSecondaryIndexes=[composite_gsi("mkix", ["h1", "h2"], ["r1", "r2"])],
        )
        for i in range(200):
            put(ddb, "mk-crash", f"p{i:03d}", h1="x", h2=i % 2, r1="m", r2=i)
        server.kill()  # kill -9 right after the last acknowledgement
    finally:
        server.kill()
    server = start_server(tmp_path / "data")
    try:
        ddb = client(server, "dynamodb")
        for h2 in (0, 1):
            found = [
                item["pk"]["S"]
                for page in ddb.get_paginator("query").paginate(
                    TableName="mk-crash",
                    IndexName="mkix",
                    KeyConditionExpression="h1 = :h1 AND h2 = :h2",
                    ExpressionAttributeValues={":h1": {"S": "x"}, ":h2": {"N": str(h2)}},
                )
                for item in page["Items"]
            ]
            assert found == [f"p{i:03d}" for i in range(200) if i % 2 == h2]
    finally:
        server.stop()


def test_backup_and_restore_keep_every_key_attribute(
    dynamodb: Any, table: str, unique_name: str
) -> None:
    """A restored table's multi-attribute index has the source's whole KeySchema, and its
    queries answer as the source's do (the restore re-creates the index from the backup)."""
    from tests.e2e.dynamodb.test_backups import wait_active, wait_available

    load(dynamodb, table)
    arn = dynamodb.create_backup(TableName=table, BackupName="mk-backup")["BackupDetails"][
        "BackupArn"
    ]
    described = wait_available(dynamodb, arn)
    (gsi,) = described["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"]
    keys = [(e["AttributeName"], e["KeyType"]) for e in gsi["KeySchema"]]
    assert keys == [
        ("h1", "HASH"),
        ("h2", "HASH"),
        ("r1", "RANGE"),
        ("r2", "RANGE"),
        ("r3", "RANGE"),
    ]
    target = unique_name + "-restored"
    dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    restored = wait_active(dynamodb, target)
    (restored_gsi,) = restored["GlobalSecondaryIndexes"]
    assert (
        restored_gsi["KeySchema"]
        == dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"][0][
            "KeySchema"
        ]
    )
    condition = "h1 = :h1 AND h2 = :h2 AND r1 = :r1 AND r2 = :r2"
    values = {"h1": "x", "h2": 1, "r1": "m", "r2": 2}
    assert query(dynamodb, target, condition, **values) == query(
        dynamodb, table, condition, **values
    )
    assert query(dynamodb, target, condition, **values) == ["c", "b"]
    dynamodb.delete_table(TableName=target)
