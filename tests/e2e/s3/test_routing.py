"""Routing refusals S3 gives whatever the target: HEAD with a selector, two selectors at
once, bucket selectors at a key's path, ``?uploadId`` without a key; SSE-C over HTTP."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import RunningServer


def raw(
    server: RunningServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A SigV4-signed request sent with urllib: (status, lower-case headers, body)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{server.endpoint}{path}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if body:
        request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    sent = urllib.request.Request(
        url, data=body or None, method=method, headers=dict(request.headers.items())
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("?versioning", "GET, PUT"),
        ("?tagging", "DELETE, GET, PUT"),
        ("?location", "GET"),
        ("?uploads", "POST, GET"),
        ("/key?tagging", "DELETE, GET, PUT"),
        ("/key?acl", "GET, PUT"),
        ("/key?uploadId=abc", "DELETE, POST, GET"),
    ],
)
def test_head_with_a_selector_is_405(
    server: RunningServer, bucket: str, path: str, allow: str
) -> None:
    status, headers, body = raw(server, "HEAD", f"/{bucket}{path}")
    assert (status, headers.get("allow"), body) == (405, allow, b"")
    # Refused before the bucket is looked up.
    status, _, _ = raw(server, "HEAD", f"/no-such-bucket-{bucket}{path}")
    assert status == 405


@pytest.mark.parametrize("query", ["acl&versioning", "versioning&acl"])
def test_two_selectors_conflict(server: RunningServer, bucket: str, query: str) -> None:
    status, _, body = raw(server, "GET", f"/{bucket}?{query}")
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body
    assert b"<Message>Conflicting query string parameters: acl, versioning</Message>" in body
    assert b"<ArgumentName>ResourceType</ArgumentName>" in body
    assert b"<ArgumentValue>acl</ArgumentValue>" in body
    status, _, body = raw(server, "HEAD", f"/{bucket}?{query}")
    assert (status, body) == (400, b"")


def test_conflict_at_a_key(server: RunningServer, bucket: str) -> None:
    status, _, body = raw(server, "POST", f"/{bucket}/k?uploads&uploadId=x")
    assert status == 400
    assert b"Conflicting query string parameters: uploadId, uploads" in body


def test_bucket_selectors_at_a_key(s3: Any, server: RunningServer, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"object bytes")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # The bucket's configuration, whatever the key (present or not).
    for key in ("k", "absent"):
        status, _, body = raw(server, "GET", f"/{bucket}/{key}?versioning")
        assert status == 200
        assert b"<VersioningConfiguration" in body
        assert b"<Status>Enabled</Status>" in body
    status, _, body = raw(server, "GET", f"/{bucket}/k?location")
    assert status == 200
    assert b"<LocationConstraint" in body
    status, _, body = raw(server, "GET", f"/{bucket}/k?cors")
    assert status == 404
    assert b"<Code>NoSuchCORSConfiguration</Code>" in body
    # Refused for a key.
    status, _, body = raw(server, "GET", f"/{bucket}/k?logging")
    assert status == 400
    assert b"<Code>NoLoggingStatusForKey</Code>" in body
    status, _, body = raw(server, "GET", f"/{bucket}/k?versions")
    assert status == 400
    assert b"<Code>InvalidRequest</Code>" in body
    # Ignored: the object is answered.
    for selector in ("publicAccessBlock", "uploads", "encryption"):
        status, _, body = raw(server, "GET", f"/{bucket}/k?{selector}")
        assert (status, body) == (200, b"object bytes")
    # In a bucket that does not exist, the bucket's error.
    status, _, body = raw(server, "GET", f"/missing-{bucket}/k?versioning")
    assert status == 404
    assert b"<Code>NoSuchBucket</Code>" in body


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_upload_id_at_a_bucket_needs_a_key(server: RunningServer, bucket: str, method: str) -> None:
    status, _, body = raw(server, method, f"/{bucket}?uploadId=abc")
    assert status == 400
    assert b"<Code>InvalidRequest</Code>" in body
    assert b"<Message>A key must be specified</Message>" in body
    status, _, body = raw(server, method, f"/missing-{bucket}?uploadId=abc")
    assert status == 404
    assert b"<Code>NoSuchBucket</Code>" in body


SSE_C = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": base64.b64encode(b"k" * 32).decode(),
    "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(
        hashlib.md5(b"k" * 32).digest()
    ).decode(),
}


@pytest.mark.parametrize(("method", "key"), [("PUT", "new"), ("GET", "k"), ("HEAD", "k")])
def test_sse_c_needs_a_secure_connection(
    s3: Any, server: RunningServer, bucket: str, method: str, key: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, _, body = raw(server, method, f"/{bucket}/{key}", b"", SSE_C)
    assert status == 400
    if method != "HEAD":
        assert b"<Code>InvalidRequest</Code>" in body
        assert b"must be made over a secure connection." in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="new")  # nothing was written


def test_sse_c_copy_source_needs_a_secure_connection(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    headers = {
        "x-amz-copy-source": f"/{bucket}/k",
        "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
    }
    status, _, body = raw(server, "PUT", f"/{bucket}/copy", b"", headers)
    assert status == 400
    assert b"secure connection" in body
