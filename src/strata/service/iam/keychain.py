"""Every access key a request may be signed with: the account root's (``strata keys``,
credentials.json), IAM users' and STS sessions' (the IAM space, through ``Directory``).

A lookup is a dict lookup: the directory is in memory, and the principal built for a key
is kept until the next IAM write. An Inactive or deleted key stops working at that write,
since the directory changes in the same step the write is applied.
"""

from __future__ import annotations

from strata.errors import ExpiredToken, InvalidToken
from strata.service.iam import ids, records
from strata.service.iam.directory import Directory
from strata.service.iam.key_usage import KeyUsage
from strata.service.iam.principal import (
    KeyLookup,
    Principal,
    assumed_role_principal,
    root_principal,
    user_principal,
)
from strata.storage.clock import Clock


class KeyChain:
    def __init__(
        self, directory: Directory, roots: KeyLookup, clock: Clock, account_id: str
    ) -> None:
        self.directory = directory
        self.roots = roots
        self.clock = clock
        self.account_id = account_id
        self.usage = KeyUsage(directory.store, clock)  # last use, written in batches
        self._signers: dict[str, tuple[str, Principal]] = {}
        self._generation = -1

    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None:
        if access_key.startswith(ids.SESSION_KEY_PREFIX):
            return self._session(access_key, session_token)
        if self._generation != self.directory.generation:
            self._signers = {}
            self._generation = self.directory.generation
        found = self._signers.get(access_key)
        if found is None:
            found = self._user_key(access_key)
            if found is None:
                found = self.roots.lookup(access_key)
                if found is None:
                    return None
            else:
                self._signers[access_key] = found
        if session_token is not None:
            raise InvalidToken()  # a permanent key signs without a session token
        return found

    def _user_key(self, access_key: str) -> tuple[str, Principal] | None:
        key = self.directory.access_key(access_key)
        if key is None or key.status != records.ACTIVE:
            return None
        user = self.directory.user(key.user_name)
        if user is None:
            return None
        principal = user_principal(self.account_id, user.name, user.user_id, access_key, user.path)
        return key.secret_key, principal

    def _session(self, access_key: str, token: str | None) -> tuple[str, Principal] | None:
        session = self.directory.session(access_key)
        if session is None or token is None:
            return None
        if token != session.token:
            raise InvalidToken()
        if self.clock.now_s() >= session.expires_s:
            raise ExpiredToken()
        if session.role_name:
            principal = assumed_role_principal(
                self.account_id, session.role_name, session.role_id, session.session_name,
                access_key,
            )  # fmt: skip
        elif session.root:
            principal = root_principal(self.account_id, access_key)
        else:
            user = self.directory.user(session.user_name)
            if user is None:
                return None
            principal = user_principal(
                self.account_id, user.name, user.user_id, access_key, user.path
            )
        return session.secret_key, principal

    def note_used(self, access_key: str, service: str, region: str) -> None:
        self.usage.note(access_key, service, region)
