"""Managed policies with versions, inline policies and attachments through boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import ALLOW_S3, error_of

READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}],
}


def test_managed_policy_and_versions(iam: Any, unique_name: str) -> None:
    policy = iam.create_policy(
        PolicyName=unique_name, PolicyDocument=ALLOW_S3, Path="/p/", Description="d"
    )["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/p/{unique_name}"
    assert (policy["DefaultVersionId"], policy["AttachmentCount"]) == ("v1", 0)
    assert policy["PolicyId"].startswith("ANPA")
    with pytest.raises(ClientError) as caught:
        iam.create_policy(PolicyName=unique_name, PolicyDocument=ALLOW_S3)
    assert error_of(caught) == (
        "EntityAlreadyExists",
        409,
        f"A policy called {unique_name} already exists. Duplicate names are not allowed.",
    )
    v2 = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(READ), SetAsDefault=True
    )["PolicyVersion"]
    assert (v2["VersionId"], v2["IsDefaultVersion"]) == ("v2", True)
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"] == READ  # boto3 decodes IAM's URL-encoded document
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_S3)
    with pytest.raises(ClientError) as caught:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_S3)
    assert error_of(caught)[:2] == ("LimitExceeded", 409)
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    with pytest.raises(ClientError) as caught:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete the default version of a policy.",
    )
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught)[:2] == ("DeleteConflict", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    for version in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    with pytest.raises(ClientError) as caught:
        iam.get_policy_version(PolicyArn=arn, VersionId="v9")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", PathPrefix="/p/")["Policies"]]
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.get_policy(PolicyArn=arn)
    assert error_of(caught) == ("NoSuchEntity", 404, f"Policy {arn} was not found.")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17"}), None),
        (json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}), None),
    ],
)
def test_malformed_policy_documents(
    iam: Any, unique_name: str, document: str, message: str | None
) -> None:
    with pytest.raises(ClientError) as caught:
        iam.create_policy(PolicyName=unique_name, PolicyDocument=document)
    code, status, text = error_of(caught)
    assert (code, status) == ("MalformedPolicyDocument", 400)
    if message is not None:
        assert text == message
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=f"arn:aws:iam::000000000000:policy/{unique_name}")


def test_attach_detach_and_list(iam: Any, user: str, unique_name: str) -> None:
    arn = iam.create_policy(PolicyName=unique_name, PolicyDocument=ALLOW_S3)["Policy"]["Arn"]
    iam.create_group(GroupName=unique_name)
    try:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
        iam.attach_group_policy(GroupName=unique_name, PolicyArn=arn)
        assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
            {"PolicyName": unique_name, "PolicyArn": arn}
        ]
        assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
        assert [g["GroupName"] for g in entities["PolicyGroups"]] == [unique_name]
        only = iam.list_policies(OnlyAttached=True, Scope="Local")["Policies"]
        assert arn in [p["Arn"] for p in only]
        with pytest.raises(ClientError) as caught:
            iam.delete_policy(PolicyArn=arn)
        assert error_of(caught) == (
            "DeleteConflict",
            409,
            "Cannot delete a policy attached to entities.",
        )
        with pytest.raises(ClientError) as caught:
            iam.delete_user(UserName=user)
        assert error_of(caught) == (
            "DeleteConflict",
            409,
            "Cannot delete entity, must detach all policies first.",
        )
        iam.detach_user_policy(UserName=user, PolicyArn=arn)
        with pytest.raises(ClientError) as caught:
            iam.detach_user_policy(UserName=user, PolicyArn=arn)
        assert error_of(caught) == ("NoSuchEntity", 404, f"Policy {arn} was not found.")
        iam.detach_group_policy(GroupName=unique_name, PolicyArn=arn)
        assert iam.list_attached_group_policies(GroupName=unique_name)["AttachedPolicies"] == []
        missing = "arn:aws:iam::000000000000:policy/not-there"
        with pytest.raises(ClientError) as caught:
            iam.attach_user_policy(UserName=user, PolicyArn=missing)
        assert error_of(caught) == (
            "NoSuchEntity",
            404,
            f"Policy {missing} does not exist or is not attachable.",
        )
    finally:
        iam.delete_group(GroupName=unique_name)
        iam.delete_policy(PolicyArn=arn)


def test_inline_policies_of_users_groups_and_roles(iam: Any, user: str, unique_name: str) -> None:
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(READ))
    got = iam.get_user_policy(UserName=user, PolicyName="read")
    assert (got["UserName"], got["PolicyName"], got["PolicyDocument"]) == (user, "read", READ)
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["read"]
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_user_policy(UserName=user, PolicyName="read")
    with pytest.raises(ClientError) as caught:
        iam.get_user_policy(UserName=user, PolicyName="read")
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        "The user policy with name read cannot be found.",
    )
    with pytest.raises(ClientError) as caught:
        iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument="[]")
    assert error_of(caught)[:2] == ("MalformedPolicyDocument", 400)

    iam.create_group(GroupName=unique_name)
    iam.put_group_policy(GroupName=unique_name, PolicyName="g", PolicyDocument=ALLOW_S3)
    assert iam.list_group_policies(GroupName=unique_name)["PolicyNames"] == ["g"]
    assert iam.get_group_policy(GroupName=unique_name, PolicyName="g")["GroupName"] == unique_name
    iam.delete_group_policy(GroupName=unique_name, PolicyName="g")
    iam.delete_group(GroupName=unique_name)
    with pytest.raises(ClientError) as caught:
        iam.put_group_policy(GroupName=unique_name, PolicyName="g", PolicyDocument=ALLOW_S3)
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The group with name {unique_name} cannot be found.",
    )


def test_aws_managed_policies_attach_and_stay_read_only(iam: Any, user: str) -> None:
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["PolicyName"], policy["DefaultVersionId"]) == ("AmazonS3ReadOnlyAccess", "v3")
    document = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"]
    assert document["Statement"][0]["Action"][:2] == ["s3:Get*", "s3:List*"]
    listed = [p["Arn"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert "arn:aws:iam::aws:policy/AdministratorAccess" in listed
    assert arn in listed
    assert arn not in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": arn}
    ]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as caught:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_S3)
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NoSuchManagedPolicy")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
