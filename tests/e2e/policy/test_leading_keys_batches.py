"""``dynamodb:LeadingKeys`` in batches and transactions: every partition key a call
addresses in a table must satisfy the policy (``ForAllValues``), per table and action."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.policy.test_user_access import denied, policy
from tests.server import RunningServer


def test_batches_and_transactions_check_every_leading_key(
    server: RunningServer, dynamodb: Any, unique_name: str
) -> None:
    dynamodb.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table_arn = dynamodb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    iam = client(server, "iam")
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    actions = ["dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
               "dynamodb:GetItem", "dynamodb:DeleteItem"]  # fmt: skip
    statement = {
        "Effect": "Allow",
        "Action": actions,
        "Resource": table_arn,
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
    }
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(statement))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = signed_as(server, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    try:
        mine = {"owner": {"S": name}, "v": {"S": "1"}}
        user.batch_write_item(RequestItems={unique_name: [{"PutRequest": {"Item": mine}}]})
        got = user.batch_get_item(RequestItems={unique_name: {"Keys": [{"owner": {"S": name}}]}})
        assert len(got["Responses"][unique_name]) == 1
        other = {"owner": {"S": "someone-else"}}
        refused = [
            lambda: user.batch_write_item(
                RequestItems={
                    unique_name: [{"PutRequest": {"Item": mine}}, {"PutRequest": {"Item": other}}]
                }
            ),
            lambda: user.batch_get_item(
                RequestItems={unique_name: {"Keys": [{"owner": {"S": name}}, other]}}
            ),
            lambda: user.transact_write_items(
                TransactItems=[{"Put": {"TableName": unique_name, "Item": other}}]
            ),
            lambda: user.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": unique_name, "Item": mine}},
                    {"Delete": {"TableName": unique_name, "Key": other}},
                ]
            ),
        ]
        for call in refused:
            with pytest.raises(ClientError) as caught:
                call()
            assert denied(caught) == ("AccessDeniedException", 400)
        user.transact_write_items(
            TransactItems=[{"Put": {"TableName": unique_name, "Item": {**mine, "v": {"S": "2"}}}}]
        )
        scanned = dynamodb.scan(TableName=unique_name)["Items"]
        assert scanned == [{"owner": {"S": name}, "v": {"S": "2"}}]  # nothing else written
    finally:
        dynamodb.delete_table(TableName=unique_name)
