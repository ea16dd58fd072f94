"""Buckets: create, look up, delete, list, and their configuration (versioning, tags, CORS).

Configuration changes are read-modify-write of the ``BucketRecord`` with no ``await``
between the read and the commit that applies the batch, so concurrent changes never
lose each other.
"""

from __future__ import annotations

import msgspec

from strata.service.objects import statistics
from strata.service.objects.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    NoSuchBucket,
    NoSuchCORSConfiguration,
    NoSuchTagSet,
)
from strata.service.objects.locks import versioning_locked
from strata.service.objects.records import BucketRecord, CorsRule, bucket_key
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

_DECODED_MAX = 1024  # bucket records whose decoding is remembered


class BucketService:
    def __init__(self, store: Store) -> None:
        self.store = store
        # name -> (stored bytes, their record): every object request reads its bucket's
        # record; the store is read each time, only decoding is skipped while the bytes
        # are the same (records are frozen, so sharing one is safe).
        self._decoded: dict[str, tuple[bytes, BucketRecord]] = {}

    def get(self, name: str) -> BucketRecord:
        raw = self.store.get(spaces.BUCKETS, bucket_key(name))
        if raw is None:
            raise NoSuchBucket(name)
        known = self._decoded.get(name)
        if known is not None and known[0] == raw:
            return known[1]
        record = records.decode(raw, BucketRecord)
        if len(self._decoded) >= _DECODED_MAX:
            self._decoded.clear()
        self._decoded[name] = (raw, record)
        return record

    def stats(self) -> dict[str, statistics.BucketStats]:
        """Every bucket's object versions and bytes by storage class (no objects read)."""
        return statistics.read_all(self.store)

    def count(self) -> int:
        """How many buckets (keys only: no record is decoded)."""
        return sum(1 for _ in self.store.scan(spaces.BUCKETS, b""))

    def list_all(self) -> list[BucketRecord]:
        return [records.decode(v, BucketRecord) for _, v in self.store.scan(spaces.BUCKETS, b"")]

    async def create(self, name: str, region: str, *, object_lock: bool = False) -> BucketRecord:
        """``object_lock`` turns on Object Lock, and with it versioning, for good."""
        if self.store.get(spaces.BUCKETS, bucket_key(name)) is not None:
            raise BucketAlreadyOwnedByYou(name)
        record = BucketRecord(
            name=name,
            created_ms=int(self.store.clock.now_s() * 1000),
            region=region,
            versioning="Enabled" if object_lock else "",
            object_lock=object_lock,
        )
        batch = WriteBatch()
        batch.put(spaces.BUCKETS, bucket_key(name), records.encode(record))
        batch.delete(spaces.META, statistics.stats_key(name))  # nothing left of a namesake
        await self.store.commit(batch)
        return record

    def has_objects(self, name: str) -> bool:
        """Whether any version or delete marker is left (uploads in progress do not count)."""
        prefix = keys.pack(name)
        for _ in self.store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)):
            return True
        return False

    def stage_delete(self, batch: WriteBatch, name: str) -> None:
        """Add the removal of an empty bucket to ``batch``; ``BucketNotEmpty`` if it is not.

        Call with no ``await`` between this and the commit of ``batch``.
        """
        self.get(name)
        if self.has_objects(name):
            raise BucketNotEmpty(name)
        batch.delete(spaces.BUCKETS, bucket_key(name))
        batch.delete(spaces.META, statistics.stats_key(name))

    async def update(self, name: str, **changes: object) -> BucketRecord:
        """Change fields of the bucket's record: read, replace and commit, no await between."""
        return await self._update(name, **changes)

    async def _update(self, name: str, **changes: object) -> BucketRecord:
        record = msgspec.structs.replace(self.get(name), **changes)
        batch = WriteBatch()
        batch.put(spaces.BUCKETS, bucket_key(name), records.encode(record))
        await self.store.commit(batch)
        return record

    async def put_versioning(self, name: str, status: str) -> None:
        assert status in ("Enabled", "Suspended")
        if status == "Suspended" and self.get(name).object_lock:
            raise versioning_locked()
        await self._update(name, versioning=status)

    def get_tags(self, name: str) -> list[tuple[str, str]]:
        tags = self.get(name).tags
        if tags is None:
            raise NoSuchTagSet(name)
        return tags

    async def put_tags(self, name: str, tags: list[tuple[str, str]]) -> None:
        await self._update(name, tags=tags)

    async def delete_tags(self, name: str) -> None:
        await self._update(name, tags=None)

    def get_cors(self, name: str) -> list[CorsRule]:
        rules = self.get(name).cors
        if rules is None:
            raise NoSuchCORSConfiguration(name)
        return rules

    async def put_cors(self, name: str, rules: list[CorsRule]) -> None:
        await self._update(name, cors=rules)

    async def delete_cors(self, name: str) -> None:
        await self._update(name, cors=None)
