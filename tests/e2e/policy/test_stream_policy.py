"""Resource-based policies on DynamoDB streams: PutResourcePolicy on the stream's ARN, and
its evaluation for the Streams calls; the table's policy does not govern its stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import error_of, remove_user, signed_as
from tests.e2e.policy.test_stream_access import streamed_table
from tests.server import RunningServer


@pytest.fixture(scope="module")
def iam(server: RunningServer) -> Any:
    return client(server, "iam")


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def table(dynamodb: Any, unique_name: str) -> Iterator[dict[str, Any]]:
    yield streamed_table(dynamodb, unique_name)
    dynamodb.delete_table(TableName=unique_name)


@pytest.fixture
def reader(server: RunningServer, iam: Any) -> Iterator[tuple[str, Any]]:
    """A user with no identity policy at all, and its Streams client."""
    name = f"u-{uuid.uuid4().hex[:10]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    yield arn, signed_as(server, "dynamodbstreams", key["AccessKeyId"], key["SecretAccessKey"])
    remove_user(iam, name)


def read_stream(streams: Any, arn: str) -> list[Any]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[Any] = streams.get_records(ShardIterator=iterator)["Records"]
    return records


def test_a_stream_policy_lets_a_user_read_that_stream(
    dynamodb: Any, table: dict[str, Any], reader: tuple[str, Any]
) -> None:
    user_arn, streams = reader
    stream_arn = table["LatestStreamArn"]
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=stream_arn)
    assert error_of(caught)[:2] == ("AccessDeniedException", 400)
    text = document({
        "Effect": "Allow", "Principal": {"AWS": user_arn},
        "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                   "dynamodb:GetRecords"],
        "Resource": stream_arn,
    })  # fmt: skip
    revision = dynamodb.put_resource_policy(ResourceArn=stream_arn, Policy=text)["RevisionId"]
    got = dynamodb.get_resource_policy(ResourceArn=stream_arn)
    assert (got["Policy"], got["RevisionId"]) == (text, revision)
    with pytest.raises(ClientError) as caught:  # the table has no policy of its own
        dynamodb.get_resource_policy(ResourceArn=table["TableArn"])
    assert error_of(caught)[0] == "PolicyNotFoundException"
    assert [r["eventName"] for r in read_stream(streams, stream_arn)] == ["INSERT"]
    # a table policy denying the user everything governs the table, not its stream
    dynamodb.put_resource_policy(
        ResourceArn=table["TableArn"],
        Policy=document({
            "Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "dynamodb:*",
            "Resource": "*",
        }),
    )  # fmt: skip
    assert [r["eventName"] for r in read_stream(streams, stream_arn)] == ["INSERT"]
    dynamodb.delete_resource_policy(ResourceArn=stream_arn)
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=stream_arn)
    assert error_of(caught)[:2] == ("AccessDeniedException", 400)
    dynamodb.delete_resource_policy(ResourceArn=table["TableArn"])


def test_a_stream_policy_needs_a_stream_that_exists(dynamodb: Any, table: dict[str, Any]) -> None:
    text = document({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "dynamodb:DescribeStream", "Resource": "*",
    })  # fmt: skip
    missing = table["TableArn"] + "/stream/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as caught:
        dynamodb.put_resource_policy(ResourceArn=missing, Policy=text)
    assert error_of(caught) == (
        "ResourceNotFoundException", 400,
        f"Requested resource not found: ResourcePolicy for {missing}",
    )  # fmt: skip
    with pytest.raises(ClientError) as caught:
        dynamodb.get_resource_policy(ResourceArn=table["LatestStreamArn"])
    assert error_of(caught)[0] == "PolicyNotFoundException"
