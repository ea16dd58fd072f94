"""Fixtures for the DynamoDB end-to-end tests: tables made fresh per test, resource layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.server import RunningServer


@pytest.fixture(scope="session")
def ddb_resource(server: RunningServer) -> Any:
    return boto3.resource(
        "dynamodb",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def make_table(
    dynamodb: Any,
    name: str,
    hash_key: tuple[str, str] = ("pk", "S"),
    range_key: tuple[str, str] | None = ("sk", "S"),
    types: dict[str, str] | None = None,
    **extra: Any,
) -> str:
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    attrs = {hash_key[0]: hash_key[1]}
    if range_key is not None:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        attrs[range_key[0]] = range_key[1]
    indexes = extra.get("GlobalSecondaryIndexes", []) + extra.get("LocalSecondaryIndexes", [])
    for index in indexes:
        for element in index["KeySchema"]:
            attribute = element["AttributeName"]
            attrs.setdefault(attribute, (types or {}).get(attribute, "S"))
    dynamodb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )
    return name


@pytest.fixture
def table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    """A table with a string hash key ``pk`` and string range key ``sk``."""
    yield make_table(dynamodb, unique_name)
    try:
        dynamodb.delete_table(TableName=unique_name)
    except ClientError:
        pass


@pytest.fixture
def num_table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    """A table with a string hash key ``pk`` and numeric range key ``n``."""
    yield make_table(dynamodb, unique_name, range_key=("n", "N"))
    try:
        dynamodb.delete_table(TableName=unique_name)
    except ClientError:
        pass


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = caught.value.response["Error"]
    return err["Code"], err["Message"]
