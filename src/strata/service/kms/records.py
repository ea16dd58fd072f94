"""The KMS space's layout and records: one record per key, one per alias.

Keys are ``pack(kind, key id)`` and ``pack(kind, alias name)``. A key's material is a list
of versions (rotation appends one); a ciphertext names the version it was sealed with, so
old ciphertexts still open after a rotation. Material is 32 random bytes per version, stored
wrapped by the server's master key (``wrapped_by`` names it), plain only in memory, and
never logged (``KeyRecord.__repr__``).
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.storage import keys

KEY: Final = "key"
ALIAS: Final = "alias"

ENABLED: Final = "Enabled"
DISABLED: Final = "Disabled"
PENDING_DELETION: Final = "PendingDeletion"

CUSTOMER: Final = "CUSTOMER"
AWS: Final = "AWS"

Tags = list[tuple[str, str]]


def record_key(kind: str, name: str) -> bytes:
    return keys.pack(kind, name)


class KeyRecord(msgspec.Struct, frozen=True):
    key_id: str  # a UUID
    created_s: float
    description: str
    state: str  # Enabled | Disabled | PendingDeletion
    materials: list[bytes]  # version i's 256-bit key; the last one seals new ciphertexts
    manager: str = CUSTOMER  # AWS for the aws/s3, aws/dynamodb keys made on first use
    key_usage: str = "ENCRYPT_DECRYPT"
    key_spec: str = "SYMMETRIC_DEFAULT"
    policy: str = ""
    tags: Tags = msgspec.field(default_factory=list)
    deletion_s: float | None = None  # PendingDeletion: when the key is gone
    pending_window_days: int | None = None
    state_before_deletion: str = ENABLED  # what CancelKeyDeletion does not restore (AWS: Disabled)
    rotation_enabled: bool = False
    rotation_period_days: int = 365
    next_rotation_s: float | None = None
    rotations_s: list[float] = msgspec.field(default_factory=list)  # when each later version began
    on_demand_rotations_s: list[float] = msgspec.field(default_factory=list)
    wrapped_by: str = ""  # stored: the master key id wrapping ``materials`` ("": plain)

    def __repr__(self) -> str:  # material never reaches a log
        return f"KeyRecord({self.key_id!r}, {self.state}, versions={len(self.materials)})"


class AliasRecord(msgspec.Struct, frozen=True):
    name: str  # alias/...
    target_key_id: str
    created_s: float
    updated_s: float
