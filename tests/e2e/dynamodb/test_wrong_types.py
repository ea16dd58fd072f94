"""Every member of every operation, sent with every wrong JSON type: AWS's 400, nothing changed.

The probes are generated from botocore's model (not from Strata's copy of it): for each
member path, at any depth (attribute values two levels into themselves), a request holding
only that path, with a value of each JSON type the member is not. AWS answers each with a
SerializationException; the table the probes name is compared before and after.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from strata.api.dynamodb.model import MEMBERS
from tests.e2e.dynamodb.conftest import make_table
from tests.e2e.raw import RawClient
from tests.server import RunningServer

SERIALIZATION = "com.amazon.coral.service#SerializationException"
VALIDATION = "com.amazon.coral.validate#ValidationException"
# One JSON value of each type, keyed by the model kinds that accept it.
SAMPLES: list[tuple[Any, frozenset[str]]] = [
    ("23", frozenset({"string", "blob"})),
    (True, frozenset({"boolean"})),
    (23, frozenset({"integer", "long", "timestamp"})),  # timestamps: epoch seconds
    (34.56, frozenset({"timestamp"})),
    ([], frozenset({"list"})),
    ({}, frozenset({"map", "structure"})),
]
Path = tuple[str | int, ...]


def member_paths(
    shape: Any, path: Path = (), seen: tuple[str, ...] = ()
) -> Iterator[tuple[Path, str]]:
    """(path, kind) of every member below ``shape``; lists step in at 0, maps at "a"."""
    if seen.count(shape.name) > 2:
        return
    seen = (*seen, shape.name)
    children: list[tuple[str | int, Any]] = []
    if shape.type_name == "structure":
        children = list(shape.members.items())
    elif shape.type_name == "list":
        children = [(0, shape.member)]
    elif shape.type_name == "map":
        children = [("a", shape.value)]
    for step, child in children:
        yield (*path, step), child.type_name
        yield from member_paths(child, (*path, step), seen)


def request_with(path: Path, value: Any) -> dict[str, Any]:
    """The smallest request that holds ``value`` at ``path``."""
    root: dict[str, Any] = {}
    node: Any = root
    for step, following in itertools.pairwise(path):
        child: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            node.append(child)
        else:
            node[step] = child
        node = child
    if isinstance(node, list):
        node.append(value)
    else:
        node[path[-1]] = value
    return root


def probes(table: str) -> Iterator[tuple[str, Path, Any]]:
    model = botocore.session.get_session().get_service_model("dynamodb")
    for operation in sorted(MEMBERS):
        for path, kind in member_paths(model.operation_model(operation).input_shape):
            for value, kinds in SAMPLES:
                if kind not in kinds:
                    yield operation, path, value


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


def state(raw: RawClient, table: str) -> Any:
    """What a probe could change: tables, the probe table's description, items, tags, TTL."""
    described = raw.dynamodb("DescribeTable", {"TableName": table})[1]["Table"]
    return (
        raw.dynamodb("ListTables", {})[1],
        {k: v for k, v in described.items() if k != "TableSizeBytes"},
        raw.dynamodb("Scan", {"TableName": table})[1]["Items"],
        raw.dynamodb("ListTagsOfResource", {"ResourceArn": described["TableArn"]})[1],
        raw.dynamodb("DescribeTimeToLive", {"TableName": table})[1],
    )


def test_every_wrong_type_is_a_serialization_exception(dynamodb: Any, raw: RawClient) -> None:
    table = make_table(dynamodb, f"probe-{uuid.uuid4().hex[:8]}")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    before = state(raw, table)
    wrong: list[str] = []
    count = 0
    for operation, path, value in probes(table):
        body = request_with(path, value)
        if "TableName" not in body:
            body["TableName"] = table
        status, answer = raw.dynamodb(operation, body)
        count += 1
        if status != 400 or answer.get("__type") != SERIALIZATION:
            wrong.append(f"{operation} {json.dumps(body)} -> {status} {answer}")
    assert count > 1500  # the model has this many member paths x wrong types
    assert wrong == []
    assert state(raw, table) == before


# AWS's words, as dynalite's test suite records them, one per kind of place.
MESSAGES = [
    ("BatchWriteItem", {"RequestItems": {"t": 5}}, "class sun.reflect.generics."),
    ("BatchWriteItem", {"RequestItems": {"t": [5]}}, "Unexpected value type in payload"),
    (
        "BatchWriteItem",
        {"RequestItems": []},
        "Unrecognized collection type java.util.Map<java.lang.String, "
        "java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>",
    ),
    ("TransactWriteItems", {"TransactItems": [{"Put": 5}]}, "Unexpected field type"),
    (
        "TransactWriteItems",
        {"TransactItems": [{"Put": []}]},
        "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.Put",
    ),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [5]}}}, "class sun.reflect.generics."),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": 5}}}, "Unexpected field type"),
    ("TagResource", {"ResourceArn": "arn", "Tags": [5]}, "Unexpected value type in payload"),
    ("GetItem", {"TableName": 23}, "NUMBER_VALUE cannot be converted to String"),
    ("GetItem", {"TableName": True}, "TRUE_VALUE cannot be converted to String"),
    ("GetItem", {"TableName": 1.5}, "DECIMAL_VALUE cannot be converted to String"),
    ("GetItem", {"TableName": []}, "Unrecognized collection type class java.lang.String"),
    ("GetItem", {"TableName": {}}, "Start of structure or map found where not expected"),
    ("GetItem", {"ConsistentRead": "23"}, "Unexpected token received from parser"),
    ("GetItem", {"ConsistentRead": 23}, "NUMBER_VALUE cannot be converted to Boolean"),
    ("Scan", {"Limit": "23"}, "STRING_VALUE cannot be converted to Integer"),
    ("Scan", {"Limit": False}, "FALSE_VALUE cannot be converted to Integer"),
    (
        "CreateTable",
        {"ProvisionedThroughput": {"ReadCapacityUnits": "1"}},
        "STRING_VALUE cannot be converted to Long",
    ),
    (
        "PutItem",
        {"Item": {"a": {"B": 23}}},
        "only base-64-encoded strings are convertible to bytes",
    ),
    ("PutItem", {"Item": {"a": {"SS": [23]}}}, "NUMBER_VALUE cannot be converted to String"),
    ("PutItem", {"Item": {"a": {"M": {"b": 5}}}}, "Unexpected value type in payload"),
    ("PutItem", {"Item": {"a": 5}}, "Unexpected value type in payload"),
]


@pytest.mark.parametrize(("operation", "body", "message"), MESSAGES)
def test_serialization_messages_are_aws(
    raw: RawClient, operation: str, body: dict[str, Any], message: str
) -> None:
    status, answer = raw.dynamodb(operation, body)
    assert (status, answer["__type"]) == (400, SERIALIZATION)
    assert answer["message"].startswith(message)


@pytest.mark.parametrize("operation", sorted(MEMBERS))
def test_json_nested_1000_deep_is_a_serialization_exception(raw: RawClient, operation: str) -> None:
    for body in (
        b'{"TableName": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        b'{"a": ' + b'{"a": ' * 999 + b"1" + b"}" * 1000,
    ):
        assert len(body) < 8 * 1024
        status, answer = raw.dynamodb(operation, body)
        assert (status, answer["__type"]) == (400, SERIALIZATION)


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for level in range(levels):
        value = {"M": {"k": value}} if level % 2 else {"L": [value]}
    return value


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("PutItem", {"Item": {"pk": {"S": "deep"}, "sk": {"S": "x"}, "v": "VALUE"}}),
        (
            "UpdateItem",
            {
                "Key": {"pk": {"S": "deep"}, "sk": {"S": "x"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": "VALUE"},
            },
        ),
        ("Scan", {"FilterExpression": "v = :v", "ExpressionAttributeValues": {":v": "VALUE"}}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": "TABLE",
                            "Item": {"pk": {"S": "deep"}, "sk": {"S": "x"}, "v": "VALUE"},
                        }
                    }
                ]
            },
        ),
    ],
)
def test_attribute_values_nested_beyond_32_levels_are_a_validation_exception(
    dynamodb: Any, raw: RawClient, unique_name: str, operation: str, body: dict[str, Any]
) -> None:
    table = make_table(dynamodb, unique_name)
    for levels, fine in ((32, True), (33, False), (100, False)):
        text = json.dumps(body).replace('"VALUE"', json.dumps(nested(levels)))
        request = json.loads(text.replace("TABLE", table))
        if operation != "TransactWriteItems":
            request["TableName"] = table
        status, answer = raw.dynamodb(operation, request)
        if fine:
            assert status == 200, answer
        else:
            assert (status, answer["__type"]) == (400, VALIDATION), (levels, answer)
            assert "Nesting Levels have exceeded supported limits" in answer["message"]
    if operation != "Scan":
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "deep"}, "sk": {"S": "x"}})
        assert item["Item"]["v"] == nested(32)
