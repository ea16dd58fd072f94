"""When each access key was last used (GetAccessKeyLastUsed), kept across restarts.

Every signed request notes its key; writing that per request would put a WAL sync on every
GET. So a request only replaces its key's entry in a dict (one assignment), and a
background task writes the entries noted since its last pass in one batch every
``flush_interval_s``, and once more at shutdown. A crash loses at most the last interval's
notes, never an earlier one; AWS itself updates the figure hours late. Records, in META::

    META  pack("iam.key-last-used") + pack(access_key)  -> KeyLastUsed
"""

from __future__ import annotations

import logging
from typing import Final

import msgspec

from strata.errors import StrataError
from strata.service.background import PeriodicTask
from strata.storage import keys, records, spaces
from strata.storage.clock import Clock
from strata.storage.store import Store, WriteBatch

log = logging.getLogger("strata")

_PREFIX: Final = keys.pack("iam.key-last-used")
FLUSH_INTERVAL_S: Final = 5.0


class KeyLastUsed(msgspec.Struct, frozen=True, array_like=True):
    when_s: float
    service: str
    region: str


def _key(access_key: str) -> bytes:
    return _PREFIX + keys.pack(access_key)


class KeyUsage:
    def __init__(self, store: Store, clock: Clock, flush_interval_s: float = FLUSH_INTERVAL_S):
        self.store = store
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self._noted: dict[str, KeyLastUsed] = {}  # since the last flush
        self._task = PeriodicTask("strata-key-usage", self._pass, flush_interval_s, log)

    def note(self, access_key: str, service: str, region: str) -> None:
        self._noted[access_key] = KeyLastUsed(self.clock.now_s(), service, region)

    def get(self, access_key: str) -> KeyLastUsed | None:
        found = self._noted.get(access_key)
        if found is not None:
            return found
        raw = self.store.get(spaces.META, _key(access_key))
        return None if raw is None else records.decode(raw, KeyLastUsed)

    async def forget(self, access_key: str) -> None:
        """A deleted key's record goes with it."""
        self._noted.pop(access_key, None)
        batch = WriteBatch()
        batch.delete(spaces.META, _key(access_key))
        await self.store.commit(batch)

    async def flush(self) -> None:
        """Write what was noted since the last flush, in one batch, and wait for its sync."""
        noted, self._noted = self._noted, {}
        if not noted:
            return
        batch = WriteBatch()
        for access_key, used in noted.items():
            batch.put(spaces.META, _key(access_key), records.encode(used))
        try:
            await self.store.commit(batch)
        except BaseException:
            for access_key, used in noted.items():  # keep them for the next pass
                self._noted.setdefault(access_key, used)
            raise

    async def _pass(self) -> None:
        try:
            await self.flush()
        except StrataError as exc:  # a full disk, say: kept for the next pass
            log.warning("access keys' last use not written (kept in memory): %s", exc)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        """Stop the passes, then write what the last one had not."""
        await self._task.stop()
        try:
            await self.flush()
        except StrataError as exc:  # a full disk, say: the rest of shutdown goes on
            log.warning("access keys' last use not written at stop: %s", exc)
