"""IAM users, tags and access keys through boto3, with AWS's errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import error_of, remove_user, signed_as
from tests.server import RunningServer, start_server

ACCOUNT = "000000000000"


def test_create_get_list_update_delete_user(iam: Any, unique_name: str) -> None:
    created = iam.create_user(
        UserName=unique_name, Path="/team/", Tags=[{"Key": "k", "Value": "v"}]
    )
    user = created["User"]
    assert user["UserName"] == unique_name
    assert user["Path"] == "/team/"
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/{unique_name}"
    assert user["UserId"].startswith("AIDA")
    assert len(user["UserId"]) == 21
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_user(UserName=unique_name.upper())["User"]  # names fold case
    assert (got["UserName"], got["UserId"]) == (unique_name, user["UserId"])
    listed = iam.list_users(PathPrefix="/team/")["Users"]
    assert [u["UserName"] for u in listed] == [unique_name]
    renamed = unique_name + "-2"
    iam.update_user(UserName=unique_name, NewUserName=renamed, NewPath="/other/")
    assert iam.get_user(UserName=renamed)["User"]["Path"] == "/other/"
    with pytest.raises(ClientError) as caught:
        iam.get_user(UserName=unique_name)
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The user with name {unique_name} cannot be found.",
    )
    iam.delete_user(UserName=renamed)
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=renamed)
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)


def test_user_errors(iam: Any, user: str) -> None:
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName=user.upper())
    assert error_of(caught) == (
        "EntityAlreadyExists",
        409,
        f"User with name {user.upper()} already exists.",
    )
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="bad name!")
    assert error_of(caught) == (
        "ValidationError",
        400,
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    )
    iam.create_access_key(UserName=user)
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete access keys first.",
    )


def test_user_tags(iam: Any, user: str) -> None:
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_user(UserName=user, TagKeys=["a"])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_list_users_pages_with_marker(iam: Any, unique_name: str) -> None:
    names = [f"{unique_name}-{i}" for i in range(5)]
    for name in names:
        iam.create_user(UserName=name, Path=f"/{unique_name}/")
    try:
        first = iam.list_users(PathPrefix=f"/{unique_name}/", MaxItems=2)
        assert first["IsTruncated"] is True
        assert [u["UserName"] for u in first["Users"]] == names[:2]
        pages = iam.get_paginator("list_users").paginate(
            PathPrefix=f"/{unique_name}/", PaginationConfig={"PageSize": 2}
        )
        assert [u["UserName"] for page in pages for u in page["Users"]] == names
    finally:
        for name in names:
            remove_user(iam, name)


def test_access_keys_lifecycle(iam: Any, user: str) -> None:
    created = iam.create_access_key(UserName=user)["AccessKey"]
    assert created["AccessKeyId"].startswith("AKIA")
    assert len(created["AccessKeyId"]) == 20
    assert len(created["SecretAccessKey"]) == 40
    assert created["Status"] == "Active"
    second = iam.create_access_key(UserName=user)["AccessKey"]
    with pytest.raises(ClientError) as caught:
        iam.create_access_key(UserName=user)
    assert error_of(caught) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {created["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=user, AccessKeyId=second["AccessKeyId"], Status="Inactive")
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    }
    assert statuses[second["AccessKeyId"]] == "Inactive"
    with pytest.raises(ClientError) as caught:
        iam.update_access_key(UserName=user, AccessKeyId=second["AccessKeyId"], Status="Paused")
    assert error_of(caught)[:2] == ("ValidationError", 400)
    iam.delete_access_key(UserName=user, AccessKeyId=second["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        iam.delete_access_key(UserName=user, AccessKeyId=second["AccessKeyId"])
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The Access Key with id {second['AccessKeyId']} cannot be found.",
    )


def test_user_key_signs_and_inactive_key_stops_at_once(
    server: RunningServer, iam: Any, user: str
) -> None:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = signed_as(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    assert identity["Account"] == ACCOUNT
    assert identity["UserId"] == iam.get_user(UserName=user)["User"]["UserId"]
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert used["UserName"] == user
    assert used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert used["AccessKeyLastUsed"]["Region"] == "us-east-1"
    assert "LastUsedDate" in used["AccessKeyLastUsed"]

    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert time.monotonic() - started < 5  # refused on the first request after the update
    assert error_of(caught) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )
    s3 = signed_as(server, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as s3_caught:
        s3.list_buckets()
    assert s3_caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{user}")
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"


def test_user_without_policies_is_denied(server: RunningServer, iam: Any, user: str) -> None:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    as_user = signed_as(server, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        as_user.list_users()
    assert error_of(caught) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: iam:ListUsers "
        f"on resource: arn:aws:iam::{ACCOUNT}:user/ because no identity-based policy allows "
        "the iam:ListUsers action",
    )
    # The caller's own keys, by omitting UserName, still need iam:ListAccessKeys.
    with pytest.raises(ClientError) as caught:
        as_user.list_access_keys()
    assert error_of(caught)[:2] == ("AccessDenied", 403)


def test_get_user_without_name_is_the_caller(iam: Any) -> None:
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["UserId"] == ACCOUNT


def test_root_manages_its_own_keys_without_a_user_name(tmp_path: Path) -> None:
    """The root's keys through IAM are the key file `strata keys` manages."""
    server = start_server(tmp_path / "data")
    try:
        iam = client(server, "iam")
        listed = iam.list_access_keys()["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in listed] == [server.access_key]
        created = iam.create_access_key()["AccessKey"]
        assert "UserName" not in created
        as_root = signed_as(server, "s3", created["AccessKeyId"], created["SecretAccessKey"])
        assert "Buckets" in as_root.list_buckets()  # a root key may do anything
        with pytest.raises(ClientError) as caught:
            iam.create_access_key()
        assert error_of(caught) == (
            "LimitExceeded",
            409,
            "Cannot exceed quota for AccessKeysPerUser: 2",
        )
        shown = subprocess.run(
            [
                sys.executable,
                "-m",
                "strata.cli",
                "keys",
                "list",
                "--data-dir",
                str(server.data_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert created["AccessKeyId"] in shown.stdout
        with pytest.raises(ClientError) as caught:
            iam.delete_access_key(AccessKeyId=server.access_key)
        assert error_of(caught)[:2] == ("DeleteConflict", 409)
        iam.delete_access_key(AccessKeyId=created["AccessKeyId"])
        with pytest.raises(ClientError) as caught:
            as_root.list_buckets()  # at once: the server wrote the file and re-read it
        assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    finally:
        server.stop()
