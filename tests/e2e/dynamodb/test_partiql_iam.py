"""PartiQL under IAM: the PartiQL actions, and ``dynamodb:FullTableScan`` on scans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.server import RunningServer

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "dynamodb:PartiQLSelect",
            "Resource": "*",
            "Condition": {"Bool": {"dynamodb:FullTableScan": "true"}},
        },
        {"Effect": "Deny", "Action": "dynamodb:PartiQLDelete", "Resource": "*"},
    ],
}


def test_full_scans_and_actions_are_authorized(
    server: RunningServer, dynamodb: Any, table: str, unique_name: str
) -> None:
    iam = client(server, "iam")
    iam.create_user(UserName=unique_name)
    iam.put_user_policy(
        UserName=unique_name, PolicyName="partiql", PolicyDocument=json.dumps(POLICY)
    )
    key = iam.create_access_key(UserName=unique_name)["AccessKey"]
    user = signed_as(server, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})

    keyed = user.execute_statement(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'a'")
    assert len(keyed["Items"]) == 1
    user.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'sk': '1'}}")
    for statement in (
        f'SELECT * FROM "{table}"',
        f"SELECT * FROM \"{table}\" WHERE sk = '1'",
        f"DELETE FROM \"{table}\" WHERE pk = 'a' AND sk = '1'",
    ):
        with pytest.raises(ClientError) as caught:
            user.execute_statement(Statement=statement)
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException", statement
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
