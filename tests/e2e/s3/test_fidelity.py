"""Answers checked against what S3 itself answers: headers, lengths, odd inputs."""

from __future__ import annotations

import http.client as httpclient
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_http import http, signed
from tests.server import RunningServer


def send_raw(
    server: RunningServer,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    payload: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """A request signed over ``payload``, sent exactly as given (no Content-Length added)."""
    url = f"{server.endpoint}{path}"
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=payload)
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    connection = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if body:
            connection.send(body)
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


def test_put_without_content_length(server: RunningServer, s3: Any, bucket: str) -> None:
    status, _, body = send_raw(server, "PUT", f"/{bucket}/k")
    assert status == 411
    assert b"<Code>MissingContentLength</Code>" in body
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("404", 404)
    status, _, _ = send_raw(
        server,
        "PUT",
        f"/{bucket}/k",
        {"Transfer-Encoding": "chunked"},
        b"3\r\nabc\r\n0\r\n\r\n",
        payload=b"abc",
    )
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"


def test_put_if_none_match_etag_is_not_implemented(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfNoneMatch='"abc"')
    assert error_of(caught) == ("NotImplemented", 501)
    assert caught.value.response["Error"]["Header"] == "If-None-Match"


def test_oversized_configuration_body(server: RunningServer, bucket: str) -> None:
    body = b"<Tagging><TagSet>" + b" " * (2 * 1024 * 1024) + b"</TagSet></Tagging>"
    status, _, reply = signed(server, "PUT", f"/{bucket}?tagging", body)
    assert status == 400
    assert b"<Code>MaxMessageLengthExceeded</Code>" in reply


def test_cors_headers_on_errors(server: RunningServer, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]},
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "missing"})
    status, headers, _ = http("GET", url, headers={"Origin": "https://app.example"})
    assert status == 404
    assert headers["access-control-allow-origin"] == "*"
    status, headers, _ = http("GET", f"{server.endpoint}/{bucket}/missing")  # no Origin
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("?delete", b"<Delete><Object><Key>k</Key></Object></Delete>"),
        ("?tagging", b"<Tagging><TagSet></TagSet></Tagging>"),
        ("/k?tagging", b"<Tagging><TagSet></TagSet></Tagging>"),
        (
            "?versioning",
            b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
        ),
    ],
)
def test_configuration_writes_need_a_digest(
    server: RunningServer, s3: Any, bucket: str, path: str, body: bytes
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    method = "POST" if path == "?delete" else "PUT"
    status, _, reply = send_raw(
        server,
        method,
        f"/{bucket}{path}",
        {"Content-Length": str(len(body))},
        body,
        payload=body,
    )
    assert status == 400
    assert b"<Code>InvalidRequest</Code>" in reply
    assert b"Content-MD5" in reply
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    status, _, _ = signed(server, method, f"/{bucket}{path}", body)  # with Content-MD5
    assert status in (200, 204)


def test_server_side_encryption_is_aes256_by_default(s3: Any, bucket: str) -> None:
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    copied = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    assert copied["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    kms = s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    assert kms["ServerSideEncryption"] == "aws:kms"  # SSE-KMS: the AWS managed aws/s3 key
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="rot13")
    assert error_of(caught) == ("InvalidArgument", 400)


def test_malformed_version_id(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", VersionId="garbage")
    assert error_of(caught) == ("InvalidArgument", 400)
    assert caught.value.response["Error"]["ArgumentName"] == "versionId"
    assert caught.value.response["Error"]["ArgumentValue"] == "garbage"
