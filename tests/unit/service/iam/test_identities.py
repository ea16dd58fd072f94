"""A principal's identity policies from the IAM directory (real store): a user's own and its
groups', inline and attached; a role's; decided through the real PolicyDecider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from strata.service.iam import records
from strata.service.iam.access import Decision
from strata.service.iam.directory import Directory
from strata.service.iam.groups import Groups
from strata.service.iam.holders import PolicyHolders
from strata.service.iam.identities import DirectoryPolicies
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.policy.decider import PolicyDecider
from strata.service.iam.principal import Principal, assumed_role_principal, user_principal
from strata.service.iam.roles import Roles
from strata.service.iam.users import Users
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

ACCOUNT = "123456789012"


def policy(effect: str, action: str, resource: str = "*", **more: object) -> str:
    statement = {"Effect": effect, "Action": action, "Resource": resource, **more}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class World:
    def __init__(self, path: Path) -> None:
        self.clock = ManualClock()
        self.store = LocalStore(str(path / "db"), self.clock)
        self.directory = Directory(self.store)
        self.users = Users(self.directory, self.clock)
        self.groups = Groups(self.directory, self.clock)
        self.managed = ManagedPolicies(self.directory, self.clock, ACCOUNT)
        self.holders = PolicyHolders(self.directory, self.managed)
        self.roles = Roles(self.directory, self.clock)
        self.identities = DirectoryPolicies(self.directory, self.managed)
        self.decider = PolicyDecider(self.identities, (), self.clock.now_s, self.identities.tags)

    def decide(
        self, principal: Principal, action: str, resource: str = "arn:aws:s3:::b/k"
    ) -> Decision:
        return self.decider.decide(principal, action, resource, dict)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.store.close()


def test_user_group_inline_and_managed(world: World) -> None:
    run = asyncio.run
    user = run(world.users.create("alice", "/", [("team", "red")]))
    alice = user_principal(ACCOUNT, "alice", user.user_id, "AKIA1")
    assert world.decide(alice, "s3:GetObject") is Decision.IMPLICIT_DENY
    run(world.holders.put_inline(records.USER, "alice", "get", policy("Allow", "s3:GetObject")))
    assert world.decide(alice, "s3:GetObject") is Decision.ALLOW
    assert world.decide(alice, "s3:PutObject") is Decision.IMPLICIT_DENY
    run(world.groups.create("writers"))
    run(world.groups.add_user("writers", "alice"))
    run(world.holders.put_inline(records.GROUP, "writers", "put", policy("Allow", "s3:PutObject")))
    assert world.decide(alice, "s3:PutObject") is Decision.ALLOW
    managed = run(world.managed.create("NoDelete", policy("Deny", "s3:Delete*")))
    arn = world.managed.arn(managed)
    run(world.holders.attach(records.GROUP, "writers", arn))
    assert world.decide(alice, "s3:DeleteObject") is Decision.EXPLICIT_DENY
    # a new default version replaces the old document
    run(world.managed.create_version(arn, policy("Deny", "s3:DeleteBucket"), True))
    assert world.decide(alice, "s3:DeleteObject") is Decision.IMPLICIT_DENY
    assert world.decide(alice, "s3:DeleteBucket") is Decision.EXPLICIT_DENY
    # tags reach aws:PrincipalTag
    tagged = policy(
        "Allow", "s3:ListBucket", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}
    )
    run(world.holders.put_inline(records.USER, "alice", "tagged", tagged))
    assert world.decide(alice, "s3:ListBucket") is Decision.ALLOW


def test_assumed_role(world: World) -> None:
    run = asyncio.run
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = run(world.roles.create("reader", trust))
    run(
        world.holders.put_inline(
            records.ROLE, "reader", "read", policy("Allow", "dynamodb:GetItem")
        )
    )
    session = assumed_role_principal(ACCOUNT, "reader", role.role_id, "s", "ASIA1")
    assert (
        world.decide(session, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/T")
        is Decision.ALLOW
    )
    assert (
        world.decide(session, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/T")
        is Decision.IMPLICIT_DENY
    )
