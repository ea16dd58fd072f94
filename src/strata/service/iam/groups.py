"""IAM groups and their members."""

from __future__ import annotations

import msgspec

from strata.service.iam import ids, records
from strata.service.iam.directory import Directory
from strata.service.iam.errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from strata.service.iam.records import GroupRecord, UserRecord
from strata.service.iam.users import no_such_user
from strata.storage.clock import Clock


def no_such_group(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The group with name {name} cannot be found.")


class Groups:
    def __init__(self, directory: Directory, clock: Clock) -> None:
        self.directory = directory
        self.clock = clock

    def get(self, name: str) -> GroupRecord:
        found = self.directory.group(name)
        if found is None:
            raise no_such_group(name)
        return found

    def _user(self, name: str) -> UserRecord:
        found = self.directory.user(name)
        if found is None:
            raise no_such_user(name)
        return found

    async def create(self, name: str, path: str = "/") -> GroupRecord:
        if self.directory.group(name) is not None:
            raise EntityAlreadyExists(f"Group with name {name} already exists.")
        group = GroupRecord(name, ids.unique_id(ids.GROUP_PREFIX), path, self.clock.now_s())
        await self.directory.commit([(records.GROUP, name, group)])
        return group

    def under(self, path_prefix: str = "/") -> list[GroupRecord]:
        found = [g for g in self.directory.groups() if g.path.startswith(path_prefix)]
        return sorted(found, key=lambda g: g.name.lower())

    def members(self, name: str) -> list[UserRecord]:
        group = self.get(name)
        users = (self.directory.user(m) for m in group.members)
        return sorted((u for u in users if u is not None), key=lambda u: u.name.lower())

    def groups_for_user(self, user_name: str) -> list[GroupRecord]:
        self._user(user_name)
        return sorted(self.directory.groups_of(user_name), key=lambda g: g.name.lower())

    async def add_user(self, name: str, user_name: str) -> None:
        group = self.get(name)
        user = self._user(user_name)
        if any(m.lower() == user.name.lower() for m in group.members):
            return  # AWS: adding a member again succeeds and changes nothing
        joined = msgspec.structs.replace(group, members=[*group.members, user.name])
        await self.directory.commit([(records.GROUP, name, joined)])

    async def remove_user(self, name: str, user_name: str) -> None:
        group = self.get(name)
        self._user(user_name)
        folded = user_name.lower()
        if not any(m.lower() == folded for m in group.members):
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        left = msgspec.structs.replace(
            group, members=[m for m in group.members if m.lower() != folded]
        )
        await self.directory.commit([(records.GROUP, name, left)])

    async def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        group = self.get(name)
        renaming = new_name is not None and new_name.lower() != name.lower()
        if renaming and self.directory.group(new_name or "") is not None:
            raise EntityAlreadyExists(f"Group with name {new_name} already exists.")
        renamed = msgspec.structs.replace(
            group, name=new_name or group.name, path=new_path or group.path
        )
        changes: list[tuple[str, str, msgspec.Struct | None]] = []
        if renamed.name.lower() != name.lower():
            changes.append((records.GROUP, name, None))
        changes.append((records.GROUP, renamed.name, renamed))
        await self.directory.commit(changes)

    async def delete(self, name: str) -> None:
        group = self.get(name)
        if group.members:
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if group.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if group.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        await self.directory.commit([(records.GROUP, name, None)])
