"""What users, groups and roles hold: inline policies and attached managed policies.

The three kinds keep both the same way (``inline``: name -> document, ``attached``: ARNs),
so one class serves PutUserPolicy, PutGroupPolicy, PutRolePolicy and their Get, Delete,
List, Attach, Detach and ListAttached counterparts.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.iam import records
from strata.service.iam.directory import Directory
from strata.service.iam.documents import check_policy
from strata.service.iam.errors import LimitExceeded, NoSuchEntity
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.records import GroupRecord, ManagedPolicyRecord, RoleRecord, UserRecord

Holder = UserRecord | GroupRecord | RoleRecord

ATTACHED_MAX: Final = 10  # managed policies per user, group or role (AWS's default quota)
_QUOTA_NAMES: Final = {records.USER: "User", records.GROUP: "Group", records.ROLE: "Role"}
_WORDS: Final = {records.USER: "user", records.GROUP: "group", records.ROLE: "role"}


class PolicyHolders:
    def __init__(self, directory: Directory, managed: ManagedPolicies) -> None:
        self.directory = directory
        self.managed = managed

    def get(self, kind: str, name: str) -> Holder:
        found: Holder | None
        if kind == records.USER:
            found = self.directory.user(name)
        elif kind == records.GROUP:
            found = self.directory.group(name)
        else:
            found = self.directory.role(name)
        if found is None:
            raise NoSuchEntity(f"The {_WORDS[kind]} with name {name} cannot be found.")
        return found

    async def _save(self, kind: str, holder: Holder) -> None:
        await self.directory.commit([(kind, holder.name, holder)])

    # Inline policies

    async def put_inline(self, kind: str, name: str, policy_name: str, document: str) -> None:
        holder = self.get(kind, name)
        check_policy(document)
        inline = {k: v for k, v in holder.inline.items() if k.lower() != policy_name.lower()}
        inline[policy_name] = document
        await self._save(kind, msgspec.structs.replace(holder, inline=inline))

    def _inline_name(self, kind: str, holder: Holder, policy_name: str) -> str:
        found = next((k for k in holder.inline if k.lower() == policy_name.lower()), None)
        if found is None:
            raise NoSuchEntity(
                f"The {_WORDS[kind]} policy with name {policy_name} cannot be found."
            )
        return found

    def get_inline(self, kind: str, name: str, policy_name: str) -> tuple[str, str]:
        """(the policy's name as stored, its document)."""
        holder = self.get(kind, name)
        stored = self._inline_name(kind, holder, policy_name)
        return stored, holder.inline[stored]

    def list_inline(self, kind: str, name: str) -> list[str]:
        return sorted(self.get(kind, name).inline, key=str.lower)

    async def delete_inline(self, kind: str, name: str, policy_name: str) -> None:
        holder = self.get(kind, name)
        stored = self._inline_name(kind, holder, policy_name)
        inline = {k: v for k, v in holder.inline.items() if k != stored}
        await self._save(kind, msgspec.structs.replace(holder, inline=inline))

    # Attached managed policies

    async def attach(self, kind: str, name: str, policy_arn: str) -> None:
        holder = self.get(kind, name)
        self.managed.attachable(policy_arn)
        if policy_arn in holder.attached:
            return
        if len(holder.attached) >= ATTACHED_MAX:
            raise LimitExceeded(
                f"Cannot exceed quota for PoliciesPer{_QUOTA_NAMES[kind]}: {ATTACHED_MAX}"
            )
        attached = [*holder.attached, policy_arn]
        await self._save(kind, msgspec.structs.replace(holder, attached=attached))

    async def detach(self, kind: str, name: str, policy_arn: str) -> None:
        holder = self.get(kind, name)
        if policy_arn not in holder.attached:
            raise NoSuchEntity(f"Policy {policy_arn} was not found.")
        attached = [a for a in holder.attached if a != policy_arn]
        await self._save(kind, msgspec.structs.replace(holder, attached=attached))

    def attached(self, kind: str, name: str, path_prefix: str = "/") -> list[ManagedPolicyRecord]:
        holder = self.get(kind, name)
        found = (self.managed.find(arn) for arn in holder.attached)
        return [p for p in found if p is not None and p.path.startswith(path_prefix)]
