"""Bucket policies: stored in the bucket's access record (``ownership.py``, beside Block
Public Access, so one read serves both), compiled once per text, and offered to the
policy ``Decider`` as the resource policy of the bucket and of every object in it.

RestrictPublicBuckets (on, with a public policy) limits the bucket to principals of the
account: the policy's Allow statements stop counting for anonymous callers.
"""

from __future__ import annotations

from typing import Final

from strata.service.iam.policy import PolicyDocument, PolicyKind, parse_policy
from strata.service.iam.policy.decider import ResourcePolicy
from strata.service.iam.policy.public import is_public
from strata.service.objects import ownership
from strata.service.objects.ownership import BucketAccess, BucketAccessService
from strata.storage.store import Store

_ARN_PREFIX: Final = "arn:aws:s3:::"
COMPILED_MAX: Final = 4096
RESTRICT_PUBLIC_BUCKETS: Final = 3  # index in BucketAccess.public_access_block


def compile_bucket_policy(text: str) -> PolicyDocument:
    """Raise ``MalformedPolicyDocument`` (with its ``reason``) unless ``text`` is a policy."""
    return parse_policy(text, PolicyKind.RESOURCE)


class BucketPolicies:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._compiled: dict[tuple[str, bool], ResourcePolicy] = {}
        self._by_bucket: dict[str, ResourcePolicy | None] = {}
        self._stamp: tuple[int, int] = (-1, -1)

    def access(self, bucket: str) -> BucketAccess:
        return BucketAccessService(self.store).get(bucket)

    def text(self, bucket: str) -> str | None:
        return self.access(bucket).policy

    async def put(self, bucket: str, text: str | None) -> None:
        await BucketAccessService(self.store).update(bucket, policy=text)

    def policy_for(self, resource: str) -> ResourcePolicy | None:
        if not resource.startswith(_ARN_PREFIX):
            return None
        return self.bucket_policy(resource[len(_ARN_PREFIX) :].split("/", 1)[0])

    def denies(self, bucket: str) -> bool:
        """The bucket's policy has a Deny statement (then the account root is checked too)."""
        found = self.bucket_policy(bucket)
        return found is not None and found.denies

    def bucket_policy(self, bucket: str) -> ResourcePolicy | None:
        # one read per bucket until an access record is written or the store is replaced
        stamp = (ownership.writes, getattr(self.store, "generation", 0))
        if stamp != self._stamp:
            self._by_bucket.clear()
            self._stamp = stamp
        if bucket in self._by_bucket:
            return self._by_bucket[bucket]
        found = self._read(bucket)
        if len(self._by_bucket) >= COMPILED_MAX:
            self._by_bucket.clear()
        self._by_bucket[bucket] = found
        return found

    def _read(self, bucket: str) -> ResourcePolicy | None:
        access = self.access(bucket)
        if access.policy is None:
            return None
        block = access.public_access_block
        restrict = block is not None and block[RESTRICT_PUBLIC_BUCKETS]
        key = (access.policy, restrict)
        found = self._compiled.get(key)
        if found is None:
            if len(self._compiled) >= COMPILED_MAX:
                self._compiled.clear()
            document = compile_bucket_policy(access.policy)
            denies = any(not statement.allow for statement in document.statements)
            found = ResourcePolicy(document, restrict and is_public(document), denies)
            self._compiled[key] = found
        return found
