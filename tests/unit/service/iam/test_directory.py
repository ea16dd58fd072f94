"""The IAM store: every entity survives a reopen, conflicts and limits are AWS's, and the
key chain sees a key change in the same step the change is applied."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from strata.errors import ExpiredToken, InvalidToken
from strata.service.iam import records
from strata.service.iam.directory import Directory
from strata.service.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from strata.service.iam.groups import Groups
from strata.service.iam.holders import PolicyHolders
from strata.service.iam.identities import DirectoryPolicies
from strata.service.iam.keychain import KeyChain
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.principal import (
    Principal,
    assumed_role_principal,
    root_principal,
    user_principal,
)
from strata.service.iam.records import SessionRecord
from strata.service.iam.roles import Roles
from strata.service.iam.users import Users
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

T = TypeVar("T")
ACCOUNT = "123456789012"
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Roots:
    """The root key file's part of the chain: one root pair."""

    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None:
        return (
            ("root-secret", root_principal(ACCOUNT, access_key)) if access_key == "ROOT" else None
        )

    def note_used(self, access_key: str, service: str, region: str) -> None:
        pass


def open_store(path: Path, clock: ManualClock) -> tuple[LocalStore, Directory]:
    store = LocalStore(str(path / "db"), clock)
    return store, Directory(store)


def test_users_keys_and_policies_survive_a_reopen(tmp_path: Path) -> None:
    clock = ManualClock()
    store, directory = open_store(tmp_path, clock)
    users, groups = Users(directory, clock), Groups(directory, clock)
    managed = ManagedPolicies(directory, clock, ACCOUNT)
    holders = PolicyHolders(directory, managed)
    run(users.create("Alice", "/team/", [("k", "v")]))
    key = run(users.create_key("alice"))
    run(groups.create("Readers"))
    run(groups.add_user("readers", "ALICE"))
    policy = run(managed.create("ReadAll", POLICY))
    arn = managed.arn(policy)
    run(managed.create_version(arn, POLICY, set_default=True))
    run(holders.attach(records.GROUP, "Readers", arn))
    run(holders.put_inline(records.USER, "Alice", "Inline", POLICY))
    run(Roles(directory, clock).create("Worker", TRUST, max_session_s=7200))
    store.close()

    store, directory = open_store(tmp_path, clock)
    user = directory.user("alice")
    assert user is not None
    assert (user.name, user.path, user.tags) == (
        "Alice",
        "/team/",
        [("k", "v")],
    )
    assert user.inline == {"Inline": POLICY}
    assert [k.access_key for k in directory.keys_of("Alice")] == [key.access_key]
    assert [g.name for g in directory.groups_of("alice")] == ["Readers"]
    stored = directory.policy("readall")
    assert stored is not None
    assert stored.default_version == "v2"
    assert [v.version_id for v in stored.versions] == ["v1", "v2"]
    assert directory.attachment_count(arn) == 1
    role = directory.role("worker")
    assert role is not None
    assert role.max_session_s == 7200
    store.close()


def test_names_fold_case_and_deletes_need_an_empty_entity(tmp_path: Path) -> None:
    clock = ManualClock()
    store, directory = open_store(tmp_path, clock)
    users, groups = Users(directory, clock), Groups(directory, clock)
    holders = PolicyHolders(directory, ManagedPolicies(directory, clock, ACCOUNT))
    run(users.create("bob"))
    with pytest.raises(EntityAlreadyExists, match="User with name BOB already exists"):
        run(users.create("BOB"))
    key = run(users.create_key("bob"))
    run(users.create_key("bob"))
    with pytest.raises(LimitExceeded, match="AccessKeysPerUser: 2"):
        run(users.create_key("bob"))
    with pytest.raises(DeleteConflict, match="must delete access keys first"):
        run(users.delete("bob"))
    for k in directory.keys_of("bob"):
        run(users.delete_key("bob", k.access_key))
    with pytest.raises(NoSuchEntity, match=f"The Access Key with id {key.access_key} cannot"):
        run(users.delete_key("bob", key.access_key))
    run(groups.create("g"))
    run(groups.add_user("g", "bob"))
    with pytest.raises(DeleteConflict, match="remove user from all groups first"):
        run(users.delete("bob"))
    with pytest.raises(DeleteConflict, match="remove users from group first"):
        run(groups.delete("g"))
    run(groups.remove_user("g", "bob"))
    run(holders.put_inline(records.USER, "bob", "p", POLICY))
    with pytest.raises(DeleteConflict, match="must delete policies first"):
        run(users.delete("bob"))
    run(holders.delete_inline(records.USER, "bob", "P"))
    run(users.delete("bob"))
    with pytest.raises(NoSuchEntity, match="The user with name bob cannot be found"):
        users.get("bob")
    store.close()


def test_managed_policy_versions_and_attachments(tmp_path: Path) -> None:
    clock = ManualClock()
    store, directory = open_store(tmp_path, clock)
    managed = ManagedPolicies(directory, clock, ACCOUNT)
    holders = PolicyHolders(directory, managed)
    run(Users(directory, clock).create("u"))
    arn = managed.arn(run(managed.create("P", POLICY, path="/x/")))
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/x/P"
    with pytest.raises(MalformedPolicyDocument):
        run(managed.create("Q", "{not json"))
    for _ in range(4):
        run(managed.create_version(arn, POLICY, set_default=False))
    with pytest.raises(LimitExceeded, match="up to 5 versions"):
        run(managed.create_version(arn, POLICY, set_default=False))
    with pytest.raises(DeleteConflict, match="default version"):
        run(managed.delete_version(arn, "v1"))
    run(holders.attach(records.USER, "u", arn))
    with pytest.raises(DeleteConflict, match="attached to entities"):
        run(managed.delete(arn))
    run(holders.detach(records.USER, "u", arn))
    with pytest.raises(DeleteConflict, match="more than one version"):
        run(managed.delete(arn))
    run(managed.set_default(arn, "v5"))
    for version in ("v1", "v2", "v3", "v4"):
        run(managed.delete_version(arn, version))
    run(managed.delete(arn))
    with pytest.raises(NoSuchEntity, match=f"Policy {arn} was not found."):
        managed.get(arn)
    with pytest.raises(NoSuchEntity, match="does not exist or is not attachable"):
        run(holders.attach(records.USER, "u", arn))
    store.close()


def test_key_chain_follows_every_change_at_once(tmp_path: Path) -> None:
    clock = ManualClock()
    store, directory = open_store(tmp_path, clock)
    users = Users(directory, clock)
    chain = KeyChain(directory, Roots(), clock, ACCOUNT)
    run(users.create("carol", "/ops/"))
    key = run(users.create_key("carol"))
    found = chain.lookup(key.access_key)
    assert found is not None
    secret, principal = found
    assert secret == key.secret_key
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:user/ops/carol"
    assert not principal.root
    assert principal.user_name == "carol"
    with pytest.raises(InvalidToken):
        chain.lookup(key.access_key, "a-token")  # a permanent key takes no token
    run(users.update_key("carol", key.access_key, records.INACTIVE))
    assert chain.lookup(key.access_key) is None
    run(users.update_key("carol", key.access_key, records.ACTIVE))
    run(users.update("carol", "dave", None))  # a renamed user keeps its keys
    found = chain.lookup(key.access_key)
    assert found is not None
    assert found[1].user_name == "dave"
    root = chain.lookup("ROOT")
    assert root is not None
    assert root[1].root

    session = SessionRecord("ASIAEXAMPLE", "s", "token", clock.now_s() + 900, "r", "AROAX", "sess")
    run(directory.commit([(records.SESSION, session.access_key, session)]))
    assert chain.lookup("ASIAEXAMPLE") is None  # no token: not a key we know
    with pytest.raises(InvalidToken):
        chain.lookup("ASIAEXAMPLE", "other")
    found = chain.lookup("ASIAEXAMPLE", "token")
    assert found is not None
    assert found[1].arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/r/sess"
    assert found[1].user_id == "AROAX:sess"
    clock.advance(900)
    with pytest.raises(ExpiredToken):
        chain.lookup("ASIAEXAMPLE", "token")
    store.close()


def test_identity_policies_of_users_groups_and_roles(tmp_path: Path) -> None:
    clock = ManualClock()
    store, directory = open_store(tmp_path, clock)
    users, groups = Users(directory, clock), Groups(directory, clock)
    managed = ManagedPolicies(directory, clock, ACCOUNT)
    holders = PolicyHolders(directory, managed)
    policies = DirectoryPolicies(directory, managed)
    user = run(users.create("erin"))
    run(groups.create("g"))
    run(groups.add_user("g", "erin"))
    arn = managed.arn(run(managed.create("m", POLICY)))
    group_only = POLICY.replace("s3:*", "dynamodb:*")
    run(holders.put_inline(records.GROUP, "g", "gi", group_only))
    run(holders.attach(records.USER, "erin", arn))
    principal = user_principal(ACCOUNT, "erin", user.user_id, "AKIAX")
    generation, documents = policies.policies_for(principal)
    assert sorted(d.text for d in documents) == sorted([POLICY, group_only])
    assert policies.policies_for(principal) == (generation, documents)  # cached
    run(holders.put_inline(records.USER, "erin", "ui", POLICY))
    later, documents = policies.policies_for(principal)
    assert later != generation
    assert len(documents) == 3

    role = run(Roles(directory, clock).create("r", TRUST))
    run(holders.put_inline(records.ROLE, "r", "ri", group_only))
    session = SessionRecord(
        "ASIAROLE", "s", "t", clock.now_s() + 900, "r", role.role_id, "sess",
        session_policy=POLICY,
    )  # fmt: skip
    run(directory.commit([(records.SESSION, session.access_key, session)]))
    assumed = assumed_role_principal(ACCOUNT, "r", role.role_id, "sess", "ASIAROLE")
    assert [d.text for d in policies.policies_for(assumed)[1]] == [group_only]
    run(holders.attach(records.ROLE, "r", "arn:aws:iam::aws:policy/AdministratorAccess"))
    texts = [json.loads(d.text) for d in policies.policies_for(assumed)[1]]
    assert texts[1]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    narrowing = policies.session_policies(assumed)
    assert narrowing is not None
    assert [d.text for d in narrowing] == [POLICY]
    assert policies.session_policies(principal) is None
    store.close()
