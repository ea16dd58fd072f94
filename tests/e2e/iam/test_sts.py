"""STS: caller identity, AssumeRole with a trust policy, temporary credentials verified
on every later request (header and presigned), GetSessionToken."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import error_of, signed_as
from tests.server import RunningServer

ACCOUNT = "000000000000"


def trust(principal: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def role(iam: Any, unique_name: str, user: str) -> Any:
    name = f"{unique_name}-role"
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/{user}"),
        MaxSessionDuration=7200,
    )
    yield name
    iam.delete_role(RoleName=name)


@pytest.fixture
def user_sts(server: RunningServer, iam: Any, user: str) -> Any:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])


def test_caller_identity_of_root(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity["UserId"] == ACCOUNT


def test_root_may_not_assume_roles(sts: Any, role: str) -> None:
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="s1")
    assert error_of(caught) == ("AccessDenied", 403, "Roles may not be assumed by root accounts.")


def test_assume_role_named_in_the_trust_policy(
    server: RunningServer, iam: Any, user_sts: Any, role: str
) -> None:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    role_id = iam.get_role(RoleName=role)["Role"]["RoleId"]
    assumed = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="job-1", DurationSeconds=900)
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert assumed["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role_id}:job-1",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/job-1",
    }
    session = (
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    identity = signed_as(server, "sts", *session).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/job-1"
    assert identity["UserId"] == f"{role_id}:job-1"

    # The session signs S3 and DynamoDB requests: authenticated, then authorized by the
    # role's policies (none here), so denied as AWS denies, not refused as unknown.
    with pytest.raises(ClientError) as caught:
        signed_as(server, "s3", *session).list_buckets()
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        signed_as(server, "dynamodb", *session).list_tables()
    code, status, message = error_of(caught)
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"assumed-role/{role}/job-1 is not authorized" in message

    wrong = (session[0], session[1], session[2][:-4] + "AAAA")
    with pytest.raises(ClientError) as caught:
        signed_as(server, "s3", *wrong).list_buckets()
    assert error_of(caught) == (
        "InvalidToken",
        400,
        "The provided token is malformed or otherwise invalid.",
    )
    with pytest.raises(ClientError) as caught:
        signed_as(server, "dynamodb", *wrong).list_tables()
    assert error_of(caught)[:2] == ("UnrecognizedClientException", 400)
    with pytest.raises(ClientError) as caught:
        signed_as(server, "s3", session[0], session[1]).list_buckets()  # no token at all
    assert error_of(caught)[:2] == ("InvalidAccessKeyId", 403)


def test_presigned_url_carries_the_session_token(
    server: RunningServer, s3: Any, user_sts: Any, role: str, unique_name: str
) -> None:
    s3.create_bucket(Bucket=unique_name)
    try:
        credentials = user_sts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="presign"
        )["Credentials"]
        session = signed_as(
            server,
            "s3",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
            signature_version="s3v4",
        )
        url = session.generate_presigned_url(
            "get_object", Params={"Bucket": unique_name, "Key": "k"}
        )
        assert "X-Amz-Security-Token=" in url
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url, timeout=10)
        assert denied.value.code == 403
        assert b"<Code>AccessDenied</Code>" in denied.value.read()
        denied.value.close()
        # SigV2 (boto3's default presigner for S3) carries the token too.
        legacy = signed_as(
            server,
            "s3",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
            signature_version="s3",
        ).generate_presigned_url("get_object", Params={"Bucket": unique_name, "Key": "k"})
        assert "x-amz-security-token=" in legacy
        with pytest.raises(urllib.error.HTTPError) as legacy_denied:
            urllib.request.urlopen(legacy, timeout=10)
        assert legacy_denied.value.code == 403
        assert b"<Code>AccessDenied</Code>" in legacy_denied.value.read()
        legacy_denied.value.close()
        tampered = url.replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(tampered, timeout=10)
        assert refused.value.code == 400
        assert b"<Code>InvalidToken</Code>" in refused.value.read()
        refused.value.close()
    finally:
        s3.delete_bucket(Bucket=unique_name)


def test_assume_role_refusals(iam: Any, user_sts: Any, role: str, user: str) -> None:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    with pytest.raises(ClientError) as caught:
        user_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", DurationSeconds=10800)
    assert error_of(caught) == (
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    missing = f"arn:aws:iam::{ACCOUNT}:role/not-a-role"
    with pytest.raises(ClientError) as caught:
        user_sts.assume_role(RoleArn=missing, RoleSessionName="s1")
    assert error_of(caught) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: "
        f"sts:AssumeRole on resource: {missing}",
    )
    # Trusting the account hands the decision to the caller's identity policies: none.
    iam.update_assume_role_policy(
        RoleName=role, PolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:root")
    )
    with pytest.raises(ClientError) as caught:
        user_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught)[:2] == ("AccessDenied", 403)


def test_session_token_acts_as_its_caller(
    server: RunningServer, sts: Any, user_sts: Any, user: str
) -> None:
    credentials = user_sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    as_session = signed_as(
        server,
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    assert as_session.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    with pytest.raises(ClientError) as caught:
        as_session.get_session_token()
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    root_session = sts.get_session_token()["Credentials"]
    s3 = signed_as(
        server,
        "s3",
        root_session["AccessKeyId"],
        root_session["SecretAccessKey"],
        root_session["SessionToken"],
    )
    assert "Buckets" in s3.list_buckets()


def test_role_chaining_names_the_role(
    server: RunningServer, iam: Any, user_sts: Any, role: str
) -> None:
    first = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    second = f"{role}-next"
    iam.create_role(RoleName=second, AssumeRolePolicyDocument=trust(first), MaxSessionDuration=7200)
    try:
        credentials = user_sts.assume_role(RoleArn=first, RoleSessionName="hop1")["Credentials"]
        as_first = signed_as(
            server,
            "sts",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )
        target = f"arn:aws:iam::{ACCOUNT}:role/{second}"
        with pytest.raises(ClientError) as caught:
            as_first.assume_role(RoleArn=target, RoleSessionName="hop2", DurationSeconds=7200)
        assert error_of(caught) == (
            "ValidationError",
            400,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining.",
        )
        chained = as_first.assume_role(RoleArn=target, RoleSessionName="hop2")
        assert chained["AssumedRoleUser"]["Arn"] == (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{second}/hop2"
        )
    finally:
        iam.delete_role(RoleName=second)


def test_a_conditional_trust_statement_grants_when_its_condition_holds(
    iam: Any, user_sts: Any, role: str, user: str
) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "secret-id"}},
    }
    deny_other_sessions = {
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"sts:RoleSessionName": "blocked-*"}},
    }
    iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement, deny_other_sessions]}
        ),
    )
    arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    for extra in ({}, {"ExternalId": "wrong-id"}):
        with pytest.raises(ClientError) as caught:
            user_sts.assume_role(RoleArn=arn, RoleSessionName="s1", **extra)
        assert error_of(caught)[:2] == ("AccessDenied", 403), extra
    granted = user_sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="secret-id")
    assert granted["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role}/s1")
    with pytest.raises(ClientError) as caught:  # the Deny's condition holds: it wins
        user_sts.assume_role(RoleArn=arn, RoleSessionName="blocked-1", ExternalId="secret-id")
    assert error_of(caught)[:2] == ("AccessDenied", 403)
