"""IAM roles: trust policies, session limits, inline and attached policies, tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import ALLOW_S3, error_of, query
from tests.server import RunningServer

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def remove_role(iam: Any, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def test_role_lifecycle(iam: Any, unique_name: str) -> None:
    role = iam.create_role(
        RoleName=unique_name,
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="worker",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "a"}],
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/{unique_name}"
    assert role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName=unique_name)["Role"]
    assert (got["MaxSessionDuration"], got["Description"]) == (7200, "worker")
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    assert unique_name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName=unique_name.upper(), AssumeRolePolicyDocument=json.dumps(TRUST))
    assert error_of(caught) == (
        "EntityAlreadyExists",
        409,
        f"Role with name {unique_name.upper()} already exists.",
    )
    iam.update_role(RoleName=unique_name, MaxSessionDuration=3600)
    assert iam.get_role(RoleName=unique_name)["Role"]["MaxSessionDuration"] == 3600
    narrower = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Effect": "Deny"}]}
    iam.update_assume_role_policy(RoleName=unique_name, PolicyDocument=json.dumps(narrower))
    assert iam.get_role(RoleName=unique_name)["Role"]["AssumeRolePolicyDocument"] == narrower
    iam.tag_role(RoleName=unique_name, Tags=[{"Key": "x", "Value": "y"}])
    iam.untag_role(RoleName=unique_name, TagKeys=["team"])
    assert iam.list_role_tags(RoleName=unique_name)["Tags"] == [{"Key": "x", "Value": "y"}]

    arn = iam.create_policy(PolicyName=unique_name, PolicyDocument=ALLOW_S3)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=unique_name, PolicyArn=arn)
    iam.put_role_policy(RoleName=unique_name, PolicyName="inline", PolicyDocument=ALLOW_S3)
    with pytest.raises(ClientError) as caught:
        iam.delete_role(RoleName=unique_name)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    )
    assert iam.get_role_policy(RoleName=unique_name, PolicyName="inline")["RoleName"] == unique_name
    remove_role(iam, unique_name)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.get_role(RoleName=unique_name)
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The role with name {unique_name} cannot be found.",
    )


def test_role_validation(server: RunningServer, iam: Any, unique_name: str) -> None:
    status, body = query(
        server,
        "iam",
        {
            "Action": "CreateRole",
            "Version": "2010-05-08",
            "RoleName": unique_name,
            "AssumeRolePolicyDocument": json.dumps(TRUST),
            "MaxSessionDuration": "60",
        },
    )
    assert status == 400
    assert "<Type>Sender</Type><Code>ValidationError</Code>" in body
    assert (
        "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy "
        "constraint: Member must have value greater than or equal to 3600" in body
    )
    no_principal = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=json.dumps(no_principal))
    assert error_of(caught)[:2] == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=unique_name)  # nothing was created
