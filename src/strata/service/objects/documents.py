"""``ObjectDocuments``: whole, small objects for another service, through this service's
own write and read paths (a DynamoDB export writes its files with it, an import reads
them). Nothing goes over HTTP; a put is a PutObject (fsynced, versioned, counted)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from strata.errors import StrataError
from strata.service.objects.errors import NoSuchBucket
from strata.service.objects.integrity import PayloadChecks
from strata.service.objects.listing import list_objects
from strata.service.objects.objects import NewObject, ObjectService

READ_BYTES_MAX: Final = 256 * 1024 * 1024  # a document read whole; larger ones are refused


class DocumentTooLarge(StrataError):
    default_message = "The object is too large to read whole"


class ObjectDocuments:
    def __init__(self, objects: ObjectService) -> None:
        self.objects = objects

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.objects.buckets.get(bucket)
        except NoSuchBucket:
            return False
        return True

    async def put(self, bucket: str, key: str, data: bytes, content_type: str) -> str:
        """Store ``data`` at ``key``; its ETag (hex MD5)."""

        async def body() -> AsyncIterator[bytes]:
            yield data

        _, version = await self.objects.put(
            bucket,
            key,
            body(),
            declared_size=len(data),
            new=NewObject(headers={"content-type": content_type}),
            checks=PayloadChecks(),
        )
        return version.etag

    def read(self, bucket: str, key: str) -> bytes:
        """The current version's bytes (NoSuchBucket, NoSuchKey as a GET)."""
        _, version = self.objects.get(bucket, key)
        if version.size_bytes > READ_BYTES_MAX:
            raise DocumentTooLarge()
        where = self.objects.locate(version, 0, version.size_bytes)
        if where.inline is not None:
            return where.inline
        assert where.reader is not None
        return b"".join(where.reader.chunks())

    def keys(self, bucket: str, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` keys under ``prefix``, in order."""
        found: list[str] = []
        marker: str | None = None
        while len(found) < limit:
            page = list_objects(
                self.objects.store, bucket, prefix=prefix, marker=marker, max_keys=1000
            )
            found.extend(key for key, _ in page.objects)
            if not page.truncated or page.last is None:
                break
            marker = page.last
        return found[:limit]
