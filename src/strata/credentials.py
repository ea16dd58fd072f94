"""Access keys: the root pair and any created with ``strata keys``.

Kept in ``<data-dir>/credentials.json`` with 0600 permissions rather than in RocksDB, so
``strata keys create`` works while a server holds the database open; the server re-reads
the file when it changes. Secrets never go to logs: ``KeyPair.__repr__`` hides them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import threading
import time
from dataclasses import dataclass

from strata.errors import DiskFull
from strata.service.iam.principal import DEFAULT_ACCOUNT_ID, Principal, root_principal

FILE_NAME = "credentials.json"
_ACCESS_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True, slots=True)
class KeyPair:
    access_key: str
    secret_key: str
    root: bool = False
    created_s: float = 0.0

    def __repr__(self) -> str:
        return f"KeyPair(access_key={self.access_key!r}, root={self.root})"


def generate_pair(root: bool = False) -> KeyPair:
    access = "AKSA" + "".join(secrets.choice(_ACCESS_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return KeyPair(access, secret, root, time.time())


class KeyRing:
    """Secrets by access key, loaded from the data directory's key file."""

    def __init__(self, data_dir: str, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.path = os.path.join(data_dir, FILE_NAME)
        self.account_id = account_id
        self._pairs: dict[str, KeyPair] = {}
        self._signers: dict[str, tuple[str, Principal]] = {}
        self._mtime_ns = -1
        self._checked_s = 0.0
        self._lock = threading.Lock()

    def load(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._pairs = {}
            self._signers = {}
            self._mtime_ns = -1
            return
        if stat.st_mtime_ns == self._mtime_ns:
            return
        with open(self.path, "rb") as handle:
            raw = json.load(handle)
        pairs = {}
        for entry in raw.get("keys", []):
            pair = KeyPair(
                str(entry["access_key"]),
                str(entry["secret_key"]),
                bool(entry.get("root", False)),
                float(entry.get("created_s", 0.0)),
            )
            pairs[pair.access_key] = pair
        # Every key in the file is the account root's: ``strata keys create`` has always
        # made keys that may do anything. IAM users' keys live in the store.
        self._signers = {
            k: (p.secret_key, root_principal(self.account_id, k)) for k, p in pairs.items()
        }
        self._pairs = pairs
        self._mtime_ns = stat.st_mtime_ns

    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None:
        """The secret and the (root) principal of ``access_key`` (``KeyChain`` refuses a
        session token with a root key)."""
        # `strata keys` may have changed the file: look at its mtime once a second, and at
        # once for a key we do not know (a stat is cheap; a reload happens only on change).
        now = time.monotonic()
        if now - self._checked_s >= 1.0 or access_key not in self._signers:
            self._checked_s = now
            self.load()
        return self._signers.get(access_key)

    def note_used(self, access_key: str, service: str, region: str) -> None:
        pass

    def pairs(self) -> list[KeyPair]:
        self.load()
        return sorted(self._pairs.values(), key=lambda p: (not p.root, p.created_s))

    def root(self) -> KeyPair | None:
        return next((p for p in self.pairs() if p.root), None)

    def set_root(self, pair: KeyPair) -> None:
        """Make ``pair`` the root pair (from the environment, or generated at first start)."""
        with self._lock:
            self.load()
            pairs = {k: p for k, p in self._pairs.items() if not p.root}
            pairs[pair.access_key] = KeyPair(pair.access_key, pair.secret_key, True, pair.created_s)
            self._save(pairs)

    def add(self, pair: KeyPair) -> None:
        with self._lock:
            self.load()
            pairs = dict(self._pairs)
            pairs[pair.access_key] = pair
            self._save(pairs)

    def remove(self, access_key: str) -> bool:
        with self._lock:
            self.load()
            if access_key not in self._pairs:
                return False
            pairs = {k: p for k, p in self._pairs.items() if k != access_key}
            self._save(pairs)
            return True

    def _save(self, pairs: dict[str, KeyPair]) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        doc = {
            "keys": [
                {
                    "access_key": p.access_key,
                    "secret_key": p.secret_key,
                    "root": p.root,
                    "created_s": p.created_s,
                }
                for p in pairs.values()
            ]
        }
        tmp = self.path + ".tmp"
        # A buffered file: its flush writes every byte or raises (a raw write may be short).
        # On any failure (ENOSPC is DiskFull) the old file stays and the partial one goes.
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if DiskFull.is_cause(exc):
                raise DiskFull() from exc
            raise
        self._mtime_ns = -1
        self.load()
