"""Tag keys beginning with ``aws:`` are AWS's own: TagResource and CreateTable refuse them
with a ValidationException and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of

MESSAGE = (
    "One or more parameter values were invalid: Tag key cannot start with the reserved prefix aws:"
)


def test_tag_resource_refuses_aws_prefixed_keys(dynamodb: Any, table: str) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}])
    with pytest.raises(ClientError) as caught:
        dynamodb.tag_resource(
            ResourceArn=arn,
            Tags=[
                {"Key": "owner", "Value": "b"},
                {"Key": "aws:cloudformation:stack", "Value": "s"},
            ],
        )
    assert error_of(caught) == ("ValidationException", MESSAGE)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing of the refused request was applied, not even its valid tag.
    tags = dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "a"}]
    # The prefix only: a key that merely contains it, or a value, is fine.
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "my-aws:key", "Value": "aws:value"}])
    keys = [t["Key"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]]
    assert keys == ["team", "my-aws:key"]


def test_create_table_refuses_aws_prefixed_keys(dynamodb: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(
            TableName=unique_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "aws:x", "Value": "y"}],
        )
    assert error_of(caught) == ("ValidationException", MESSAGE)
    assert unique_name not in dynamodb.list_tables()["TableNames"]
