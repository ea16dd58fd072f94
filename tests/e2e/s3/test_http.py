"""Raw HTTP behaviour: presigned URLs, virtual-hosted addressing, CORS, XML errors."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of
from tests.server import RunningServer


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def v4_client(server: RunningServer, **s3_config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3=s3_config, retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("signature", ["s3v4", "default"])
def test_presigned_get_and_put(server: RunningServer, s3: Any, bucket: str, signature: str) -> None:
    # boto3 presigns with SigV2 in us-east-1 unless told s3v4: both must work.
    if signature == "s3v4":
        s3 = v4_client(server, addressing_style="path")
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "p k"}, ExpiresIn=60
    )
    # SigV2 signs Content-Type: send the (empty) one that was signed, not urllib's default.
    status, _, _ = http("PUT", put_url, b"presigned body", {"Content-Type": ""})
    assert status == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "p k"}, ExpiresIn=60
    )
    status, headers, body = http("GET", get_url)
    assert status == 200
    assert body == b"presigned body"
    assert headers["etag"].startswith('"')


def test_anonymous_is_denied(server: RunningServer, bucket: str) -> None:
    status, _, body = http("GET", f"{server.endpoint}/{bucket}/k")
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body


@pytest.mark.parametrize("host", ["localhost", "s3.localhost", "s3.us-east-1.localhost"])
def test_virtual_hosted_style(server: RunningServer, s3: Any, bucket: str, host: str) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{server.port}",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )

    # Name resolution of <bucket>.localhost is not guaranteed: send to 127.0.0.1, keep Host.
    def to_loopback(request: Any, **_: Any) -> None:
        request.url = request.url.replace(f"{bucket}.{host}", "127.0.0.1", 1)

    client.meta.events.register_first("before-send.s3", to_loopback)
    client.put_object(Bucket=bucket, Key="v/key", Body=b"virtual")
    assert s3.get_object(Bucket=bucket, Key="v/key")["Body"].read() == b"virtual"
    assert client.get_object(Bucket=bucket, Key="v/key")["Body"].read() == b"virtual"
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["v/key"]


def test_cors(s3: Any, server: RunningServer, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(caught) == ("NoSuchCORSConfiguration", 404)
    status, _, _ = http(
        "OPTIONS",
        f"{server.endpoint}/{bucket}/k",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "GET"},
    )
    assert status == 403
    rules = {
        "CORSRules": [
            {
                "AllowedOrigins": ["https://*.example.com"],
                "AllowedMethods": ["GET", "PUT"],
                "AllowedHeaders": ["x-amz-*", "content-type"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 300,
            }
        ]
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=rules)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"] == 300
    status, headers, _ = http(
        "OPTIONS",
        f"{server.endpoint}/{bucket}/k",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, x-amz-meta-a",
        },
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in headers["access-control-allow-methods"]
    assert headers["access-control-max-age"] == "300"
    status, _, body = http(
        "OPTIONS",
        f"{server.endpoint}/{bucket}/k",
        headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"},
    )
    assert status == 403
    assert b"AccessForbidden" in body
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
            },
        )
    assert error_of(caught) == ("InvalidRequest", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def signed(
    server: RunningServer, method: str, path: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """A raw request signed with SigV4 (payload hash, Content-MD5), sent with urllib."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{server.endpoint}{path}"
    request = AWSRequest(method=method, url=url, data=body)
    if body:  # S3 requires a body digest on configuration writes
        request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    return http(method, url, body or None, dict(request.headers.items()))


def test_malformed_xml_and_entities(server: RunningServer, bucket: str) -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x "boom">]>'
        b"<Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>"
    )
    for body in (evil, b"<Tagging><TagSet>", b"not xml", b"<Other/>"):
        status, _, reply = signed(server, "PUT", f"/{bucket}?tagging", body)
        assert status == 400, reply
        assert b"<Code>MalformedXML</Code>" in reply


def test_unknown_subresource_not_implemented(server: RunningServer, bucket: str) -> None:
    status, _, reply = signed(server, "PUT", f"/{bucket}?website", b"<x/>")
    assert status == 501
    assert b"<Code>NotImplemented</Code>" in reply
