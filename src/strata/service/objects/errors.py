"""Domain errors of the object service; ``api/s3/errors.py`` gives them S3's names.

Tree (all ``StrataError``)::

    ObjectsError
      NoSuchBucket            the bucket does not exist
      BucketAlreadyOwnedByYou create of a bucket that exists
      BucketNotEmpty          delete of a bucket that still has versions
      NoSuchKey               no current version (may carry the delete marker's id)
      NoSuchVersion           the version id names no version of the key
      MethodNotAllowed        GET/HEAD of a delete marker by version id
      PreconditionFailed      If-Match / If-Unmodified-Since / If-None-Match: * failed
      ConditionalRequestConflict a conditional write lost to a delete that landed meanwhile
      NotModified             If-None-Match / If-Modified-Since said "you have it" (304)
      BadDigest               a checksum or Content-MD5 did not match the payload
      InvalidRange            the Range does not overlap the object
      InvalidPartNumber       partNumber beyond the object's parts
      NoSuchTagSet            the bucket has no tags
      NoSuchCORSConfiguration the bucket has no CORS rules
"""

from __future__ import annotations

from strata.errors import StrataError


class ObjectsError(StrataError):
    """Base of the object service's errors."""


class NoSuchBucket(ObjectsError):
    default_message = "The specified bucket does not exist"

    def __init__(self, bucket: str) -> None:
        super().__init__(BucketName=bucket)


class BucketAlreadyOwnedByYou(ObjectsError):
    default_message = (
        "Your previous request to create the named bucket succeeded and you already own it."
    )

    def __init__(self, bucket: str) -> None:
        super().__init__(BucketName=bucket)


class BucketNotEmpty(ObjectsError):
    default_message = "The bucket you tried to delete is not empty"

    def __init__(self, bucket: str) -> None:
        super().__init__(BucketName=bucket)


class NoSuchKey(ObjectsError):
    default_message = "The specified key does not exist."

    def __init__(self, key: str, delete_marker_version: str | None = None) -> None:
        super().__init__(Key=key)
        self.delete_marker_version = delete_marker_version


class NoSuchVersion(ObjectsError):
    default_message = "The specified version does not exist."

    def __init__(self, key: str, version_id: str) -> None:
        super().__init__(Key=key, VersionId=version_id)


class MethodNotAllowed(ObjectsError):
    default_message = "The specified method is not allowed against this resource."

    def __init__(self, method: str, version_id: str) -> None:
        super().__init__(Method=method, ResourceType="DeleteMarker")
        self.version_id = version_id


class PreconditionFailed(ObjectsError):
    default_message = "At least one of the pre-conditions you specified did not hold"

    def __init__(self, condition: str) -> None:
        super().__init__(Condition=condition)


class ConditionalRequestConflict(ObjectsError):
    default_message = (
        "The conditional request cannot succeed due to a conflicting operation against this "
        "resource."
    )

    def __init__(self, condition: str, key: str) -> None:
        super().__init__(Condition=condition, Key=key)


class NotModified(ObjectsError):
    default_message = "Not Modified"

    def __init__(self, etag: str, last_modified_ms: int) -> None:
        super().__init__()
        self.etag = etag
        self.last_modified_ms = last_modified_ms


class BadDigest(ObjectsError):
    """Raised with the exact AWS message for the failed digest."""


class InvalidRange(ObjectsError):
    default_message = "The requested range is not satisfiable"

    def __init__(self, requested: str, size_bytes: int) -> None:
        super().__init__(RangeRequested=requested, ActualObjectSize=str(size_bytes))
        self.size_bytes = size_bytes


class InvalidPartNumber(ObjectsError):
    default_message = "The requested partnumber is not satisfiable"


class NoSuchTagSet(ObjectsError):
    default_message = "The TagSet does not exist"

    def __init__(self, bucket: str) -> None:
        super().__init__(BucketName=bucket)


class NoSuchCORSConfiguration(ObjectsError):
    default_message = "The CORS configuration does not exist"

    def __init__(self, bucket: str) -> None:
        super().__init__(BucketName=bucket)
