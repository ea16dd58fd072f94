"""Identities are durable: kill -9 keeps users, keys, groups, policies and roles; and
temporary credentials expire by the server's clock, across a restart too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strata.remote import Credentials as RemoteCredentials
from strata.remote import Remote
from tests.conftest import client
from tests.e2e.iam.conftest import ALLOW_S3, error_of, signed_as
from tests.server import start_server

ACCOUNT = "000000000000"


def test_kill_9_keeps_users_keys_and_policies(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        iam = client(server, "iam")
        iam.create_user(UserName="kept", Path="/p/")
        key = iam.create_access_key(UserName="kept")["AccessKey"]
        iam.create_group(GroupName="crew")
        iam.add_user_to_group(GroupName="crew", UserName="kept")
        arn = iam.create_policy(PolicyName="s3all", PolicyDocument=ALLOW_S3)["Policy"]["Arn"]
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_S3, SetAsDefault=True)
        iam.attach_group_policy(GroupName="crew", PolicyArn=arn)
        iam.put_user_policy(UserName="kept", PolicyName="inline", PolicyDocument=ALLOW_S3)
        trust = {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ]
        }
        iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))
        # The last acknowledged write before the kill: the key's status.
        iam.update_access_key(UserName="kept", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    finally:
        server.kill()

    server = start_server(data_dir, port=server.port)
    try:
        iam = client(server, "iam")
        user = iam.get_user(UserName="kept")["User"]
        assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/p/kept"
        keys = iam.list_access_keys(UserName="kept")["AccessKeyMetadata"]
        assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(key["AccessKeyId"], "Inactive")]
        assert [u["UserName"] for u in iam.get_group(GroupName="crew")["Users"]] == ["kept"]
        assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
        assert iam.list_attached_group_policies(GroupName="crew")["AttachedPolicies"] == [
            {"PolicyName": "s3all", "PolicyArn": arn}
        ]
        assert iam.list_user_policies(UserName="kept")["PolicyNames"] == ["inline"]
        assert iam.get_role(RoleName="worker")["Role"]["AssumeRolePolicyDocument"] == trust
        sts = signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        with pytest.raises(ClientError) as caught:
            sts.get_caller_identity()  # still Inactive after the restart
        assert error_of(caught)[0] == "InvalidClientTokenId"
        iam.update_access_key(UserName="kept", AccessKeyId=key["AccessKeyId"], Status="Active")
        assert sts.get_caller_identity()["Arn"] == user["Arn"]
    finally:
        server.stop()


def _session(server: Any, user: str) -> dict[str, str]:
    iam = client(server, "iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    iam.create_role(RoleName="short", AssumeRolePolicyDocument=json.dumps(trust))
    sts = signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    credentials: dict[str, str] = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/short", RoleSessionName="brief", DurationSeconds=900
    )["Credentials"]
    return credentials


def test_assumed_role_credentials_survive_a_restart_and_expire_by_the_store_clock(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        credentials = _session(server, "temp")
    finally:
        server.kill()
    session = (
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    server = start_server(data_dir, port=server.port)
    try:
        # Issued before the kill, still valid after it.
        identity = signed_as(server, "sts", *session).get_caller_identity()
        assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/short/brief"
        remote = Remote(server.endpoint, RemoteCredentials(server.access_key, server.secret_key))
        remote.clock({"advance_s": 901})  # past the 900 s the session was issued for
        with pytest.raises(ClientError) as caught:
            signed_as(server, "s3", *session).list_buckets()
        assert error_of(caught) == ("ExpiredToken", 400, "The provided token has expired.")
        with pytest.raises(ClientError) as caught:
            signed_as(server, "dynamodb", *session).list_tables()
        assert error_of(caught) == (
            "ExpiredTokenException",
            400,
            "The security token included in the request is expired",
        )
        with pytest.raises(ClientError) as caught:
            signed_as(server, "sts", *session).get_caller_identity()
        assert error_of(caught) == (
            "ExpiredToken",
            403,
            "The security token included in the request is expired",
        )
    finally:
        server.stop()


def test_access_key_last_used_survives_kill_9_and_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        iam = client(server, "iam")
        iam.create_user(UserName="used")
        key = iam.create_access_key(UserName="used")["AccessKey"]
        never = iam.create_access_key(UserName="used")["AccessKey"]
        sts = signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        sts.get_caller_identity()
        shown = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert (shown["ServiceName"], shown["Region"]) == ("sts", "us-east-1")
    finally:
        server.kill()  # what GetAccessKeyLastUsed answered is on disk

    server = start_server(data_dir, port=server.port)
    try:
        iam = client(server, "iam")
        kept = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert kept == shown
        unused = iam.get_access_key_last_used(AccessKeyId=never["AccessKeyId"])
        assert unused["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
        s3 = signed_as(server, "s3", never["AccessKeyId"], never["SecretAccessKey"])
        with pytest.raises(ClientError):
            s3.list_buckets()  # refused by policy, but signed: the key was used
    finally:
        server.stop()  # a clean stop writes what was noted since the last pass

    server = start_server(data_dir, port=server.port)
    try:
        iam = client(server, "iam")
        used = iam.get_access_key_last_used(AccessKeyId=never["AccessKeyId"])["AccessKeyLastUsed"]
        assert (used["ServiceName"], used["Region"]) == ("s3", "us-east-1")
        assert used["LastUsedDate"] >= shown["LastUsedDate"]
        iam.delete_access_key(UserName="used", AccessKeyId=never["AccessKeyId"])
        with pytest.raises(ClientError) as caught:
            iam.get_access_key_last_used(AccessKeyId=never["AccessKeyId"])
        assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    finally:
        server.stop()
