"""CreateTable / UpdateTable / DeleteTable / ListTables validation, in AWS's words and order."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of
from tests.server import RunningServer

INVALID = "One or more parameter values were invalid: "
PT = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}


def attrs(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def key(hash_: str, range_: str | None = None, kinds: tuple[str, str] = ("HASH", "RANGE")) -> Any:
    schema = [{"AttributeName": hash_, "KeyType": kinds[0]}]
    if range_ is not None:
        schema.append({"AttributeName": range_, "KeyType": kinds[1]})
    return schema


def index(name: str, schema: Any, projection: Any = None, **extra: Any) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": schema, "Projection": projection or {}, **extra}


def null(path: str) -> str:
    return f"Value null at '{path}' failed to satisfy constraint: Member must not be null"


@pytest.fixture(scope="module")
def raw(server: RunningServer) -> Any:
    """A client that sends what it is given: the server must do all the checking."""
    return client(server, "dynamodb", parameter_validation=False)


def refusal(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


def listed(message: str) -> tuple[str, list[str]]:
    """Split "N validation errors detected: a; b" into its head and its errors."""
    head, _, rest = message.partition(": ")
    return head, rest.split("; ")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {},
            "3 validation errors detected: Value null at 'attributeDefinitions' failed to "
            "satisfy constraint: Member must not be null; Value null at 'tableName' failed to "
            "satisfy constraint: Member must not be null; Value null at 'keySchema' failed to "
            "satisfy constraint: Member must not be null",
        ),
        (
            {"TableName": "ab", "AttributeDefinitions": [], "KeySchema": key("a")},
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
        ),
        (
            {"TableName": "a" * 256, "AttributeDefinitions": [], "KeySchema": key("a")},
            f"1 validation error detected: Value '{'a' * 256}' at 'tableName' failed to satisfy "
            "constraint: Member must have length less than or equal to 255",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": key("a"),
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": 10**12 + 1,
                    "WriteCapacityUnits": 10**12 + 1,
                },
            },
            "Given value 1000000000001 for ReadCapacityUnits is out of bounds",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": key("a"),
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": 10**12,
                    "WriteCapacityUnits": 10**12 + 1,
                },
            },
            "Given value 1000000000001 for WriteCapacityUnits is out of bounds",
        ),
        (
            {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": key("a")},
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
            "BillingMode is PROVISIONED",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": key("a", "a", ("HASH", "HASH")),
                "ProvisionedThroughput": PT,
                "BillingMode": "PAY_PER_REQUEST",
            },
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
            "BillingMode is PAY_PER_REQUEST",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": key("a"),
                "BillingMode": "PAY_PER_REQUEST",
            },
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("b"),
                "KeySchema": key("a", "b"),
                "ProvisionedThroughput": PT,
            },
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("b"),
                "KeySchema": key("a"),
                "ProvisionedThroughput": PT,
            },
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            "Keys: [a], AttributeDefinitions: [b]",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "a", ("HASH", "HASH")),
                "ProvisionedThroughput": PT,
            },
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b", ("HASH", "HASH")),
                "ProvisionedThroughput": PT,
            },
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b", ("RANGE", "HASH")),
                "ProvisionedThroughput": PT,
            },
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a"),
                "LocalSecondaryIndexes": [index("abc", key("c", kinds=("RANGE", "RANGE")))],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Table KeySchema does not have a range key, which is required when "
            "specifying a LocalSecondaryIndex",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [index("abc", key("b"))],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Index KeySchema does not have a range key for index: abc",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [index("abc", key("b", "a"))],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Index KeySchema does not have the same leading hash key as table "
            "KeySchema for index: abc. index hash key: b, table hash key: a",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [index("abc", key("a", "a"))],
                "ProvisionedThroughput": PT,
            },
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [index("abc", key("a", "b"))],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Unknown ProjectionType: null",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "GlobalSecondaryIndexes": [index("abc", key("b"), ProvisionedThroughput=PT)],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Unknown ProjectionType: null",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [
                    index(
                        "abc",
                        key("a", "b"),
                        {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["a"]},
                    )
                ],
                "ProvisionedThroughput": PT,
            },
            INVALID + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [
                    index(f"ab{c}", key("a", "b"), {"ProjectionType": "ALL"}) for c in "cdefgh"
                ],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [index("abc", key("a", "b"), {"ProjectionType": "ALL"})],
                "GlobalSecondaryIndexes": [
                    index("abc", key("a", "b"), {"ProjectionType": "ALL"}, ProvisionedThroughput=PT)
                ],
                "ProvisionedThroughput": PT,
            },
            INVALID + "Duplicate index name: abc",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a"),
                "BillingMode": "PAY_PER_REQUEST",
                "GlobalSecondaryIndexes": [
                    index("abc", key("a", "b"), {"ProjectionType": "ALL"}),
                    index(
                        "abd", key("a", "b"), {"ProjectionType": "ALL"}, ProvisionedThroughput=PT
                    ),
                ],
            },
            INVALID + "ProvisionedThroughput should not be specified for index: abd when "
            "BillingMode is PAY_PER_REQUEST",
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a"),
                "ProvisionedThroughput": PT,
                "GlobalSecondaryIndexes": [index("abc", key("b"), {"ProjectionType": "ALL"})],
            },
            INVALID + "ProvisionedThroughput is not specified for index: abc",
        ),
    ],
)
def test_create_table_semantic_errors(raw: Any, request_: dict[str, Any], message: str) -> None:
    assert refusal(raw.create_table, **request_) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("request_", "errors"),
    [
        (
            {"TableName": "abc;"},
            [
                null("attributeDefinitions"),
                "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy "
                "regular expression pattern: [a-zA-Z0-9_.-]+",
                null("keySchema"),
            ],
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": [],
                "BillingMode": "A",
                "ProvisionedThroughput": {"ReadCapacityUnits": -1, "WriteCapacityUnits": -1},
            },
            [
                "Value 'A' at 'billingMode' failed to satisfy constraint: Member must satisfy "
                "enum value set: [PROVISIONED, PAY_PER_REQUEST]",
                "Value '-1' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1",
                "Value '-1' at 'provisionedThroughput.readCapacityUnits' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1",
                "Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length "
                "greater than or equal to 1",
            ],
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [{}],
                "KeySchema": key("a"),
                "ProvisionedThroughput": PT,
            },
            [
                null("attributeDefinitions.1.member.attributeName"),
                null("attributeDefinitions.1.member.attributeType"),
            ],
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": [],
                "KeySchema": [{"KeyType": "HASH"}, {"AttributeName": "a"}],
                "ProvisionedThroughput": PT,
            },
            [null("keySchema.1.member.attributeName"), null("keySchema.2.member.keyType")],
        ),
        (
            # AWS lists at most ten errors and counts only those
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "LocalSecondaryIndexes": [{}] * 9,
                "ProvisionedThroughput": PT,
            },
            [
                null(f"localSecondaryIndexes.{i}.member.{m}")
                for i in (1, 2, 3)
                for m in ("indexName", "keySchema", "projection")
            ]
            + [null("localSecondaryIndexes.4.member.indexName")],
        ),
        (
            {
                "TableName": "abc",
                "AttributeDefinitions": attrs("a", "b"),
                "KeySchema": key("a", "b"),
                "GlobalSecondaryIndexes": [
                    index(
                        "abc",
                        key("a", "b"),
                        {"ProjectionType": "abc", "NonKeyAttributes": []},
                        ProvisionedThroughput={"ReadCapacityUnits": 0},
                    )
                ],
                "ProvisionedThroughput": PT,
            },
            [
                "Value 'abc' at 'globalSecondaryIndexes.1.member.projection.projectionType' "
                "failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, "
                "KEYS_ONLY]",
                "Value '[]' at 'globalSecondaryIndexes.1.member.projection.nonKeyAttributes' "
                "failed to satisfy constraint: Member must have length greater than or equal to 1",
                "Value '0' at 'globalSecondaryIndexes.1.member.provisionedThroughput."
                "readCapacityUnits' failed to satisfy constraint: Member must have value greater "
                "than or equal to 1",
                null("globalSecondaryIndexes.1.member.provisionedThroughput.writeCapacityUnits"),
            ],
        ),
    ],
)
def test_create_table_model_errors(raw: Any, request_: dict[str, Any], errors: list[str]) -> None:
    code, message = refusal(raw.create_table, **request_)
    assert code == "ValidationException"
    head, found = listed(message)
    count = len(errors)
    assert head == f"{count} validation error{'s' if count > 1 else ''} detected"
    assert sorted(found) == sorted(errors)


def test_create_table_descriptions(dynamodb: Any, unique_name: str) -> None:
    created = dynamodb.create_table(
        TableName=unique_name,
        AttributeDefinitions=attrs("a"),
        KeySchema=key("a"),
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert created["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }
    table_id = created["TableId"]
    assert len(table_id) == 36
    assert table_id[14] == "4"  # a version 4 UUID, as AWS gives
    assert table_id[19] in "89ab"
    assert created["DeletionProtectionEnabled"] is False
    dynamodb.delete_table(TableName=unique_name)


@pytest.fixture
def provisioned(dynamodb: Any, unique_name: str) -> Any:
    dynamodb.create_table(
        TableName=unique_name,
        AttributeDefinitions=attrs("a"),
        KeySchema=key("a"),
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
    )
    yield unique_name
    dynamodb.delete_table(TableName=unique_name)


ACTION_BLOCKED = (
    "This operation cannot be performed with given input values. Please contact DynamoDB "
    "service team for more info: Action Blocked: IndexUpdate"
)


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            {"GlobalSecondaryIndexUpdates": []},
            "ValidationException",
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ),
        (
            {"GlobalSecondaryIndexUpdates": [{}]},
            "ValidationException",
            INVALID
            + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
            "GlobalSecondaryIndexUpdate.Delete must not be null",
        ),
        (
            {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "abc"}}] * 2},
            "ValidationException",
            INVALID + "Only one global secondary index update per index is allowed simultaneously. "
            "Index: abc",
        ),
        (
            {
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": 10**12,
                    "WriteCapacityUnits": 10**12 + 1,
                }
            },
            "ValidationException",
            "Given value 1000000000001 for WriteCapacityUnits is out of bounds",
        ),
        (
            {"ProvisionedThroughput": PT},
            "ResourceNotFoundException",
            "Requested resource not found: Table: {missing} not found",
        ),
    ],
)
def test_update_table_checks_before_the_table(
    raw: Any, unique_name: str, request_: dict[str, Any], code: str, message: str
) -> None:
    missing = f"{unique_name}-missing"
    assert refusal(raw.update_table, TableName=missing, **request_) == (
        code,
        message.format(missing=missing),
    )


def test_update_table_model_errors(raw: Any, provisioned: str) -> None:
    code, message = refusal(
        raw.update_table,
        TableName=provisioned,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "a", "ProvisionedThroughput": {}}},
            {
                "Update": {
                    "IndexName": "abc;",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 0},
                }
            },
        ],
    )
    head, found = listed(message)
    assert (code, head) == ("ValidationException", "5 validation errors detected")
    update = "globalSecondaryIndexUpdates.{}.member.update"
    assert sorted(found) == sorted(
        [
            f"Value 'a' at '{update.format(1)}.indexName' failed to satisfy constraint: Member "
            "must have length greater than or equal to 3",
            null(f"{update.format(1)}.provisionedThroughput.writeCapacityUnits"),
            null(f"{update.format(1)}.provisionedThroughput.readCapacityUnits"),
            f"Value 'abc;' at '{update.format(2)}.indexName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            f"Value '0' at '{update.format(2)}.provisionedThroughput.writeCapacityUnits' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1",
        ]
    )


def test_update_table_against_the_table(dynamodb: Any, raw: Any, provisioned: str) -> None:
    update = {"Update": {"IndexName": "abc", "ProvisionedThroughput": PT}}
    assert refusal(
        raw.update_table, TableName=provisioned, GlobalSecondaryIndexUpdates=[update]
    ) == ("ValidationException", ACTION_BLOCKED)
    deletes = [{"Delete": {"IndexName": f"ab{c}"}} for c in "cdefgh"]
    assert refusal(
        raw.update_table, TableName=provisioned, GlobalSecondaryIndexUpdates=deletes
    ) == (
        "LimitExceededException",
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table",
    )
    assert refusal(
        raw.update_table,
        TableName=provisioned,
        BillingMode="PAY_PER_REQUEST",
        ProvisionedThroughput=PT,
    )[1] == (
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
        "BillingMode is PAY_PER_REQUEST"
    )


def test_update_table_throughput_lifecycle(dynamodb: Any, provisioned: str) -> None:
    """The answer shows the change under way (UPDATING, the old figures); then it is done."""
    answer = dynamodb.update_table(
        TableName=provisioned,
        ProvisionedThroughput={"ReadCapacityUnits": 30, "WriteCapacityUnits": 15},
    )["TableDescription"]
    assert answer["TableStatus"] == "UPDATING"
    shown = answer["ProvisionedThroughput"]
    assert (shown["ReadCapacityUnits"], shown["WriteCapacityUnits"]) == (10, 5)
    dynamodb.get_waiter("table_exists").wait(
        TableName=provisioned, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )
    done = dynamodb.describe_table(TableName=provisioned)["Table"]
    assert done["TableStatus"] == "ACTIVE"
    assert done["ProvisionedThroughput"]["ReadCapacityUnits"] == 30
    assert done["ProvisionedThroughput"]["LastIncreaseDateTime"] > shown["LastIncreaseDateTime"]
    decrease = dynamodb.update_table(TableName=provisioned, ProvisionedThroughput=PT)
    shown = decrease["TableDescription"]["ProvisionedThroughput"]
    assert (shown["ReadCapacityUnits"], shown["NumberOfDecreasesToday"]) == (30, 0)
    done = dynamodb.describe_table(TableName=provisioned)["Table"]["ProvisionedThroughput"]
    assert (done["ReadCapacityUnits"], done["NumberOfDecreasesToday"]) == (1, 1)
    switched = dynamodb.update_table(TableName=provisioned, BillingMode="PAY_PER_REQUEST")
    assert switched["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(ClientError) as caught:
        dynamodb.update_table(TableName=provisioned, BillingMode="PROVISIONED")
    assert error_of(caught) == (
        "ValidationException",
        INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
    )


def test_time_to_live_messages(dynamodb: Any, raw: Any, provisioned: str, unique_name: str) -> None:
    spec = {"AttributeName": "exp", "Enabled": True}
    missing = f"{unique_name}-missing"
    assert refusal(raw.update_time_to_live, TableName=missing, TimeToLiveSpecification=spec) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {missing} not found",
    )
    assert refusal(raw.describe_time_to_live, TableName=missing)[0] == "ResourceNotFoundException"
    empty = {"AttributeName": "", "Enabled": True}
    assert refusal(
        raw.update_time_to_live, TableName=provisioned, TimeToLiveSpecification=empty
    ) == (
        "ValidationException",
        "TimeToLiveSpecification.AttributeName must be non empty",
    )
    code, message = refusal(
        raw.update_time_to_live, TableName=provisioned, TimeToLiveSpecification={}
    )
    assert code == "ValidationException"
    assert sorted(listed(message)[1]) == [
        null("timeToLiveSpecification.attributeName"),
        null("timeToLiveSpecification.enabled"),
    ]
    on = dynamodb.update_time_to_live(TableName=provisioned, TimeToLiveSpecification=spec)
    assert on["TimeToLiveSpecification"] == spec
    off = dynamodb.update_time_to_live(
        TableName=provisioned, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": False}
    )
    assert off["TimeToLiveSpecification"] == {"Enabled": False}
    described = dynamodb.describe_time_to_live(TableName=provisioned)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}


def test_tag_messages(dynamodb: Any, raw: Any, provisioned: str, unique_name: str) -> None:
    arn = dynamodb.describe_table(TableName=provisioned)["Table"]["TableArn"]
    missing = arn.replace(provisioned, f"{unique_name}-missing")
    short = arn.replace(provisioned, "ab")
    assert refusal(raw.list_tags_of_resource) == ("ValidationException", "Invalid TableArn")
    assert refusal(raw.tag_resource, Tags=[]) == ("ValidationException", "Invalid TableArn")
    assert refusal(raw.tag_resource, ResourceArn="a:b:c:d:e:f/g") == (
        "ValidationException",
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member "
        "must not be null",
    )
    for bad in ("a:b:c:d:e:f/g", short):
        assert refusal(raw.tag_resource, ResourceArn=bad, Tags=[]) == (
            "ValidationException",
            f"Invalid TableArn: Invalid ResourceArn provided as input {bad}",
        )
    assert refusal(raw.tag_resource, ResourceArn=missing, Tags=[]) == (
        "ValidationException",
        "Atleast one Tag needs to be provided as Input.",
    )
    assert refusal(raw.untag_resource, ResourceArn=missing, TagKeys=[]) == (
        "ValidationException",
        "Atleast one Tag Key needs to be provided as Input.",
    )
    assert refusal(raw.tag_resource, ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}]) == (
        "ResourceNotFoundException",
        f"Requested resource not found: ResourcArn: {missing} not found",
    )
    assert refusal(raw.list_tags_of_resource, ResourceArn=missing)[1] == (
        f"Requested resource not found: ResourcArn: {missing} not found"
    )
    assert refusal(raw.untag_resource, ResourceArn=missing, TagKeys=["a"]) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    fifty = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    dynamodb.tag_resource(ResourceArn=arn, Tags=fifty)
    # a ValidationException, as AWS answers (AWS's words were not found)
    assert refusal(dynamodb.tag_resource, ResourceArn=arn, Tags=[{"Key": "x", "Value": "v"}]) == (
        "ValidationException",
        "One or more parameter values were invalid: The number of tags exceeds the limit of 50",
    )
