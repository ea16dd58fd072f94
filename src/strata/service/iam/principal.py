"""Who a request comes from: what authentication yields and authorization decides on.

One account per Strata instance (setting ``account_id``). The root user may do anything;
IAM users only what their policies allow; an unsigned request is the anonymous principal.
The layers below the auth edge see a ``Principal``, never an access key's secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

DEFAULT_ACCOUNT_ID: Final = "000000000000"  # LocalStack's default: what emulator users expect


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: str
    arn: str  # arn:aws:iam::<account>:root | ...:user/<path><name>; "*" when anonymous
    user_id: str  # AWS's unique id: the account id for root, AIDA... for a user
    access_key: str | None = None  # the key that signed the request
    user_name: str | None = None  # an IAM user's name (None for root and anonymous)
    root: bool = False
    anonymous: bool = False
    role_name: str | None = None  # an assumed role's name (its session is in ``arn``)
    session_name: str | None = None


def root_principal(account_id: str, access_key: str | None = None) -> Principal:
    return Principal(
        account_id, f"arn:aws:iam::{account_id}:root", account_id, access_key, root=True
    )


def anonymous_principal(account_id: str) -> Principal:
    return Principal(account_id, "*", "anonymous", anonymous=True)


def user_principal(
    account_id: str, user_name: str, user_id: str, access_key: str, path: str = "/"
) -> Principal:
    arn = f"arn:aws:iam::{account_id}:user{path}{user_name}"
    return Principal(account_id, arn, user_id, access_key, user_name)


def assumed_role_principal(
    account_id: str, role_name: str, role_id: str, session_name: str, access_key: str
) -> Principal:
    """Who signs with ``sts:AssumeRole``'s credentials: AWS's user id is ``<role id>:<session>``."""
    arn = f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"
    return Principal(
        account_id, arn, f"{role_id}:{session_name}", access_key,
        role_name=role_name, session_name=session_name,
    )  # fmt: skip


class KeyLookup(Protocol):
    """Access key -> (secret key, the principal it signs for); None for an unknown key.

    ``session_token`` is the request's ``x-amz-security-token``: temporary credentials
    need the token they were issued with (``InvalidToken`` otherwise, ``ExpiredToken``
    past their expiry); a permanent key refuses one."""

    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None: ...

    def note_used(self, access_key: str, service: str, region: str) -> None:
        """A request signed with ``access_key`` passed (GetAccessKeyLastUsed)."""
        ...
