"""Every method x {service, bucket, object} x every subresource S3 knows: never a 5xx.

S3 answers a method a resource does not take with a 4xx (405 MethodNotAllowed naming the
method and the resource type); 501 NotImplemented is only for the operations S3 has and
Strata does not yet, listed here by hand so that building one is a visible change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from strata.api.s3.handlers import HANDLERS
from strata.api.s3.operations import S3_OPERATIONS
from strata.api.s3.routes import BUCKET, OBJECT, ROUTES, SERVICE, SUBRESOURCES
from tests.e2e.raw import RawClient
from tests.server import RunningServer

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH")
# Operations S3 has that Strata does not implement yet: 501 NotImplemented.
UNBUILT = {
    ("GET", BUCKET, "abac"),  # GetBucketAbac
    ("PUT", BUCKET, "abac"),  # PutBucketAbac
    ("PUT", BUCKET, "accelerate"),  # PutBucketAccelerateConfiguration
    ("DELETE", BUCKET, "analytics"),  # DeleteBucketAnalyticsConfiguration
    ("PUT", BUCKET, "analytics"),  # PutBucketAnalyticsConfiguration
    ("DELETE", BUCKET, "inventory"),  # DeleteBucketInventoryConfiguration
    ("PUT", BUCKET, "inventory"),  # PutBucketInventoryConfiguration
    ("PUT", BUCKET, "logging"),  # PutBucketLogging
    ("PUT", BUCKET, "metadataAnnotationTable"),  # UpdateBucketMetadataAnnotationTable...
    ("DELETE", BUCKET, "metadataConfiguration"),  # DeleteBucketMetadataConfiguration
    ("GET", BUCKET, "metadataConfiguration"),  # GetBucketMetadataConfiguration
    ("POST", BUCKET, "metadataConfiguration"),  # CreateBucketMetadataConfiguration
    ("PUT", BUCKET, "metadataInventoryTable"),  # UpdateBucketMetadataInventoryTable...
    ("PUT", BUCKET, "metadataJournalTable"),  # UpdateBucketMetadataJournalTable...
    ("DELETE", BUCKET, "metadataTable"),  # DeleteBucketMetadataTableConfiguration
    ("GET", BUCKET, "metadataTable"),  # GetBucketMetadataTableConfiguration
    ("POST", BUCKET, "metadataTable"),  # CreateBucketMetadataTableConfiguration
    ("DELETE", BUCKET, "metrics"),  # DeleteBucketMetricsConfiguration
    ("PUT", BUCKET, "metrics"),  # PutBucketMetricsConfiguration
    ("PUT", BUCKET, "notification"),  # PutBucketNotification(Configuration)
    ("DELETE", BUCKET, "replication"),  # DeleteBucketReplication
    ("PUT", BUCKET, "replication"),  # PutBucketReplication
    ("PUT", BUCKET, "requestPayment"),  # PutBucketRequestPayment
    ("GET", BUCKET, "session"),  # CreateSession
    ("PUT", BUCKET, "website"),  # PutBucketWebsite
    ("DELETE", OBJECT, "annotation"),  # DeleteObjectAnnotation
    ("GET", OBJECT, "annotation"),  # GetObjectAnnotation, ListObjectAnnotations
    ("PUT", OBJECT, "annotation"),  # PutObjectAnnotation
    ("PUT", OBJECT, "encryption"),  # UpdateObjectEncryption
    ("PUT", OBJECT, "renameObject"),  # RenameObject
    ("POST", OBJECT, "select"),  # SelectObjectContent
    ("GET", OBJECT, "torrent"),  # GetObjectTorrent
}


def test_the_unbuilt_list_is_what_the_model_has_and_the_routes_lack() -> None:
    routed = {(r.method, r.target, r.subresource) for r in ROUTES if r.operation in HANDLERS}
    assert set(S3_OPERATIONS) - routed == UNBUILT


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


def requests(bucket: str) -> Iterator[tuple[str, str, str | None, str]]:
    """(method, target, subresource, path); DELETEs last so the bucket stays for the rest."""
    paths = {SERVICE: "/", BUCKET: f"/{bucket}", OBJECT: f"/{bucket}/k"}
    for method in sorted(METHODS, key=lambda m: m == "DELETE"):
        for target, path in paths.items():
            for subresource in (None, *sorted(SUBRESOURCES)):
                if subresource is None:
                    yield method, target, None, path
                else:
                    value = "=abc" if subresource == "uploadId" else ""
                    yield method, target, subresource, f"{path}?{subresource}{value}"


def test_no_method_and_subresource_is_a_5xx(s3: Any, raw: RawClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")  # the bucket is never empty
    wrong: list[str] = []
    count = 0
    for method, target, subresource, path in requests(bucket):
        status, _, body = raw.s3(method, path)
        count += 1
        expected_501 = (method, target, subresource) in UNBUILT
        if (status == 501) != expected_501 or (status >= 500 and status != 501):
            wrong.append(f"{method} {path} -> {status} {body[:200]!r}")
    assert count == len(METHODS) * 3 * (len(SUBRESOURCES) + 1)
    assert wrong == []
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


@pytest.mark.parametrize(
    ("method", "path", "resource_type"),
    [
        ("PUT", "?delete", "DELETE"),
        ("POST", "?tagging", "TAGGING"),
        ("DELETE", "?uploads", "UPLOADS"),
        ("POST", "/k", "OBJECT"),
        ("POST", "/k?acl", "ACL"),
        ("PATCH", "", "BUCKET"),
    ],
)
def test_wrong_method_is_405(
    raw: RawClient, bucket: str, method: str, path: str, resource_type: str
) -> None:
    status, _, body = raw.s3(method, f"/{bucket}{path}")
    assert status == 405, body
    assert b"<Code>MethodNotAllowed</Code>" in body
    assert b"<Message>The specified method is not allowed against this resource.</Message>" in body
    assert f"<Method>{method}</Method>".encode() in body
    assert f"<ResourceType>{resource_type}</ResourceType>".encode() in body
