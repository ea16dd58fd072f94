"""A bucket's Intelligent-Tiering configurations: the opt-in archive tiers, by filter.

Kept beside the ``BucketRecord``, one record per configuration in META::

    META  pack("s3.intelligent-tiering") + pack(bucket, created_ms, id) -> TieringConfiguration

The bucket's creation time is in the key, so a deleted bucket's configurations never
apply to a new bucket of the same name (DeleteBucket also removes them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec

from strata.errors import ProtocolError
from strata.service.objects.buckets import BucketService
from strata.service.objects.tiering.tiers import ARCHIVE_ACCESS, DEEP_ARCHIVE_ACCESS
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

CONFIGURATIONS_MAX: Final = 1000
ID_CHARS_MAX: Final = 64
DAYS_MIN: Final = {ARCHIVE_ACCESS: 90, DEEP_ARCHIVE_ACCESS: 180}
DAYS_MAX: Final = 730
_PREFIX: Final = keys.pack("s3.intelligent-tiering")


class TieringFilter(msgspec.Struct, frozen=True):
    """``Filter``: a prefix, one tag, or ``And`` of a prefix and tags (``conjunction``)."""

    prefix: str | None = None
    tags: list[tuple[str, str]] = []
    conjunction: bool = False

    def matches(self, key: str, tags: Iterable[tuple[str, str]]) -> bool:
        if self.prefix and not key.startswith(self.prefix):
            return False
        if not self.tags:
            return True
        have = set(tags)
        return all(tag in have for tag in self.tags)


class TieringConfiguration(msgspec.Struct, frozen=True):
    id: str
    status: str  # "Enabled" or "Disabled"
    tierings: list[tuple[str, int]]  # (access tier, days), as sent
    filter: TieringFilter | None = None

    def days(self, access_tier: str) -> int | None:
        for tier, days in self.tierings:
            if tier == access_tier:
                return days
        return None


def invalid(message: str) -> ProtocolError:
    return ProtocolError("InvalidArgument", message)


def check_id(config_id: str | None) -> str:
    """The ``id`` query parameter: S3's configuration-id rules (as for analytics and
    inventory: 1-64 letters, digits, periods, dashes and underscores)."""
    if config_id is None or config_id == "":
        raise invalid("Missing required parameter: id")
    if len(config_id) > ID_CHARS_MAX or not all(
        c.isascii() and (c.isalnum() or c in "-_.") for c in config_id
    ):
        raise invalid("The Id is not valid")
    return config_id


def check(configuration: TieringConfiguration, query_id: str) -> None:
    """The rules a configuration must meet beyond its XML's shape."""
    if configuration.id != query_id:
        raise invalid("The Id in the request body does not match the id query parameter")
    if not configuration.tierings:
        raise ProtocolError("MalformedXML", "The XML you provided was not well-formed or did "
                            "not validate against our published schema")  # fmt: skip
    seen: set[str] = set()
    for tier, days in configuration.tierings:
        if tier in seen:
            raise invalid(f"Duplicate access tier {tier} in the configuration")
        seen.add(tier)
        if not DAYS_MIN[tier] <= days <= DAYS_MAX:
            raise invalid(f"The {tier} tier days must be between {DAYS_MIN[tier]} and {DAYS_MAX}")
    archive = configuration.days(ARCHIVE_ACCESS)
    deep = configuration.days(DEEP_ARCHIVE_ACCESS)
    if archive is not None and deep is not None and deep <= archive:
        raise invalid(
            "The DEEP_ARCHIVE_ACCESS tier days must be greater than the ARCHIVE_ACCESS tier days"
        )
    found = configuration.filter
    if found is not None and len({k for k, _ in found.tags}) != len(found.tags):
        raise invalid("Duplicate Tag Keys are not allowed.")


class TieringConfigurations:
    """The four operations' storage, and what the tiering engine asks of it."""

    def __init__(self, store: Store, buckets: BucketService) -> None:
        self.store = store
        self.buckets = buckets

    def _prefix(self, bucket: str) -> bytes:
        created_ms = self.buckets.get(bucket).created_ms  # NoSuchBucket first
        return _PREFIX + keys.pack(bucket, created_ms)

    def get(self, bucket: str, config_id: str) -> TieringConfiguration:
        raw = self.store.get(spaces.META, self._prefix(bucket) + keys.encode_str(config_id))
        if raw is None:
            raise no_such_configuration()
        return records.decode(raw, TieringConfiguration)

    def all(self, bucket: str, after: str = "") -> Iterable[TieringConfiguration]:
        """The bucket's configurations in id order, from the first after ``after``."""
        prefix = self._prefix(bucket)
        start = prefix + keys.encode_str(after) + b"\x00" if after else prefix
        for _, value in self.store.scan(spaces.META, start, keys.prefix_end(prefix)):
            yield records.decode(value, TieringConfiguration)

    async def put(self, bucket: str, configuration: TieringConfiguration) -> None:
        prefix = self._prefix(bucket)
        key = prefix + keys.encode_str(configuration.id)
        # No await from the count to the apply: two puts cannot both pass the limit.
        if self.store.get(spaces.META, key) is None:
            count = sum(1 for _ in self.store.scan(spaces.META, prefix, keys.prefix_end(prefix)))
            if count >= CONFIGURATIONS_MAX:
                raise ProtocolError(
                    "TooManyConfigurations",
                    "You are attempting to create a new configuration but have already "
                    "reached the 1,000-configuration limit.",
                )
        batch = WriteBatch()
        batch.put(spaces.META, key, records.encode(configuration))
        await self.store.commit(batch)

    async def delete(self, bucket: str, config_id: str) -> None:
        key = self._prefix(bucket) + keys.encode_str(config_id)
        if self.store.get(spaces.META, key) is None:
            raise no_such_configuration()
        batch = WriteBatch()
        batch.delete(spaces.META, key)
        await self.store.commit(batch)

    async def forget(self, bucket: str) -> None:
        """DeleteBucket: every configuration the bucket's name held, whenever created."""
        prefix = _PREFIX + keys.encode_str(bucket)
        end = keys.prefix_end(prefix)
        assert end is not None
        batch = WriteBatch()
        batch.delete_range(spaces.META, prefix, end)
        await self.store.commit(batch)

    def archive_days(
        self, configurations: list[TieringConfiguration], key: str, tags: list[tuple[str, str]]
    ) -> tuple[int | None, int | None]:
        """(Archive Access days, Deep Archive Access days) for an object: the fewest any
        enabled configuration matching it asks for (None: none asks)."""
        archive: int | None = None
        deep: int | None = None
        for configuration in configurations:
            if configuration.status != "Enabled":
                continue
            if configuration.filter is not None and not configuration.filter.matches(key, tags):
                continue
            days = configuration.days(ARCHIVE_ACCESS)
            if days is not None and (archive is None or days < archive):
                archive = days
            days = configuration.days(DEEP_ARCHIVE_ACCESS)
            if days is not None and (deep is None or days < deep):
                deep = days
        return archive, deep


def no_such_configuration() -> ProtocolError:
    return ProtocolError("NoSuchConfiguration", "The specified configuration does not exist.", 404)
