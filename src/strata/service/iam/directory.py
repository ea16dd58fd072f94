"""The IAM space in memory: every identity record, loaded once and kept current.

Authentication looks up an access key on every request and authorization reads a
principal's policies, so both must cost a dict lookup, not a RocksDB read. The whole
space is small (users, keys, groups, policies, roles: thousands at most), so it is read
into memory at start-up and after a restore or reset, and every change goes through
``commit``: one ``WriteBatch`` applied to the store and, in the same synchronous step,
to the in-memory maps, then awaited until fsynced. ``generation`` changes with every
write, so a policy decision cached under one generation is never reused after a change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TypeVar

import msgspec

from strata.service.iam import records
from strata.service.iam.records import (
    AccessKeyRecord,
    GroupRecord,
    ManagedPolicyRecord,
    RoleRecord,
    SessionRecord,
    UserRecord,
)
from strata.storage import keys, spaces
from strata.storage import records as codec
from strata.storage.store import Store, WriteBatch

T = TypeVar("T", bound=msgspec.Struct)

# (kind, name or access key, the new record or None to delete it)
Change = tuple[str, str, msgspec.Struct | None]

_generations = itertools.count(1)  # across reloads too: a new store is a new generation


class Directory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.generation = 0
        self._maps: dict[str, dict[str, msgspec.Struct]] = {}
        self.load()

    def load(self) -> None:
        """Read the whole IAM space (at start-up, and after the store was replaced)."""
        maps: dict[str, dict[str, msgspec.Struct]] = {kind: {} for kind in records.RECORD_TYPES}
        for key, raw in self.store.scan(spaces.IAM, b""):
            kind, pos = keys.decode_str(key)
            name, _ = keys.decode_str(key, pos)
            record_type = records.RECORD_TYPES.get(kind)
            if record_type is not None:
                maps[kind][name] = codec.decode(raw, record_type)
        self._maps = maps
        self.generation = next(_generations)

    def reload(self, store: Store | None = None) -> None:
        if store is not None:
            self.store = store
        self.load()

    # Reads: the records as stored, by kind and (case-folded) name.

    def _get(self, kind: str, name: str, record_type: type[T]) -> T | None:
        folded = name if kind in (records.ACCESS_KEY, records.SESSION) else name.lower()
        found = self._maps[kind].get(folded)
        assert found is None or isinstance(found, record_type)
        return found

    def _all(self, kind: str, record_type: type[T]) -> list[T]:
        found = list(self._maps[kind].values())
        assert all(isinstance(r, record_type) for r in found)
        return found  # type: ignore[return-value]

    def user(self, name: str) -> UserRecord | None:
        return self._get(records.USER, name, UserRecord)

    def users(self) -> list[UserRecord]:
        return self._all(records.USER, UserRecord)

    def access_key(self, access_key: str) -> AccessKeyRecord | None:
        return self._get(records.ACCESS_KEY, access_key, AccessKeyRecord)

    def access_keys(self) -> list[AccessKeyRecord]:
        return self._all(records.ACCESS_KEY, AccessKeyRecord)

    def keys_of(self, user_name: str) -> list[AccessKeyRecord]:
        folded = user_name.lower()
        found = [k for k in self.access_keys() if k.user_name.lower() == folded]
        return sorted(found, key=lambda k: k.created_s)

    def group(self, name: str) -> GroupRecord | None:
        return self._get(records.GROUP, name, GroupRecord)

    def groups(self) -> list[GroupRecord]:
        return self._all(records.GROUP, GroupRecord)

    def groups_of(self, user_name: str) -> list[GroupRecord]:
        folded = user_name.lower()
        return [g for g in self.groups() if any(m.lower() == folded for m in g.members)]

    def policy(self, name: str) -> ManagedPolicyRecord | None:
        return self._get(records.POLICY, name, ManagedPolicyRecord)

    def policies(self) -> list[ManagedPolicyRecord]:
        return self._all(records.POLICY, ManagedPolicyRecord)

    def role(self, name: str) -> RoleRecord | None:
        return self._get(records.ROLE, name, RoleRecord)

    def roles(self) -> list[RoleRecord]:
        return self._all(records.ROLE, RoleRecord)

    def session(self, access_key: str) -> SessionRecord | None:
        return self._get(records.SESSION, access_key, SessionRecord)

    def sessions(self) -> list[SessionRecord]:
        return self._all(records.SESSION, SessionRecord)

    def attachment_count(self, policy_arn: str) -> int:
        holders: Iterable[UserRecord | GroupRecord | RoleRecord] = itertools.chain(
            self.users(), self.groups(), self.roles()
        )
        return sum(1 for holder in holders if policy_arn in holder.attached)

    # The one write path.

    def stage(self, changes: list[Change]) -> WriteBatch:
        batch = WriteBatch()
        for kind, name, record in changes:
            key = records.record_key(kind, name)
            if record is None:
                batch.delete(spaces.IAM, key)
            else:
                assert isinstance(record, records.RECORD_TYPES[kind])
                batch.put(spaces.IAM, key, codec.encode(record))
        return batch

    async def commit(self, changes: list[Change]) -> None:
        """Apply ``changes`` to the store and to memory in one step, then wait for the
        fsync. Callers check their conditions and call this with no ``await`` before."""
        batch = self.stage(changes)
        sequence = self.store.apply(batch)  # raises: nothing applied, memory unchanged
        for kind, name, record in changes:
            folded = name if kind in (records.ACCESS_KEY, records.SESSION) else name.lower()
            if record is None:
                self._maps[kind].pop(folded, None)
            else:
                self._maps[kind][folded] = record
        self.generation = next(_generations)
        await self.store.durable(sequence)
