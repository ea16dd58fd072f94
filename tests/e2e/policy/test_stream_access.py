"""DynamoDB Streams reads are authorized like any call: an IAM user reads a stream only
where its policy allows ``dynamodb:DescribeStream`` / ``GetShardIterator`` /
``GetRecords`` on the stream's ARN (``ListStreams`` on ``*``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.policy.test_user_access import denied, policy
from tests.server import RunningServer


def _streams_client_of_user(iam: Any, server: RunningServer, statements: list[Any]) -> Any:
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return signed_as(server, "dynamodbstreams", key["AccessKeyId"], key["SecretAccessKey"])


def streamed_table(dynamodb: Any, name: str) -> Any:
    """A table with a NEW_IMAGE stream and one item written: its description."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.put_item(TableName=name, Item={"id": {"S": "row"}})
    return dynamodb.describe_table(TableName=name)["Table"]


def test_a_user_reads_only_the_streams_its_policy_allows(
    server: RunningServer, dynamodb: Any, unique_name: str
) -> None:
    table = streamed_table(dynamodb, unique_name)
    arn = table["LatestStreamArn"]
    root_streams = client(server, "dynamodbstreams")
    shard_id = root_streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0][
        "ShardId"
    ]
    iterator = root_streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    iam = client(server, "iam")
    unrelated = [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]
    reads = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
    allowed = [{"Effect": "Allow", "Action": reads, "Resource": f"{table['TableArn']}/stream/*"}]

    def calls(streams: Any) -> list[Callable[[], Any]]:
        return [
            lambda: streams.describe_stream(StreamArn=arn),
            lambda: streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            ),
            lambda: streams.get_records(ShardIterator=iterator),
        ]

    try:
        outsider = _streams_client_of_user(iam, server, unrelated)
        for call in calls(outsider):
            with pytest.raises(ClientError) as caught:
                call()
            assert denied(caught) == ("AccessDeniedException", 400)
        reader = _streams_client_of_user(iam, server, allowed)
        records = [call() for call in calls(reader)][-1]["Records"]
        assert [r["dynamodb"]["Keys"] for r in records] == [{"id": {"S": "row"}}]
        with pytest.raises(ClientError) as caught:
            reader.list_streams()  # not allowed on "*"
        assert denied(caught) == ("AccessDeniedException", 400)
    finally:
        dynamodb.delete_table(TableName=unique_name)
