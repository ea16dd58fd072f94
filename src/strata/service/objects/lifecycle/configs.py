"""Buckets' lifecycle configurations: one record per bucket in META, all held in memory.

    META  pack("s3.lifecycle") + pack(bucket)  -> LifecycleConfiguration

Kept beside the ``BucketRecord`` (as the access settings are) so object requests never
decode rules. Every configuration is loaded at start-up (and after the store is
replaced) into ``by_bucket``; ``expiring`` holds the buckets with an enabled Expiration
rule, so the ``x-amz-expiration`` hook on PUT/GET/HEAD is one dict lookup for a bucket
without one. CreateBucket and DeleteBucket clear the record, so a deleted bucket's rules
never apply to a new bucket of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from strata.service.objects.lifecycle.rules import LifecycleConfiguration
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

_PREFIX: Final = keys.pack("s3.lifecycle")


def _key(bucket: str) -> bytes:
    return _PREFIX + keys.pack(bucket)


class LifecycleConfigs:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_bucket: dict[str, LifecycleConfiguration] = {}
        self.expiring: dict[str, LifecycleConfiguration] = {}
        self.on_change: list[Callable[[], None]] = []  # the engine's wake-up
        self.load()

    def load(self) -> None:
        """Read every configuration (start-up, and after a restore or reset)."""
        loaded: dict[str, LifecycleConfiguration] = {}
        for raw_key, raw in self.store.scan(spaces.META, _PREFIX, keys.prefix_end(_PREFIX)):
            bucket, _ = keys.decode_str(raw_key, len(_PREFIX))
            loaded[bucket] = records.decode(raw, LifecycleConfiguration)
        self.by_bucket = loaded
        self._index()

    def _index(self) -> None:
        self.expiring = {b: c for b, c in self.by_bucket.items() if c.expires_objects}

    def get(self, bucket: str) -> LifecycleConfiguration | None:
        return self.by_bucket.get(bucket)

    async def put(self, bucket: str, config: LifecycleConfiguration) -> None:
        batch = WriteBatch()
        batch.put(spaces.META, _key(bucket), records.encode(config))
        # Memory follows the apply at once (no await between): the last writer wins in both.
        sequence = self.store.apply(batch)
        self.by_bucket[bucket] = config
        self._index()
        await self.store.durable(sequence)
        for wake in self.on_change:
            wake()  # rules apply to existing objects too: run a pass soon

    async def delete(self, bucket: str) -> None:
        batch = WriteBatch()
        batch.delete(spaces.META, _key(bucket))
        sequence = self.store.apply(batch)
        self.by_bucket.pop(bucket, None)
        self._index()
        await self.store.durable(sequence)
