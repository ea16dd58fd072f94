"""An IAM user sees and changes only what its policies allow, end to end with boto3: S3
objects, listings, multi-object delete, copy; DynamoDB items, queries on an index, batches
and transactions; explicit deny beats allow; conditions on prefix, IP and leading keys.
Every denial changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.s3.conftest import empty_bucket
from tests.server import RunningServer


@pytest.fixture(scope="module")
def iam(server: RunningServer) -> Any:
    return client(server, "iam")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def denied(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


class User:
    def __init__(self, iam: Any, server: RunningServer, statements: list[dict[str, Any]]) -> None:
        self.iam = iam
        self.name = f"u-{uuid.uuid4().hex[:10]}"
        self.arn = iam.create_user(UserName=self.name)["User"]["Arn"]
        iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=policy(*statements))
        key = iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key_id = key["AccessKeyId"]
        self.s3 = signed_as(
            server,
            "s3",
            key["AccessKeyId"],
            key["SecretAccessKey"],
            s3={"addressing_style": "path"},
        )
        self.dynamodb = signed_as(server, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])

    def remove(self) -> None:
        self.iam.delete_access_key(UserName=self.name, AccessKeyId=self.key_id)
        self.iam.delete_user_policy(UserName=self.name, PolicyName="p")
        self.iam.delete_user(UserName=self.name)


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    for key in ("home/alice/a.txt", "home/alice/b.txt", "home/bob/c.txt", "public/d.txt"):
        s3.put_object(Bucket=unique_name, Key=key, Body=key.encode())
    yield unique_name
    empty_bucket(s3, unique_name)


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_s3_objects_listings_delete_and_copy(
    iam: Any, s3: Any, server: RunningServer, bucket: str
) -> None:
    b = f"arn:aws:s3:::{bucket}"
    user = User(
        iam,
        server,
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{b}/home/alice/*",
            },
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{b}/public/*"},
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": b,
                "Condition": {"StringLike": {"s3:prefix": "home/alice/*"}},
            },
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"{b}/home/alice/b.txt"},
        ],
    )
    try:
        before = keys(s3, bucket)
        assert (
            user.s3.get_object(Bucket=bucket, Key="home/alice/a.txt")["Body"].read()
            == b"home/alice/a.txt"
        )
        with pytest.raises(ClientError) as caught:
            user.s3.get_object(Bucket=bucket, Key="home/bob/c.txt")
        assert denied(caught) == ("AccessDenied", 403)
        message = caught.value.response["Error"]["Message"]
        assert message == (
            f"User: {user.arn} is not authorized to perform: s3:GetObject on resource: "
            f'"{b}/home/bob/c.txt" because no identity-based policy allows the s3:GetObject action'
        )
        with pytest.raises(ClientError) as caught:
            user.s3.put_object(Bucket=bucket, Key="home/bob/x.txt", Body=b"x")
        assert denied(caught) == ("AccessDenied", 403)
        # listing: only with the allowed prefix
        listed = user.s3.list_objects_v2(Bucket=bucket, Prefix="home/alice/")
        assert [o["Key"] for o in listed["Contents"]] == ["home/alice/a.txt", "home/alice/b.txt"]
        for prefix in ("home/", "home/bob/"):
            with pytest.raises(ClientError) as caught:
                user.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
            assert denied(caught) == ("AccessDenied", 403)
        with pytest.raises(ClientError) as caught:
            user.s3.list_buckets()
        assert denied(caught) == ("AccessDenied", 403)
        # multi-object delete: key by key; the explicit deny beats the allow
        result = user.s3.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [
                    {"Key": "home/alice/a.txt"},
                    {"Key": "home/alice/b.txt"},
                    {"Key": "home/bob/c.txt"},
                ]
            },
        )
        assert [d["Key"] for d in result.get("Deleted", [])] == ["home/alice/a.txt"]
        assert sorted((e["Key"], e["Code"]) for e in result["Errors"]) == [
            ("home/alice/b.txt", "AccessDenied"),
            ("home/bob/c.txt", "AccessDenied"),
        ]
        # copy: read on the source and write on the target
        user.s3.copy_object(
            Bucket=bucket,
            Key="home/alice/copy.txt",
            CopySource={"Bucket": bucket, "Key": "public/d.txt"},
        )
        with pytest.raises(ClientError) as caught:
            user.s3.copy_object(
                Bucket=bucket,
                Key="home/alice/stolen.txt",
                CopySource={"Bucket": bucket, "Key": "home/bob/c.txt"},
            )
        assert denied(caught) == ("AccessDenied", 403)
        with pytest.raises(ClientError) as caught:
            user.s3.copy_object(
                Bucket=bucket,
                Key="public/e.txt",
                CopySource={"Bucket": bucket, "Key": "public/d.txt"},
            )
        assert denied(caught) == ("AccessDenied", 403)
        expected = sorted((set(before) - {"home/alice/a.txt"}) | {"home/alice/copy.txt"})
        assert keys(s3, bucket) == expected  # denials changed nothing
    finally:
        user.remove()


def test_policy_changes_apply_at_once(iam: Any, server: RunningServer, bucket: str) -> None:
    user = User(iam, server, [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    try:
        assert (
            user.s3.get_object(Bucket=bucket, Key="public/d.txt")["Body"].read() == b"public/d.txt"
        )
        iam.put_user_policy(
            UserName=user.name,
            PolicyName="p",
            PolicyDocument=policy(
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
                },
            ),
        )
        with pytest.raises(ClientError) as caught:
            user.s3.get_object(Bucket=bucket, Key="public/d.txt")
        assert denied(caught) == ("AccessDenied", 403)
        assert (
            "with an explicit deny in an identity-based policy"
            in caught.value.response["Error"]["Message"]
        )
        iam.put_user_policy(
            UserName=user.name,
            PolicyName="p",
            PolicyDocument=policy(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                },
            ),
        )
        with pytest.raises(ClientError):  # plain HTTP here
            user.s3.get_object(Bucket=bucket, Key="public/d.txt")
    finally:
        user.remove()


def test_bucket_policy_lets_a_named_user_in(
    iam: Any, s3: Any, server: RunningServer, bucket: str
) -> None:
    user = User(iam, server, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}])
    try:
        with pytest.raises(ClientError):
            user.s3.get_object(Bucket=bucket, Key="public/d.txt")
        s3.put_bucket_policy(
            Bucket=bucket,
            Policy=policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user.arn},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/public/*",
                },
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": user.arn},
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
            ),
        )
        assert (
            user.s3.get_object(Bucket=bucket, Key="public/d.txt")["Body"].read() == b"public/d.txt"
        )
        with pytest.raises(ClientError) as caught:
            user.s3.list_objects_v2(Bucket=bucket)
        assert (
            "with an explicit deny in a resource-based policy"
            in caught.value.response["Error"]["Message"]
        )
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
        user.remove()


@pytest.fixture
def table(dynamodb: Any, unique_name: str) -> Iterator[str]:
    dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk in ("alice", "bob"):
        dynamodb.put_item(
            TableName=unique_name, Item={"pk": {"S": pk}, "sk": {"S": "1"}, "g": {"S": "x"}}
        )
    yield unique_name
    dynamodb.delete_table(TableName=unique_name)


def items(dynamodb: Any, table: str) -> list[tuple[str, str]]:
    found = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in found)


def test_dynamodb_items_index_batches_transactions_and_leading_keys(
    iam: Any, dynamodb: Any, server: RunningServer, table: str
) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    user = User(
        iam,
        server,
        [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:UpdateItem",
                ],
                "Resource": arn,
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["alice"]}},
            },
            {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{arn}/index/byg"},
            {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
        ],
    )
    try:
        before = items(dynamodb, table)
        key = {"pk": {"S": "alice"}, "sk": {"S": "1"}}
        assert user.dynamodb.get_item(TableName=table, Key=key)["Item"]["pk"] == {"S": "alice"}
        with pytest.raises(ClientError) as caught:
            user.dynamodb.get_item(TableName=table, Key={"pk": {"S": "bob"}, "sk": {"S": "1"}})
        error = caught.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"] == (
            f"User: {user.arn} is not authorized to perform: dynamodb:GetItem on resource: {arn} "
            "because no identity-based policy allows the dynamodb:GetItem action"
        )
        with pytest.raises(ClientError) as caught:
            user.dynamodb.put_item(TableName=table, Item={"pk": {"S": "bob"}, "sk": {"S": "2"}})
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        user.dynamodb.put_item(TableName=table, Item={"pk": {"S": "alice"}, "sk": {"S": "2"}})
        queried = user.dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "alice"}},
        )
        assert queried["Count"] == 2
        with pytest.raises(ClientError):
            user.dynamodb.query(
                TableName=table,
                KeyConditionExpression="#k = :p",
                ExpressionAttributeNames={"#k": "pk"},
                ExpressionAttributeValues={":p": {"S": "bob"}},
            )
        # the index needs its own ARN: allowed there
        assert (
            user.dynamodb.query(
                TableName=table,
                IndexName="byg",
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "x"}},
            )["Count"]
            >= 2
        )
        with pytest.raises(ClientError) as caught:
            user.dynamodb.scan(TableName=table)
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        with pytest.raises(ClientError) as caught:
            user.dynamodb.delete_item(TableName=table, Key=key)
        assert (
            "with an explicit deny in an identity-based policy"
            in caught.value.response["Error"]["Message"]
        )
        # a transaction needs each item's own action on its table: no TransactWriteItems grant
        with pytest.raises(ClientError) as caught:
            user.dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "alice"}, "sk": {"S": "3"}}}},
                    {"Delete": {"TableName": table, "Key": key}},
                ]
            )
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        after = items(dynamodb, table)
        assert after == sorted([*before, ("alice", "2")])  # denials changed nothing
    finally:
        user.remove()
