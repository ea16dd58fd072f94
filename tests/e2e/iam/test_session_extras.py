"""AssumeRole's PolicyArns, session tags (aws:PrincipalTag, TransitiveTagKeys through role
chaining) and SourceIdentity, with the trust policy's sts:TagSession and
sts:SetSourceIdentity, and STS's errors for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import error_of, signed_as
from tests.e2e.s3.conftest import empty_bucket
from tests.server import RunningServer

ACCOUNT = "000000000000"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trusting(principal: str, *actions: str) -> str:
    return document({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": list(actions)})


def as_session(server: RunningServer, service: str, credentials: dict[str, Any]) -> Any:
    return signed_as(
        server, service, credentials["AccessKeyId"], credentials["SecretAccessKey"],
        credentials["SessionToken"], s3={"addressing_style": "path"},
    )  # fmt: skip


@pytest.fixture
def caller(server: RunningServer, iam: Any, user: str) -> Any:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    for key in ("red/a.txt", "blue/b.txt"):
        s3.put_object(Bucket=unique_name, Key=key, Body=key.encode())
    yield unique_name
    empty_bucket(s3, unique_name)


@pytest.fixture
def role(iam: Any, unique_name: str, user: str, bucket: str) -> Iterator[str]:
    """A role that may read the bucket's objects under its session's team tag."""
    name = f"{unique_name}-role"
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=trusting(
            user_arn, "sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"
        ),
        Tags=[{"Key": "team", "Value": "blue"}],
    )
    iam.put_role_policy(
        RoleName=name,
        PolicyName="by-team",
        PolicyDocument=document({
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{bucket}/${{aws:PrincipalTag/team}}/*",
        }),
    )  # fmt: skip
    yield f"arn:aws:iam::{ACCOUNT}:role/{name}"
    iam.delete_role_policy(RoleName=name, PolicyName="by-team")
    iam.delete_role(RoleName=name)


def test_session_tags_become_principal_tags_over_the_roles(
    server: RunningServer, caller: Any, role: str, bucket: str
) -> None:
    plain = caller.assume_role(RoleArn=role, RoleSessionName="plain")["Credentials"]
    s3 = as_session(server, "s3", plain)
    assert s3.get_object(Bucket=bucket, Key="blue/b.txt")["Body"].read() == b"blue/b.txt"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="red/a.txt")
    tagged = caller.assume_role(
        RoleArn=role, RoleSessionName="tagged", Tags=[{"Key": "Team", "Value": "red"}]
    )
    assert 0 < tagged["PackedPolicySize"] <= 100
    s3 = as_session(server, "s3", tagged["Credentials"])
    assert s3.get_object(Bucket=bucket, Key="red/a.txt")["Body"].read() == b"red/a.txt"
    with pytest.raises(ClientError):  # the role's own team tag gave way to the session's
        s3.get_object(Bucket=bucket, Key="blue/b.txt")


def test_policy_arns_narrow_the_session(
    server: RunningServer, iam: Any, caller: Any, role: str, bucket: str, unique_name: str
) -> None:
    arn = iam.create_policy(
        PolicyName=f"{unique_name}-read",
        PolicyDocument=document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
    )["Policy"]["Arn"]
    try:
        granted = caller.assume_role(
            RoleArn=role, RoleSessionName="narrow", PolicyArns=[{"arn": arn}]
        )
        assert "PackedPolicySize" in granted
        s3 = as_session(server, "s3", granted["Credentials"])
        assert s3.get_object(Bucket=bucket, Key="blue/b.txt")["Body"].read() == b"blue/b.txt"
        with pytest.raises(ClientError) as caught:  # the role allows it; the session not
            s3.put_object(Bucket=bucket, Key="blue/new.txt", Body=b"x")
        code, status, message = error_of(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert message.endswith("because no session policy allows the s3:PutObject action")
        denying = caller.assume_role(
            RoleArn=role, RoleSessionName="denying", PolicyArns=[{"arn": arn}],
            Policy=document({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}),
        )  # fmt: skip
        s3 = as_session(server, "s3", denying["Credentials"])
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key="blue/b.txt")
        assert error_of(caught)[2].endswith("with an explicit deny in a session policy")
        with pytest.raises(ClientError) as caught:
            caller.assume_role(RoleArn=role, RoleSessionName="many", PolicyArns=[{"arn": arn}] * 11)
        assert error_of(caught)[:2] == ("ValidationError", 400)
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_transitive_tags_and_source_identity_carry_over_a_chain(
    server: RunningServer, iam: Any, caller: Any, role: str, unique_name: str
) -> None:
    second = f"{unique_name}-next"
    iam.create_role(
        RoleName=second,
        AssumeRolePolicyDocument=trusting(role, "sts:AssumeRole", "sts:TagSession"),
    )
    try:
        first = caller.assume_role(
            RoleArn=role, RoleSessionName="hop1", SourceIdentity="alice-laptop",
            Tags=[{"Key": "project", "Value": "apollo"}, {"Key": "cost", "Value": "1"}],
            TransitiveTagKeys=["project"],
        )  # fmt: skip
        assert first["SourceIdentity"] == "alice-laptop"
        hop = as_session(server, "sts", first["Credentials"])
        target = f"arn:aws:iam::{ACCOUNT}:role/{second}"
        chained = hop.assume_role(RoleArn=target, RoleSessionName="hop2")
        assert chained["SourceIdentity"] == "alice-laptop"
        with pytest.raises(ClientError) as caught:
            hop.assume_role(
                RoleArn=target, RoleSessionName="hop3", Tags=[{"Key": "Project", "Value": "x"}]
            )
        assert error_of(caught)[:2] == ("InvalidParameterValue", 400)
        with pytest.raises(ClientError) as caught:
            hop.assume_role(RoleArn=target, RoleSessionName="hop4", SourceIdentity="bob")
        assert error_of(caught)[:2] == ("InvalidParameterValue", 400)
    finally:
        iam.delete_role(RoleName=second)


def test_refusals(iam: Any, caller: Any, role: str, unique_name: str, user: str) -> None:
    with pytest.raises(ClientError) as caught:
        caller.assume_role(
            RoleArn=role, RoleSessionName="dup",
            Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
        )  # fmt: skip
    assert error_of(caught) == (
        "InvalidParameterValue", 400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )  # fmt: skip
    with pytest.raises(ClientError) as caught:
        caller.assume_role(
            RoleArn=role, RoleSessionName="tt", Tags=[{"Key": "a", "Value": "1"}],
            TransitiveTagKeys=["b"],
        )  # fmt: skip
    assert error_of(caught)[:2] == ("InvalidParameterValue", 400)
    big = [{"Key": f"k{i:03d}" + "x" * 100, "Value": "v" * 250} for i in range(10)]
    with pytest.raises(ClientError) as caught:
        caller.assume_role(RoleArn=role, RoleSessionName="big", Tags=big)
    code, status, message = error_of(caught)
    assert (code, status) == ("PackedPolicyTooLarge", 400)
    assert message.startswith("Packed policy consumes ")
    assert message.endswith("% of allotted space, please use smaller policy for session.")
    # a role whose trust allows AssumeRole alone: no tags, no source identity
    bare = f"{unique_name}-bare"
    iam.create_role(
        RoleName=bare,
        AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:user/{user}", "sts:AssumeRole"),
    )
    try:
        arn = f"arn:aws:iam::{ACCOUNT}:role/{bare}"
        caller.assume_role(RoleArn=arn, RoleSessionName="ok")
        with pytest.raises(ClientError) as caught:
            caller.assume_role(RoleArn=arn, RoleSessionName="tt", Tags=[{"Key": "a", "Value": "1"}])
        code, status, message = error_of(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert f"is not authorized to perform: sts:TagSession on resource: {arn}" in message
        with pytest.raises(ClientError) as caught:
            caller.assume_role(RoleArn=arn, RoleSessionName="ss", SourceIdentity="me")
        assert "sts:SetSourceIdentity" in error_of(caught)[2]
    finally:
        iam.delete_role(RoleName=bare)
