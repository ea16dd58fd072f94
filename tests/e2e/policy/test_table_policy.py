"""DynamoDB resource-based policies on tables with boto3: put, get, delete, revisions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


def policy(table_arn: str, action: str = "dynamodb:GetItem") -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/reader"},
            "Action": action, "Resource": table_arn,
        }],
    })  # fmt: skip


@pytest.fixture
def table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    created = dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield created["TableDescription"]["TableArn"]
    dynamodb.delete_table(TableName=unique_name)


def code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_put_get_delete_with_revisions(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.get_resource_policy(ResourceArn=table)
    assert code(caught) == "PolicyNotFoundException"
    assert table in caught.value.response["Error"]["Message"]
    first = dynamodb.put_resource_policy(ResourceArn=table, Policy=policy(table))["RevisionId"]
    got = dynamodb.get_resource_policy(ResourceArn=table)
    assert got["Policy"] == policy(table)
    assert got["RevisionId"] == first
    # the same document again: the same revision (idempotent)
    assert (
        dynamodb.put_resource_policy(ResourceArn=table, Policy=policy(table))["RevisionId"] == first
    )
    # a wrong expected revision changes nothing
    with pytest.raises(ClientError) as caught:
        dynamodb.put_resource_policy(
            ResourceArn=table, Policy=policy(table, "dynamodb:*"), ExpectedRevisionId="123"
        )
    assert code(caught) == "PolicyNotFoundException"
    assert dynamodb.get_resource_policy(ResourceArn=table)["Policy"] == policy(table)
    second = dynamodb.put_resource_policy(
        ResourceArn=table, Policy=policy(table, "dynamodb:*"), ExpectedRevisionId=first
    )["RevisionId"]
    assert second != first
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=first)
    assert code(caught) == "PolicyNotFoundException"
    deleted = dynamodb.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=second)
    assert deleted["RevisionId"] == second
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_resource_policy(ResourceArn=table)
    assert code(caught) == "PolicyNotFoundException"


def test_refusals(dynamodb: Any, table: str, unique_name: str) -> None:
    missing = table.rsplit("/", 1)[0] + "/" + unique_name + "-missing"
    with pytest.raises(ClientError) as caught:
        dynamodb.put_resource_policy(ResourceArn=missing, Policy=policy(missing))
    assert code(caught) == "ResourceNotFoundException"
    no_principal = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table}],
        }
    )
    for bad in ("not json", no_principal):
        with pytest.raises(ClientError) as caught:
            dynamodb.put_resource_policy(ResourceArn=table, Policy=bad)
        assert code(caught) == "ValidationException"
    with pytest.raises(ClientError) as caught:
        dynamodb.get_resource_policy(ResourceArn=table)
    assert code(caught) == "PolicyNotFoundException"


def test_a_recreated_table_has_no_policy(dynamodb: Any, unique_name: str) -> None:
    spec: dict[str, Any] = {
        "TableName": unique_name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    arn = dynamodb.create_table(**spec)["TableDescription"]["TableArn"]
    dynamodb.put_resource_policy(ResourceArn=arn, Policy=policy(arn))
    dynamodb.delete_table(TableName=unique_name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=unique_name, WaiterConfig={"Delay": 1})
    dynamodb.create_table(**spec)
    try:
        with pytest.raises(ClientError) as caught:
            dynamodb.get_resource_policy(ResourceArn=arn)
        assert code(caught) == "PolicyNotFoundException"
    finally:
        dynamodb.delete_table(TableName=unique_name)
