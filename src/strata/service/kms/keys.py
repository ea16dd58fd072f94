"""The key service: KMS keys and aliases in memory, kept current with the KMS space.

Every key and alias is read into memory at start-up (and after a restore or reset), so a
cryptographic call costs a dict lookup and one AES-GCM, not a RocksDB read. Every change
goes through ``_commit``: the batch applied to the store and, in the same synchronous step,
to the maps, then awaited until fsynced, so a key is never used before it is durable.

Time is the store clock: a key scheduled for deletion is gone once its deletion date
passes (it resolves as not found, its aliases vanish); rotation adds a material version
when its date passes, at the next use of the key.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

import msgspec

from strata.errors import DataCorruption
from strata.service.kms import ciphertext
from strata.service.kms.ciphertext import Context
from strata.service.kms.errors import (
    AliasExists,
    IncorrectKey,
    InvalidAliasName,
    InvalidCiphertext,
    KeyDisabled,
    KeyInvalidState,
    KeyNotFound,
    KmsValidation,
    UnsupportedOperation,
)
from strata.service.kms.records import (
    ALIAS,
    AWS,
    CUSTOMER,
    DISABLED,
    ENABLED,
    KEY,
    PENDING_DELETION,
    AliasRecord,
    KeyRecord,
    Tags,
    record_key,
)
from strata.storage import keys, spaces
from strata.storage import records as codec
from strata.storage.store import Store, WriteBatch

DAY_S: Final = 86400
MATERIAL_BYTES: Final = 32
KEY_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The AWS managed keys Strata makes on first use, and their descriptions as AWS words them.
MANAGED_KEYS: Final = {
    "alias/aws/s3": "Default key that protects my S3 objects when no other key is defined",
    "alias/aws/dynamodb": "Default key that protects my DynamoDB data when no other key is defined",
}
RESERVED_PREFIX: Final = "alias/aws/"


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One use of a key by the service itself (S3, DynamoDB), for the audit trail."""

    operation: str  # GenerateDataKey, Decrypt, Encrypt
    key_arn: str
    invoked_by: str  # s3.amazonaws.com, dynamodb.amazonaws.com


class MaterialWrap(Protocol):
    """The server's master key as the key service uses it: key material is stored only
    wrapped by it (``storage/master_key.py``)."""

    key_id: str

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class KeyService:
    def __init__(
        self, store: Store, account_id: str, region: str, master: MaterialWrap | None = None
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.region = region
        self.master = master
        self._keys: dict[str, KeyRecord] = {}
        self._aliases: dict[str, AliasRecord] = {}
        self.on_use: Callable[[KeyUse], None] | None = None  # the audit trail's hook
        self.load()

    def load(self) -> None:
        found_keys: dict[str, KeyRecord] = {}
        found_aliases: dict[str, AliasRecord] = {}
        for key, raw in self.store.scan(spaces.KMS, b""):
            kind, pos = keys.decode_str(key)
            name, _ = keys.decode_str(key, pos)
            if kind == KEY:
                found_keys[name] = self._loaded(codec.decode(raw, KeyRecord))
            elif kind == ALIAS:
                found_aliases[name] = codec.decode(raw, AliasRecord)
        self._keys, self._aliases = found_keys, found_aliases

    def _context(self, key_id: str) -> bytes:
        return b"strata kms key material\0" + key_id.encode()

    def _stored(self, record: KeyRecord) -> KeyRecord:
        """The record as written: its material wrapped by the master key."""
        if self.master is None:
            return record
        context = self._context(record.key_id)
        wrapped = [self.master.wrap(m, context) for m in record.materials]
        return msgspec.structs.replace(record, materials=wrapped, wrapped_by=self.master.key_id)

    def _loaded(self, record: KeyRecord) -> KeyRecord:
        """The record as kept in memory: its material in plain."""
        if not record.wrapped_by:
            return record  # written before the master key wrapped key material
        if self.master is None or self.master.key_id != record.wrapped_by:
            raise DataCorruption(
                f"KMS key {record.key_id} is wrapped by master key {record.wrapped_by}; this "
                f"server has {self.master.key_id if self.master else 'none'} (master_key in "
                "docs/configuration.md)"
            )
        context = self._context(record.key_id)
        plain = [self.master.unwrap(m, context) for m in record.materials]
        return msgspec.structs.replace(record, materials=plain, wrapped_by="")

    def reload(self, store: Store | None = None) -> None:
        if store is not None:
            self.store = store
        self.load()

    # Names

    def key_arn(self, key_id: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    def alias_arn(self, name: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:{name}"

    def now_s(self) -> float:
        return self.store.clock.now_s()

    # Lookups

    def _live(self, key_id: str) -> KeyRecord | None:
        record = self._keys.get(key_id)
        if record is None:
            return None
        if record.state == PENDING_DELETION and self.now_s() >= (record.deletion_s or 0):
            return None  # its waiting period is over: deleted
        return record

    def _alias(self, name: str) -> AliasRecord | None:
        alias = self._aliases.get(name)
        if alias is None or self._live(alias.target_key_id) is None:
            return None
        return alias

    def find(self, key_text: str) -> KeyRecord:
        """A key by id, key ARN, alias name or alias ARN, with AWS's NotFound messages."""
        alias_name = None
        key_id = key_text
        shown_arn = None
        if key_text.startswith("arn:"):
            parts = key_text.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms":
                raise KeyNotFound(f"Invalid arn {key_text}")
            if parts[3] != self.region:
                raise KeyNotFound(f"Invalid arn {parts[3]}")
            resource = parts[5]
            if resource.startswith("alias/"):
                if parts[4] != self.account_id:
                    raise KeyNotFound(f"Alias {key_text} is not found.")
                alias_name = resource
            elif resource.startswith("key/"):
                key_id = resource[len("key/") :]
                shown_arn = key_text
                if parts[4] != self.account_id:
                    raise KeyNotFound(f"Key '{key_text}' does not exist")
            else:
                raise KeyNotFound(f"Invalid arn {key_text}")
        elif key_text.startswith("alias/"):
            alias_name = key_text
        if alias_name is not None:
            alias = self._alias(alias_name)
            if alias is None:
                raise KeyNotFound(f"Alias {self.alias_arn(alias_name)} is not found.")
            key_id = alias.target_key_id
        elif not KEY_ID.fullmatch(key_id):
            raise KeyNotFound(f"Invalid keyId '{key_id}'")
        record = self._live(key_id)
        if record is None:
            raise KeyNotFound(f"Key '{shown_arn or self.key_arn(key_id)}' does not exist")
        return record

    async def resolve(self, key_text: str) -> KeyRecord:
        """``find``, making the AWS managed key an ``alias/aws/s3`` names on first use."""
        sequence, record = self.resolve_now(key_text)
        if sequence:
            await self.store.durable(sequence)
        return record

    def resolve_now(self, key_text: str) -> tuple[int, KeyRecord]:
        """``resolve`` without waiting: (the sequence of a managed key made now, or 0; the
        key). A caller that commits after this covers it (the WAL is in order)."""
        name = key_text.split(":", 5)[-1] if key_text.startswith("arn:") else key_text
        if name in MANAGED_KEYS and self._alias(name) is None:
            record = self._new_key(MANAGED_KEYS[name], AWS)
            now = self.now_s()
            sequence = self._apply([record], [AliasRecord(name, record.key_id, now, now)])
            return sequence, record
        return 0, self.find(key_text)

    async def managed_key(self, alias_name: str) -> KeyRecord:
        """The AWS managed key behind ``alias/aws/s3`` (or dynamodb), made on first use."""
        return await self.resolve(alias_name)

    def usable(self, record: KeyRecord) -> None:
        """Raise unless the key may encrypt or decrypt now (AWS's state errors)."""
        if record.state == ENABLED:
            return
        arn = self.key_arn(record.key_id)
        if record.state == DISABLED:
            raise KeyDisabled(f"{arn} is disabled.")
        raise KeyInvalidState(f"{arn} is pending deletion.")

    def changeable(self, record: KeyRecord) -> None:
        if record.state == PENDING_DELETION:
            raise KeyInvalidState(f"{self.key_arn(record.key_id)} is pending deletion.")

    def _customer_managed(self, record: KeyRecord) -> None:
        # AWS refuses changes to AWS managed keys; the words here are Strata's.
        if record.manager == AWS:
            raise UnsupportedOperation(
                f"{self.key_arn(record.key_id)} is an AWS managed key, which cannot be "
                "disabled, deleted or rotated by request."
            )

    def keys_sorted(self) -> list[KeyRecord]:
        return sorted(
            (r for r in self._keys.values() if self._live(r.key_id) is not None),
            key=lambda r: r.key_id,
        )

    def aliases_sorted(self, key_id: str | None = None) -> list[AliasRecord]:
        found = [
            a
            for name in sorted(self._aliases)
            if (a := self._alias(name)) is not None and key_id in (None, a.target_key_id)
        ]
        return found

    def aliases_of(self, key_id: str) -> list[str]:
        return [a.name for a in self.aliases_sorted(key_id)]

    # Writes

    def _apply(
        self, changed_keys: list[KeyRecord], changed_aliases: list[AliasRecord],
        removed_aliases: tuple[str, ...] = (),
    ) -> int:  # fmt: skip
        """Apply the changes to the store and the maps in one synchronous step."""
        batch = WriteBatch()
        for record in changed_keys:
            stored = self._stored(record)
            batch.put(spaces.KMS, record_key(KEY, record.key_id), codec.encode(stored))
        for alias in changed_aliases:
            batch.put(spaces.KMS, record_key(ALIAS, alias.name), codec.encode(alias))
        for name in removed_aliases:
            batch.delete(spaces.KMS, record_key(ALIAS, name))
        sequence = self.store.apply(batch)
        for record in changed_keys:
            self._keys[record.key_id] = record
        for alias in changed_aliases:
            self._aliases[alias.name] = alias
        for name in removed_aliases:
            self._aliases.pop(name, None)
        return sequence

    async def _commit(
        self, changed_keys: list[KeyRecord], changed_aliases: list[AliasRecord],
        removed_aliases: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        await self.store.durable(self._apply(changed_keys, changed_aliases, removed_aliases))

    def _new_key(
        self, description: str, manager: str = CUSTOMER, policy: str = "", tags: Tags | None = None
    ) -> KeyRecord:
        return KeyRecord(
            key_id=str(uuid.uuid4()),
            created_s=self.now_s(),
            description=description,
            state=ENABLED,
            materials=[os.urandom(MATERIAL_BYTES)],
            manager=manager,
            policy=policy,
            tags=tags or [],
        )

    async def create_key(
        self, description: str, key_usage: str, key_spec: str, policy: str, tags: Tags
    ) -> KeyRecord:
        if key_spec != "SYMMETRIC_DEFAULT":
            raise UnsupportedOperation(
                f"KeySpec {key_spec} is not supported: Strata's key service makes "
                "SYMMETRIC_DEFAULT keys only."
            )
        if key_usage != "ENCRYPT_DECRYPT":
            raise KmsValidation(
                f"KeyUsage {key_usage} is not compatible with KeySpec SYMMETRIC_DEFAULT"
            )
        record = self._new_key(description, CUSTOMER, policy, tags)
        await self._commit([record], [])
        return record

    async def update(self, record: KeyRecord, **changes: object) -> KeyRecord:
        updated = msgspec.structs.replace(record, **changes)
        await self._commit([updated], [])
        return updated

    async def set_enabled(self, record: KeyRecord, enabled: bool) -> None:
        self.changeable(record)
        if not enabled:
            self._customer_managed(record)
        state = ENABLED if enabled else DISABLED
        if record.state != state:
            await self.update(record, state=state)

    async def schedule_deletion(self, record: KeyRecord, window_days: int) -> KeyRecord:
        if not 7 <= window_days <= 30:
            raise KmsValidation(
                f"PendingWindowInDays should be between 7 and 30, but it is {window_days}"
            )
        self.changeable(record)
        self._customer_managed(record)
        return await self.update(
            record,
            state=PENDING_DELETION,
            deletion_s=self.now_s() + window_days * DAY_S,
            pending_window_days=window_days,
            state_before_deletion=record.state,
        )

    async def cancel_deletion(self, record: KeyRecord) -> KeyRecord:
        if record.state != PENDING_DELETION:
            raise KeyInvalidState(f"{self.key_arn(record.key_id)} is not pending deletion.")
        # AWS: a key whose deletion is cancelled is Disabled, whatever it was before.
        return await self.update(record, state=DISABLED, deletion_s=None, pending_window_days=None)

    async def set_rotation(self, record: KeyRecord, enabled: bool, period_days: int | None) -> None:
        if record.state == DISABLED:
            raise KeyDisabled(f"{self.key_arn(record.key_id)} is disabled.")
        self.changeable(record)
        self._customer_managed(record)
        if enabled:
            period = period_days or record.rotation_period_days or 365
            await self.update(
                record,
                rotation_enabled=True,
                rotation_period_days=period,
                next_rotation_s=self.now_s() + period * DAY_S,
            )
        else:
            await self.update(record, rotation_enabled=False, next_rotation_s=None)

    async def rotate_now(self, record: KeyRecord) -> KeyRecord:
        if record.state == DISABLED:
            raise KeyDisabled(f"{self.key_arn(record.key_id)} is disabled.")
        self.changeable(record)
        self._customer_managed(record)
        now = self.now_s()
        return await self.update(
            record,
            materials=[*record.materials, os.urandom(MATERIAL_BYTES)],
            rotations_s=[*record.rotations_s, now],
            on_demand_rotations_s=[*record.on_demand_rotations_s, now],
        )

    def _current(self, record: KeyRecord) -> tuple[KeyRecord, int]:
        """The key with its scheduled rotation done if its date has passed, and the
        sequence of that change (0: none) to make durable before the ciphertext is used."""
        due = record.next_rotation_s
        if not record.rotation_enabled or due is None or self.now_s() < due:
            return record, 0
        latest = self._keys[record.key_id]  # another call may have rotated it meanwhile
        if latest.next_rotation_s != due:
            return latest, 0
        rotated = msgspec.structs.replace(
            latest,
            materials=[*latest.materials, os.urandom(MATERIAL_BYTES)],
            rotations_s=[*latest.rotations_s, due],
            next_rotation_s=due + latest.rotation_period_days * DAY_S,
        )
        return rotated, self._apply([rotated], [])

    # Aliases

    def _check_new_alias_name(self, name: str) -> None:
        if not name.startswith("alias/"):
            raise KmsValidation(
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        if name.startswith(RESERVED_PREFIX):
            raise InvalidAliasName(
                f"{name} is reserved for AWS managed keys: an alias may not begin with alias/aws/."
            )

    def _alias_target(self, target_text: str) -> KeyRecord:
        if target_text.startswith("alias/") or ":alias/" in target_text:
            raise KmsValidation("Aliases must refer to keys. Not aliases")
        record = self.find(target_text)
        self.changeable(record)
        return record

    async def create_alias(self, name: str, target_text: str) -> None:
        self._check_new_alias_name(name)
        if self._alias(name) is not None:
            raise AliasExists(f"An alias with the name {self.alias_arn(name)} already exists")
        record = self._alias_target(target_text)
        now = self.now_s()
        await self._commit([], [AliasRecord(name, record.key_id, now, now)])

    async def update_alias(self, name: str, target_text: str) -> None:
        self._check_new_alias_name(name)
        alias = self._alias(name)
        if alias is None:
            raise KeyNotFound(f"Alias {self.alias_arn(name)} is not found.")
        record = self._alias_target(target_text)
        changed = AliasRecord(name, record.key_id, alias.created_s, self.now_s())
        await self._commit([], [changed])

    async def delete_alias(self, name: str) -> None:
        if not name.startswith("alias/"):
            raise KmsValidation(
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        alias = self._alias(name)
        if alias is None:
            raise KeyNotFound(f"Alias {self.alias_arn(name)} is not found.")
        if name.startswith(RESERVED_PREFIX):
            raise InvalidAliasName(f"{name} belongs to an AWS managed key and cannot be deleted.")
        self.changeable(self._keys[alias.target_key_id])
        await self._commit([], [], (name,))

    # Cryptography

    async def encrypt(self, record: KeyRecord, plaintext: bytes, context: Context | None) -> bytes:
        self.usable(record)
        record, sequence = self._current(record)
        blob = _seal(record, plaintext, context)
        if sequence:
            await self.store.durable(sequence)
        return blob

    def encrypt_now(self, record: KeyRecord, plaintext: bytes, context: Context | None) -> bytes:
        """``encrypt`` without waiting: a rotation that fell due is applied, and the
        caller's own commit, which follows, makes it durable (the WAL is in order)."""
        self.usable(record)
        return _seal(self._current(record)[0], plaintext, context)

    def key_named_by(self, blob: bytes) -> KeyRecord | None:
        """The live key a ciphertext blob names, None if the blob is not one of ours."""
        try:
            key_id, _ = ciphertext.key_of(blob)
        except InvalidCiphertext:
            return None
        return self._live(key_id)

    def decrypt(
        self, blob: bytes, context: Context | None, expected: KeyRecord | None = None
    ) -> tuple[bytes, KeyRecord]:
        """The plaintext and the key that sealed it (the blob names its key)."""
        key_id, version = ciphertext.key_of(blob)
        if expected is not None and expected.key_id != key_id:
            raise IncorrectKey()
        if not KEY_ID.fullmatch(key_id):
            raise InvalidCiphertext()
        record = self._live(key_id)
        if record is None:  # deleted: its ciphertexts can never be opened again
            raise KeyNotFound(f"Key '{self.key_arn(key_id)}' does not exist")
        if version >= len(record.materials):
            raise InvalidCiphertext()
        self.usable(record)
        return ciphertext.open_blob(record.materials[version], blob, context), record

    async def generate_data_key(
        self, record: KeyRecord, context: Context | None, size_bytes: int = 32
    ) -> tuple[bytes, bytes]:
        """(plaintext data key, its ciphertext blob under ``record``)."""
        plaintext = os.urandom(size_bytes)
        return plaintext, await self.encrypt(record, plaintext, context)

    def used(self, operation: str, record: KeyRecord, invoked_by: str) -> None:
        """Tell the audit trail a service (S3, DynamoDB) used a key on a caller's behalf."""
        if self.on_use is not None:
            self.on_use(KeyUse(operation, self.key_arn(record.key_id), invoked_by))


def _seal(record: KeyRecord, plaintext: bytes, context: Context | None) -> bytes:
    version = len(record.materials) - 1
    return ciphertext.seal(record.materials[version], record.key_id, version, plaintext, context)
