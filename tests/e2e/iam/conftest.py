"""Fixtures for the IAM and STS end-to-end tests: boto3 iam/sts clients as root, and
clients that sign with an IAM user's or a session's keys."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.server import RunningServer

ALLOW_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


@pytest.fixture(scope="session")
def iam(server: RunningServer) -> Any:
    return client(server, "iam")


@pytest.fixture(scope="session")
def sts(server: RunningServer) -> Any:
    return client(server, "sts")


def signed_as(
    server: RunningServer,
    service: str,
    key: str,
    secret: str,
    token: str | None = None,
    **config: Any,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


@pytest.fixture
def user(iam: Any, unique_name: str) -> Any:
    """A fresh user (removed with its keys, policies and memberships afterwards)."""
    iam.create_user(UserName=unique_name)
    yield unique_name
    remove_user(iam, unique_name)


def remove_user(iam: Any, name: str) -> None:
    try:
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=policy)
        for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
        for group in iam.list_groups_for_user(UserName=name)["Groups"]:
            iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)
        iam.delete_user(UserName=name)
    except ClientError:
        pass


def query(
    server: RunningServer,
    service: str,
    params: dict[str, str],
    credentials: Credentials | None = None,
) -> tuple[int, str]:
    """One hand-made query-protocol POST, signed for ``service``: what boto3 would refuse to
    send. (status, body text)."""
    body = urllib.parse.urlencode(params).encode()
    request = AWSRequest(
        method="POST",
        url=f"{server.endpoint}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    signer = credentials or Credentials(server.access_key, server.secret_key)
    SigV4Auth(signer, service, "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        request.url, data=body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()
