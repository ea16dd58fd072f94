"""Control-plane answers AWS gives: UpdateTable to the mode or throughput a table already
has, an index name that exists, deletion protection, table classes, tags on another
account's ARN, too many tags and characters tags may not hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of, make_table

INVALID = "One or more parameter values were invalid: "
TAG_PATTERN = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"


def fails(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


@pytest.fixture
def provisioned(dynamodb: Any, unique_name: str) -> Iterator[str]:
    dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=unique_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )
    yield unique_name
    try:
        dynamodb.update_table(TableName=unique_name, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=unique_name)
    except ClientError:
        pass


def test_update_to_the_same_on_demand_mode_is_accepted(dynamodb: Any, table: str) -> None:
    answer = dynamodb.update_table(TableName=table, BillingMode="PAY_PER_REQUEST")
    description = answer["TableDescription"]
    assert description["TableName"] == table
    assert description["TableStatus"] == "ACTIVE"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_to_the_same_throughput_is_refused(dynamodb: Any, provisioned: str) -> None:
    code, message = fails(
        dynamodb.update_table,
        TableName=provisioned,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    assert code == "ValidationException"
    assert message.startswith("The provisioned throughput for the table will not change.")


def test_adding_an_index_whose_name_exists(dynamodb: Any, unique_name: str) -> None:
    gsi = {
        "IndexName": "by_g",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    name = make_table(dynamodb, unique_name, GlobalSecondaryIndexes=[gsi])
    try:
        assert fails(
            dynamodb.update_table,
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": gsi}],
        ) == ("ValidationException", INVALID + "Duplicate index name: by_g")
        indexes = dynamodb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
        assert [i["IndexName"] for i in indexes] == ["by_g"]
    finally:
        dynamodb.delete_table(TableName=name)


def test_deletion_protection_and_table_class(dynamodb: Any, unique_name: str) -> None:
    name = make_table(
        dynamodb,
        unique_name,
        DeletionProtectionEnabled=True,
        TableClass="STANDARD_INFREQUENT_ACCESS",
    )
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["DeletionProtectionEnabled"] is True
    assert table["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert fails(dynamodb.delete_table, TableName=name) == (
        "ValidationException",
        "Resource cannot be deleted as it is currently protected against deletion. Disable "
        "deletion protection first.",
    )
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False, TableClass="STANDARD")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["DeletionProtectionEnabled"] is False
    assert table.get("TableClassSummary", {"TableClass": "STANDARD"})["TableClass"] == "STANDARD"
    assert dynamodb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:dynamodb:us-east-1:111122223333:table/{table}",
        "arn:aws:s3:::{table}",
    ],
)
def test_tags_on_another_accounts_arn_are_denied(dynamodb: Any, table: str, arn: str) -> None:
    other = arn.format(table=table)
    for call, extra in (
        (dynamodb.list_tags_of_resource, {}),
        (dynamodb.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (dynamodb.untag_resource, {"TagKeys": ["k"]}),
    ):
        code, message = fails(call, ResourceArn=other, **extra)
        assert code == "AccessDeniedException"
        assert message.startswith("User: arn:aws:iam::")
        assert f"on resource: {other} because no resource-based policy allows" in message
    own = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    assert dynamodb.list_tags_of_resource(ResourceArn=own)["Tags"] == []


def test_more_than_50_tags(dynamodb: Any, table: str, unique_name: str) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    too_many = INVALID + "The number of tags exceeds the limit of 50"
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert fails(dynamodb.tag_resource, ResourceArn=arn, Tags=tags) == (
        "ValidationException",
        too_many,
    )
    dynamodb.tag_resource(ResourceArn=arn, Tags=tags[:30])
    assert fails(dynamodb.tag_resource, ResourceArn=arn, Tags=tags[20:]) == (
        "ValidationException",
        too_many,
    )
    assert len(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 30
    assert fails(
        dynamodb.create_table,
        TableName=unique_name + "-tagged",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=tags,
    ) == ("ValidationException", too_many)
    assert unique_name + "-tagged" not in dynamodb.list_tables()["TableNames"]


@pytest.mark.parametrize(
    ("key", "value", "member", "shown"),
    [
        ("ok", "#!%^&", "value", "#!%^&"),
        ("->>;-)", "ok", "key", "->>;-)"),
        ("bad{}", "x", "key", "bad{}"),
    ],
)
def test_tag_characters(
    dynamodb: Any, table: str, key: str, value: str, member: str, shown: str
) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    assert fails(dynamodb.tag_resource, ResourceArn=arn, Tags=[{"Key": key, "Value": value}]) == (
        "ValidationException",
        f"1 validation error detected: Value '{shown}' at 'tags.1.member.{member}' failed to "
        f"satisfy constraint: Member must satisfy regular expression pattern: {TAG_PATTERN}",
    )
    # what tags may hold: letters and numbers of any script, spaces, _ . : / = + - @
    fine = [{"Key": "Ключ 7 _.:/=+-@", "Value": "ценность ٣"}, {"Key": "empty", "Value": ""}]
    dynamodb.tag_resource(ResourceArn=arn, Tags=fine)
    assert sorted(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"], key=str) == sorted(
        fine, key=str
    )
