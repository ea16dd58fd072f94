"""The IAM space's key layout and records: users, access keys, groups, managed policies,
roles and STS sessions, one record per entity, each written in one batch.

Keys are ``pack(kind, lower-cased name)``: IAM names are unique regardless of case
("Alice" and "alice" are one user), while the record keeps the name as created. Access
keys and sessions are keyed by their access key id. Membership lives on the group record
only and attachments on the entity that has them; the reverse views (a user's groups, a
policy's attachment count) are derived in memory when the space is loaded.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.storage import keys

USER: Final = "user"
ACCESS_KEY: Final = "key"
GROUP: Final = "group"
POLICY: Final = "policy"
ROLE: Final = "role"
SESSION: Final = "session"

ACTIVE: Final = "Active"
INACTIVE: Final = "Inactive"

Tags = list[tuple[str, str]]


def record_key(kind: str, name: str) -> bytes:
    """The key of an entity: names fold case, access key ids are kept as they are."""
    folded = name if kind in (ACCESS_KEY, SESSION) else name.lower()
    return keys.pack(kind, folded)


def kind_of(key: bytes) -> str:
    return keys.decode_str(key)[0]


class UserRecord(msgspec.Struct, frozen=True):
    name: str
    user_id: str  # AIDA...
    path: str
    created_s: float
    tags: Tags = msgspec.field(default_factory=list)
    inline: dict[str, str] = msgspec.field(default_factory=dict)  # policy name -> document
    attached: list[str] = msgspec.field(default_factory=list)  # managed policy ARNs


class AccessKeyRecord(msgspec.Struct, frozen=True):
    access_key: str  # AKIA...
    secret_key: str
    user_name: str
    status: str  # Active | Inactive
    created_s: float

    def __repr__(self) -> str:  # the secret never reaches a log
        return f"AccessKeyRecord({self.access_key!r}, user={self.user_name!r}, {self.status})"


class GroupRecord(msgspec.Struct, frozen=True):
    name: str
    group_id: str  # AGPA...
    path: str
    created_s: float
    members: list[str] = msgspec.field(default_factory=list)  # user names, as created
    inline: dict[str, str] = msgspec.field(default_factory=dict)
    attached: list[str] = msgspec.field(default_factory=list)


class PolicyVersion(msgspec.Struct, frozen=True):
    version_id: str  # v1, v2, ...
    document: str
    created_s: float


class ManagedPolicyRecord(msgspec.Struct, frozen=True):
    name: str
    policy_id: str  # ANPA...
    path: str
    created_s: float
    updated_s: float
    default_version: str
    versions: list[PolicyVersion]  # oldest first, at most five
    next_version: int  # the number the next CreatePolicyVersion gets
    description: str = ""
    tags: Tags = msgspec.field(default_factory=list)

    def version(self, version_id: str) -> PolicyVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)

    @property
    def default_document(self) -> str:
        found = self.version(self.default_version)
        assert found is not None, "a managed policy always has its default version"
        return found.document


class RoleRecord(msgspec.Struct, frozen=True):
    name: str
    role_id: str  # AROA...
    path: str
    created_s: float
    trust_policy: str
    max_session_s: int = 3600
    description: str = ""
    tags: Tags = msgspec.field(default_factory=list)
    inline: dict[str, str] = msgspec.field(default_factory=dict)
    attached: list[str] = msgspec.field(default_factory=list)


class SessionRecord(msgspec.Struct, frozen=True):
    """Temporary credentials issued by STS: valid until ``expires_s`` by the store clock."""

    access_key: str  # ASIA...
    secret_key: str
    token: str
    expires_s: float
    role_name: str  # "" for GetSessionToken's sessions (they act as the user or root)
    role_id: str
    session_name: str
    user_name: str = ""  # GetSessionToken: the user the session speaks for
    root: bool = False  # GetSessionToken called by the account root
    session_policy: str | None = None
    # AssumeRole's PolicyArns (managed session policies), session tags (aws:PrincipalTag,
    # over the role's), the tag keys passed on by role chaining, and SourceIdentity
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None

    def __repr__(self) -> str:
        return f"SessionRecord({self.access_key!r}, role={self.role_name!r})"


RECORD_TYPES: Final[dict[str, type[msgspec.Struct]]] = {
    USER: UserRecord,
    ACCESS_KEY: AccessKeyRecord,
    GROUP: GroupRecord,
    POLICY: ManagedPolicyRecord,
    ROLE: RoleRecord,
    SESSION: SessionRecord,
}
