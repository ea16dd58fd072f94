"""Customer managed policies and their versions (at most five, one the default)."""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.iam import arns, aws_managed, ids, records
from strata.service.iam.aws_managed import AWS_MANAGED, is_aws_managed
from strata.service.iam.directory import Directory
from strata.service.iam.documents import check_policy
from strata.service.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    NotModifiable,
)
from strata.service.iam.records import ManagedPolicyRecord, PolicyVersion, Tags
from strata.service.iam.users import drop_tags, merge_tags
from strata.storage.clock import Clock

VERSIONS_MAX: Final = 5


class ManagedPolicies:
    def __init__(self, directory: Directory, clock: Clock, account_id: str) -> None:
        self.directory = directory
        self.clock = clock
        self.account_id = account_id

    def arn(self, policy: ManagedPolicyRecord) -> str:
        account = aws_managed.ACCOUNT if is_aws_managed(policy) else self.account_id
        return arns.policy_arn(account, policy.path, policy.name)

    def find(self, arn: str) -> ManagedPolicyRecord | None:
        parsed = arns.parse_policy_arn(arn)
        if parsed is None:
            return None
        account, path, name = parsed
        if account == aws_managed.ACCOUNT:
            found = AWS_MANAGED.get(name)
        elif account == self.account_id:
            found = self.directory.policy(name)
        else:
            return None
        if found is None or found.path != path:
            return None
        return found

    def _customer(self, arn: str, action: str) -> ManagedPolicyRecord:
        """A policy this account may change: AWS managed ones are read-only."""
        policy = self.get(arn)
        if is_aws_managed(policy):
            raise NotModifiable(
                f"User: arn:aws:iam::{self.account_id}:root is not authorized to perform: "
                f"iam:{action} on resource: policy {arn}"
            )
        return policy

    def get(self, arn: str) -> ManagedPolicyRecord:
        return self._existing(arn, f"Policy {arn} was not found.")

    def attachable(self, arn: str) -> ManagedPolicyRecord:
        return self._existing(arn, f"Policy {arn} does not exist or is not attachable.")

    def _existing(self, arn: str, missing: str) -> ManagedPolicyRecord:
        if arns.parse_policy_arn(arn) is None:
            raise InvalidInput(f"ARN {arn} is not valid.")
        found = self.find(arn)
        if found is None:
            raise NoSuchEntity(missing)
        return found

    async def create(
        self, name: str, document: str, path: str = "/", description: str = "",
        tags: Tags | None = None,
    ) -> ManagedPolicyRecord:  # fmt: skip
        check_policy(document)
        if self.directory.policy(name) is not None:
            raise EntityAlreadyExists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        now = self.clock.now_s()
        policy = ManagedPolicyRecord(
            name, ids.unique_id(ids.POLICY_PREFIX), path, now, now, "v1",
            [PolicyVersion("v1", document, now)], 2, description, merge_tags([], tags or []),
        )  # fmt: skip
        await self.directory.commit([(records.POLICY, name, policy)])
        return policy

    def under(
        self, path_prefix: str = "/", only_attached: bool = False, scope: str = "All"
    ) -> list[ManagedPolicyRecord]:
        """``scope``: All, AWS (the AWS managed ones) or Local (this account's)."""
        candidates: list[ManagedPolicyRecord] = []
        if scope in ("All", "AWS"):
            candidates.extend(AWS_MANAGED.values())
        if scope in ("All", "Local"):
            candidates.extend(self.directory.policies())
        found = [p for p in candidates if p.path.startswith(path_prefix)]
        if only_attached:
            found = [p for p in found if self.directory.attachment_count(self.arn(p))]
        return sorted(found, key=lambda p: p.name.lower())

    async def delete(self, arn: str) -> None:
        policy = self._customer(arn, "DeletePolicy")
        if self.directory.attachment_count(arn):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if len(policy.versions) > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        await self.directory.commit([(records.POLICY, policy.name, None)])

    async def create_version(self, arn: str, document: str, set_default: bool) -> PolicyVersion:
        policy = self._customer(arn, "CreatePolicyVersion")
        check_policy(document)
        if len(policy.versions) >= VERSIONS_MAX:
            raise LimitExceeded(
                f"A managed policy can have up to {VERSIONS_MAX} versions. Before you create a "
                "new version, you must delete an existing version."
            )
        now = self.clock.now_s()
        version = PolicyVersion(f"v{policy.next_version}", document, now)
        updated = msgspec.structs.replace(
            policy,
            versions=[*policy.versions, version],
            next_version=policy.next_version + 1,
            default_version=version.version_id if set_default else policy.default_version,
            updated_s=now,
        )
        await self.directory.commit([(records.POLICY, policy.name, updated)])
        return version

    def version(self, arn: str, version_id: str) -> PolicyVersion:
        found = self.get(arn).version(version_id)
        if found is None:
            raise NoSuchEntity(
                f"Policy {arn} version {version_id} does not exist or is not attachable."
            )
        return found

    async def delete_version(self, arn: str, version_id: str) -> None:
        policy = self._customer(arn, "DeletePolicyVersion")
        self.version(arn, version_id)
        if version_id == policy.default_version:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        updated = msgspec.structs.replace(
            policy, versions=[v for v in policy.versions if v.version_id != version_id]
        )
        await self.directory.commit([(records.POLICY, policy.name, updated)])

    async def set_default(self, arn: str, version_id: str) -> None:
        policy = self._customer(arn, "SetDefaultPolicyVersion")
        self.version(arn, version_id)
        updated = msgspec.structs.replace(
            policy, default_version=version_id, updated_s=self.clock.now_s()
        )
        await self.directory.commit([(records.POLICY, policy.name, updated)])

    async def tag(self, arn: str, tags: Tags) -> None:
        policy = self._customer(arn, "TagPolicy")
        tagged = msgspec.structs.replace(policy, tags=merge_tags(policy.tags, tags))
        await self.directory.commit([(records.POLICY, policy.name, tagged)])

    async def untag(self, arn: str, tag_keys: list[str]) -> None:
        policy = self._customer(arn, "UntagPolicy")
        untagged = msgspec.structs.replace(policy, tags=drop_tags(policy.tags, tag_keys))
        await self.directory.commit([(records.POLICY, policy.name, untagged)])
