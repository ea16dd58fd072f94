"""IAM groups and membership through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam.conftest import error_of


def test_group_lifecycle_and_membership(iam: Any, user: str, unique_name: str) -> None:
    group = iam.create_group(GroupName=unique_name, Path="/g/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::000000000000:group/g/{unique_name}"
    assert group["GroupId"].startswith("AGPA")
    with pytest.raises(ClientError) as caught:
        iam.create_group(GroupName=unique_name)
    assert error_of(caught) == (
        "EntityAlreadyExists",
        409,
        f"Group with name {unique_name} already exists.",
    )
    iam.add_user_to_group(GroupName=unique_name, UserName=user)
    iam.add_user_to_group(GroupName=unique_name, UserName=user)  # again: no change
    got = iam.get_group(GroupName=unique_name)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert got["Group"]["GroupName"] == unique_name
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [
        unique_name
    ]
    assert unique_name in [g["GroupName"] for g in iam.list_groups(PathPrefix="/g/")["Groups"]]
    with pytest.raises(ClientError) as caught:
        iam.delete_group(GroupName=unique_name)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    )
    with pytest.raises(ClientError) as caught:
        iam.delete_user(UserName=user)
    assert error_of(caught) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove user from all groups first.",
    )
    iam.remove_user_from_group(GroupName=unique_name, UserName=user)
    assert iam.get_group(GroupName=unique_name)["Users"] == []
    iam.delete_group(GroupName=unique_name)
    with pytest.raises(ClientError) as caught:
        iam.get_group(GroupName=unique_name)
    assert error_of(caught) == (
        "NoSuchEntity",
        404,
        f"The group with name {unique_name} cannot be found.",
    )


def test_membership_of_missing_entities(iam: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        iam.add_user_to_group(GroupName=unique_name, UserName="nobody")
    assert error_of(caught)[:2] == ("NoSuchEntity", 404)
    iam.create_group(GroupName=unique_name)
    try:
        with pytest.raises(ClientError) as caught:
            iam.add_user_to_group(GroupName=unique_name, UserName="nobody-at-all")
        assert error_of(caught) == (
            "NoSuchEntity",
            404,
            "The user with name nobody-at-all cannot be found.",
        )
    finally:
        iam.delete_group(GroupName=unique_name)
