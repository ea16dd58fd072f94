"""The AWS CLI against the DynamoDB API, and garbage expressions: always a 400, never a 500."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import RunningServer


def aws(server: RunningServer, *args: str) -> Any:
    exe = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
    if not os.path.exists(exe):
        pytest.skip("the AWS CLI is not installed")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    done = subprocess.run(
        [exe, "--endpoint-url", server.endpoint, "--output", "json", "dynamodb", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli(server: RunningServer, unique_name: str) -> None:
    aws(
        server,
        "create-table",
        "--table-name",
        unique_name,
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "AttributeName=sk,AttributeType=N",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "AttributeName=sk,KeyType=RANGE",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    aws(server, "wait", "table-exists", "--table-name", unique_name)
    for n in (3, 1, 2):
        aws(
            server,
            "put-item",
            "--table-name",
            unique_name,
            "--item",
            json.dumps({"pk": {"S": "a"}, "sk": {"N": str(n)}}),
        )
    reply = aws(
        server,
        "query",
        "--table-name",
        unique_name,
        "--key-condition-expression",
        "pk = :p",
        "--expression-attribute-values",
        json.dumps({":p": {"S": "a"}}),
    )
    assert [i["sk"]["N"] for i in reply["Items"]] == ["1", "2", "3"]
    reply = aws(server, "scan", "--table-name", unique_name)
    assert reply["Count"] == 3
    aws(server, "delete-table", "--table-name", unique_name)


TOKENS = [*"abc#:(),.[]<>=0123 ", " AND ", " OR ", "NOT ", "size", "SET ", "REMOVE ", "#a", ":a"]
expression_text = st.lists(st.sampled_from(TOKENS), max_size=16).map("".join)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(condition=expression_text, update=expression_text)
def test_garbage_expressions_are_validation_errors(
    dynamodb: Any, shared_table: str, condition: str, update: str
) -> None:
    status = 200
    code = ""
    try:
        dynamodb.update_item(
            TableName=shared_table,
            Key={"pk": {"S": "fuzz"}, "sk": {"S": "fuzz"}},
            UpdateExpression=update or "SET a = :a",
            ConditionExpression=condition or "attribute_exists(a)",
            ExpressionAttributeNames={"#a": "a"},
            ExpressionAttributeValues={":a": {"N": "1"}},
        )
    except ClientError as exc:
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        code = exc.response["Error"]["Code"]
    assert status in (200, 400)
    assert code in ("", "ValidationException", "ConditionalCheckFailedException")


@pytest.fixture(scope="module")
def shared_table(dynamodb: Any) -> Any:
    from tests.e2e.dynamodb.conftest import make_table

    name = make_table(dynamodb, "fuzz-shared-table")
    yield name
    dynamodb.delete_table(TableName=name)
