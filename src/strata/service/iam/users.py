"""IAM users and their access keys (at most two per user, as AWS allows)."""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.iam import ids, records
from strata.service.iam.directory import Change, Directory
from strata.service.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
)
from strata.service.iam.records import AccessKeyRecord, Tags, UserRecord
from strata.storage.clock import Clock

ACCESS_KEYS_PER_USER: Final = 2
TAGS_PER_ENTITY: Final = 50


def no_such_user(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The user with name {name} cannot be found.")


def merge_tags(current: Tags, added: Tags) -> Tags:
    """``added`` over ``current``, by key (a tag key is case-sensitive here, as stored)."""
    merged = dict(current)
    merged.update(dict(added))
    if len(merged) > TAGS_PER_ENTITY:
        raise LimitExceeded(f"Cannot exceed quota for TagsPerUser: {TAGS_PER_ENTITY}")
    return list(merged.items())


def drop_tags(current: Tags, removed: list[str]) -> Tags:
    gone = set(removed)
    return [(k, v) for k, v in current if k not in gone]


class Users:
    def __init__(self, directory: Directory, clock: Clock) -> None:
        self.directory = directory
        self.clock = clock

    def get(self, name: str) -> UserRecord:
        found = self.directory.user(name)
        if found is None:
            raise no_such_user(name)
        return found

    async def create(self, name: str, path: str = "/", tags: Tags | None = None) -> UserRecord:
        if self.directory.user(name) is not None:
            raise EntityAlreadyExists(f"User with name {name} already exists.")
        user = UserRecord(
            name,
            ids.unique_id(ids.USER_PREFIX),
            path,
            self.clock.now_s(),
            merge_tags([], tags or []),
        )
        await self.directory.commit([(records.USER, name, user)])
        return user

    def under(self, path_prefix: str = "/") -> list[UserRecord]:
        found = [u for u in self.directory.users() if u.path.startswith(path_prefix)]
        return sorted(found, key=lambda u: u.name.lower())

    async def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        """Rename and/or move a user: its keys and group memberships follow it."""
        user = self.get(name)
        changes: list[Change] = []
        if new_name is not None and new_name.lower() != name.lower():
            if self.directory.user(new_name) is not None:
                raise EntityAlreadyExists(f"User with name {new_name} already exists.")
            changes.append((records.USER, name, None))
            for key in self.directory.keys_of(name):
                changes.append(
                    (
                        records.ACCESS_KEY,
                        key.access_key,
                        msgspec.structs.replace(key, user_name=new_name),
                    )
                )
            for group in self.directory.groups_of(name):
                members = [new_name if m.lower() == name.lower() else m for m in group.members]
                changes.append(
                    (records.GROUP, group.name, msgspec.structs.replace(group, members=members))
                )
        renamed = msgspec.structs.replace(
            user, name=new_name or user.name, path=new_path or user.path
        )
        changes.append((records.USER, renamed.name, renamed))
        await self.directory.commit(changes)

    async def delete(self, name: str) -> None:
        user = self.get(name)
        if self.directory.keys_of(name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if user.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if user.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if self.directory.groups_of(name):
            raise DeleteConflict("Cannot delete entity, must remove user from all groups first.")
        await self.directory.commit([(records.USER, name, None)])

    async def tag(self, name: str, tags: Tags) -> None:
        user = self.get(name)
        tagged = msgspec.structs.replace(user, tags=merge_tags(user.tags, tags))
        await self.directory.commit([(records.USER, name, tagged)])

    async def untag(self, name: str, tag_keys: list[str]) -> None:
        user = self.get(name)
        untagged = msgspec.structs.replace(user, tags=drop_tags(user.tags, tag_keys))
        await self.directory.commit([(records.USER, name, untagged)])

    # Access keys

    async def create_key(self, user_name: str) -> AccessKeyRecord:
        user = self.get(user_name)
        if len(self.directory.keys_of(user_name)) >= ACCESS_KEYS_PER_USER:
            raise LimitExceeded(
                f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
            )
        key = AccessKeyRecord(
            ids.access_key_id(),
            ids.secret_access_key(),
            user.name,
            records.ACTIVE,
            self.clock.now_s(),
        )
        await self.directory.commit([(records.ACCESS_KEY, key.access_key, key)])
        return key

    def keys(self, user_name: str) -> list[AccessKeyRecord]:
        self.get(user_name)
        return self.directory.keys_of(user_name)

    def _key(self, user_name: str, access_key: str) -> AccessKeyRecord:
        self.get(user_name)
        key = self.directory.access_key(access_key)
        if key is None or key.user_name.lower() != user_name.lower():
            raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
        return key

    async def update_key(self, user_name: str, access_key: str, status: str) -> None:
        key = self._key(user_name, access_key)
        updated = msgspec.structs.replace(key, status=status)
        await self.directory.commit([(records.ACCESS_KEY, access_key, updated)])

    async def delete_key(self, user_name: str, access_key: str) -> None:
        self._key(user_name, access_key)
        await self.directory.commit([(records.ACCESS_KEY, access_key, None)])
