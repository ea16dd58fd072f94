"""IAM roles: a trust policy (who may assume the role) and a maximum session length."""

from __future__ import annotations

import msgspec

from strata.service.iam import ids, records
from strata.service.iam.directory import Directory
from strata.service.iam.documents import check_policy
from strata.service.iam.errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from strata.service.iam.records import RoleRecord, Tags
from strata.service.iam.users import drop_tags, merge_tags
from strata.storage.clock import Clock


def no_such_role(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The role with name {name} cannot be found.")


class Roles:
    def __init__(self, directory: Directory, clock: Clock) -> None:
        self.directory = directory
        self.clock = clock

    def get(self, name: str) -> RoleRecord:
        found = self.directory.role(name)
        if found is None:
            raise no_such_role(name)
        return found

    async def create(
        self, name: str, trust_policy: str, path: str = "/", description: str = "",
        max_session_s: int = 3600, tags: Tags | None = None,
    ) -> RoleRecord:  # fmt: skip
        check_policy(trust_policy, trust=True)
        if self.directory.role(name) is not None:
            raise EntityAlreadyExists(f"Role with name {name} already exists.")
        role = RoleRecord(
            name, ids.unique_id(ids.ROLE_PREFIX), path, self.clock.now_s(), trust_policy,
            max_session_s, description, merge_tags([], tags or []),
        )  # fmt: skip
        await self.directory.commit([(records.ROLE, name, role)])
        return role

    def under(self, path_prefix: str = "/") -> list[RoleRecord]:
        found = [r for r in self.directory.roles() if r.path.startswith(path_prefix)]
        return sorted(found, key=lambda r: r.name.lower())

    async def _save(self, role: RoleRecord) -> None:
        await self.directory.commit([(records.ROLE, role.name, role)])

    async def update(self, name: str, description: str | None, max_session_s: int | None) -> None:
        role = self.get(name)
        await self._save(
            msgspec.structs.replace(
                role,
                description=role.description if description is None else description,
                max_session_s=max_session_s or role.max_session_s,
            )
        )

    async def update_trust(self, name: str, trust_policy: str) -> None:
        role = self.get(name)
        check_policy(trust_policy, trust=True)
        await self._save(msgspec.structs.replace(role, trust_policy=trust_policy))

    async def delete(self, name: str) -> None:
        role = self.get(name)
        if role.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if role.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        await self.directory.commit([(records.ROLE, name, None)])

    async def tag(self, name: str, tags: Tags) -> None:
        role = self.get(name)
        await self._save(msgspec.structs.replace(role, tags=merge_tags(role.tags, tags)))

    async def untag(self, name: str, tag_keys: list[str]) -> None:
        role = self.get(name)
        await self._save(msgspec.structs.replace(role, tags=drop_tags(role.tags, tag_keys)))
