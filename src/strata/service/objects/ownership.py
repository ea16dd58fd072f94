"""A bucket's access settings: Object Ownership, Block Public Access, its ACL and policy.

Kept beside the ``BucketRecord`` rather than in it, one record per bucket in META::

    META  pack("s3.bucket-access") + pack(bucket)  -> BucketAccess

No record means what S3 gives a new bucket: ownership ``BucketOwnerEnforced`` (ACLs
disabled), every Block Public Access setting on, and an ACL granting the owner alone.
CreateBucket writes (or clears) the record, so a record left by a deleted bucket of the
same name never leaks into a new one; DeleteBucket removes it.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.service.objects.records import Grant
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

BUCKET_OWNER_ENFORCED: Final = "BucketOwnerEnforced"
OBJECT_OWNERSHIPS: Final = frozenset(
    {BUCKET_OWNER_ENFORCED, "BucketOwnerPreferred", "ObjectWriter"}
)
PUBLIC_ACCESS_BLOCK_FIELDS: Final = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
_PREFIX: Final = keys.pack("s3.bucket-access")
# Bumped on every write of an access record: ``bucket_policies`` caches what it read
# until it changes (or the store is replaced).
writes = 0


class BucketAccess(msgspec.Struct, frozen=True):
    # None: no OwnershipControls (deleted); S3 then behaves as ObjectWriter.
    ownership: str | None = BUCKET_OWNER_ENFORCED
    # None: no PublicAccessBlock configuration (deleted); else the four settings in order.
    public_access_block: tuple[bool, bool, bool, bool] | None = (True, True, True, True)
    grants: list[Grant] | None = None  # None: the owner's FULL_CONTROL alone
    policy: str | None = None  # the bucket policy as sent (``bucket_policies.py``)

    @property
    def acls_enabled(self) -> bool:
        return self.ownership != BUCKET_OWNER_ENFORCED

    @property
    def blocks_public_acls(self) -> bool:
        return self.public_access_block is not None and self.public_access_block[0]


def _key(bucket: str) -> bytes:
    return _PREFIX + keys.pack(bucket)


class BucketAccessService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, bucket: str) -> BucketAccess:
        raw = self.store.get(spaces.META, _key(bucket))
        return BucketAccess() if raw is None else records.decode(raw, BucketAccess)

    async def put(self, bucket: str, access: BucketAccess) -> None:
        batch = WriteBatch()
        if access == BucketAccess():
            batch.delete(spaces.META, _key(bucket))
        else:
            batch.put(spaces.META, _key(bucket), records.encode(access))
        await self._commit(batch)

    async def update(self, bucket: str, **changes: object) -> BucketAccess:
        # No await between the read and the commit's apply: concurrent changes keep each other.
        access = msgspec.structs.replace(self.get(bucket), **changes)
        await self.put(bucket, access)
        return access

    async def forget(self, bucket: str) -> None:
        batch = WriteBatch()
        batch.delete(spaces.META, _key(bucket))
        await self._commit(batch)

    async def _commit(self, batch: WriteBatch) -> None:
        global writes
        writes += 1  # before the apply, and after: a reader caching in between re-reads
        try:
            await self.store.commit(batch)
        finally:
            writes += 1
