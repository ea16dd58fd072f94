"""Identities and the policy engine together: what a user, a group member and an
assumed-role session may do follows their policies, a session policy narrows a role,
and trusting the account hands AssumeRole to the caller's identity policies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import error_of, signed_as
from tests.server import RunningServer

ACCOUNT = "000000000000"


def allow(actions: list[str], resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def keys_of(iam: Any, user: str) -> tuple[str, str]:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_user_does_what_its_policies_allow(
    server: RunningServer, iam: Any, user: str, unique_name: str
) -> None:
    iam.put_user_policy(
        UserName=user,
        PolicyName="admin-lite",
        PolicyDocument=allow(["iam:ListUsers", "iam:GetUser"]),
    )
    as_user = signed_as(server, "iam", *keys_of(iam, user))
    assert user in [u["UserName"] for u in as_user.list_users()["Users"]]
    with pytest.raises(ClientError) as caught:
        as_user.create_user(UserName=unique_name + "-x")
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError):
        iam.get_user(UserName=unique_name + "-x")  # nothing was created


def test_group_membership_grants_an_aws_managed_policy(
    server: RunningServer, iam: Any, s3: Any, user: str, unique_name: str
) -> None:
    iam.create_group(GroupName=unique_name)
    iam.attach_group_policy(
        GroupName=unique_name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    s3.create_bucket(Bucket=unique_name)
    try:
        as_user = signed_as(server, "s3", *keys_of(iam, user))
        with pytest.raises(ClientError) as caught:
            as_user.list_buckets()  # not yet a member
        assert error_of(caught)[:2] == ("AccessDenied", 403)
        iam.add_user_to_group(GroupName=unique_name, UserName=user)
        assert unique_name in [b["Name"] for b in as_user.list_buckets()["Buckets"]]
        with pytest.raises(ClientError) as caught:
            as_user.put_object(Bucket=unique_name, Key="k", Body=b"x")
        assert error_of(caught)[:2] == ("AccessDenied", 403)
        iam.remove_user_from_group(GroupName=unique_name, UserName=user)
        with pytest.raises(ClientError):
            as_user.list_buckets()  # the change applies at once
    finally:
        s3.delete_bucket(Bucket=unique_name)
        iam.detach_group_policy(
            GroupName=unique_name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        )
        iam.delete_group(GroupName=unique_name)


def test_session_policy_narrows_the_role(
    server: RunningServer, iam: Any, s3: Any, user: str, unique_name: str
) -> None:
    role = unique_name + "-admin"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    user_sts = signed_as(server, "sts", *keys_of(iam, user))
    try:
        # The trust names the account: the user's own policies must allow sts:AssumeRole.
        with pytest.raises(ClientError) as caught:
            user_sts.assume_role(RoleArn=role_arn, RoleSessionName="nope")
        assert error_of(caught)[:2] == ("AccessDenied", 403)
        iam.put_user_policy(
            UserName=user, PolicyName="assume", PolicyDocument=allow(["sts:AssumeRole"], role_arn)
        )
        full = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="full")["Credentials"]
        narrow = user_sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName="narrow",
            Policy=allow(["s3:ListAllMyBuckets"]),
        )["Credentials"]

        def s3_as(credentials: dict[str, Any]) -> Any:
            return signed_as(
                server,
                "s3",
                credentials["AccessKeyId"],
                credentials["SecretAccessKey"],
                credentials["SessionToken"],
            )

        s3_as(full).create_bucket(Bucket=unique_name)  # the role may do anything
        assert unique_name in [b["Name"] for b in s3_as(narrow).list_buckets()["Buckets"]]
        with pytest.raises(ClientError) as caught:
            s3_as(narrow).delete_bucket(Bucket=unique_name)
        assert error_of(caught)[:2] == ("AccessDenied", 403)
        s3.head_bucket(Bucket=unique_name)  # the denied delete changed nothing
    finally:
        try:
            s3.delete_bucket(Bucket=unique_name)
        except ClientError:
            pass
        iam.detach_role_policy(
            RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        iam.delete_role(RoleName=role)
