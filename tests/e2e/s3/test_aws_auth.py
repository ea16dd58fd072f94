"""Signatures as S3 checks them: SigV2 header auth and its dates, SigV4 with UTF-8 metadata."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
from email.utils import formatdate
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import client
from tests.server import RunningServer


def _send(
    server: RunningServer, method: str, path: str, headers: dict[str, str | bytes]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def _v2(
    server: RunningServer, method: str, path: str, resource: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    """A request signed with ``Authorization: AWS key:signature`` over ``resource``."""
    amz = "".join(f"{n}:{v}\n" for n, v in sorted(headers.items()) if n.startswith("x-amz-"))
    date_line = "" if "x-amz-date" in headers else headers.get("Date", "")
    string_to_sign = f"{method}\n\n\n{date_line}\n{amz}{resource}"
    mac = hmac.new(server.secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    auth = f"AWS {server.access_key}:{base64.b64encode(mac).decode()}"
    return _send(server, method, path, {**headers, "Authorization": auth})


def test_boto3_sigv2_client_on_buckets_and_objects(server: RunningServer, unique_name: str) -> None:
    s3 = client(server, "s3", signature_version="s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket=unique_name)
    try:
        s3.put_object(Bucket=unique_name, Key="k", Body=b"v2")
        assert [o["Key"] for o in s3.list_objects(Bucket=unique_name)["Contents"]] == ["k"]
        assert s3.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"v2"
        s3.put_bucket_versioning(Bucket=unique_name, VersioningConfiguration={"Status": "Enabled"})
        assert s3.get_bucket_versioning(Bucket=unique_name)["Status"] == "Enabled"
        s3.delete_object(Bucket=unique_name, Key="k")
    finally:
        for version in s3.list_object_versions(Bucket=unique_name).get("Versions", []):
            s3.delete_object(Bucket=unique_name, Key="k", VersionId=version["VersionId"])
        for marker in s3.list_object_versions(Bucket=unique_name).get("DeleteMarkers", []):
            s3.delete_object(Bucket=unique_name, Key="k", VersionId=marker["VersionId"])
        s3.delete_bucket(Bucket=unique_name)


@pytest.mark.parametrize("resource", ["/{b}", "/{b}/"])
def test_sigv2_bucket_resource_with_or_without_slash(
    server: RunningServer, bucket: str, resource: str
) -> None:
    headers = {"Date": formatdate(usegmt=True)}
    status, body = _v2(server, "GET", f"/{bucket}", resource.format(b=bucket), headers)
    assert status == 200, body
    assert b"<ListBucketResult" in body


def test_sigv2_date_in_rfc_2822_form(server: RunningServer, bucket: str) -> None:
    date = formatdate()  # "Mon, 07 Dec 2026 23:59:59 -0000"
    assert date.endswith("-0000")
    status, body = _v2(server, "GET", f"/{bucket}", f"/{bucket}/", {"Date": date})
    assert status == 200, body


def test_sigv2_x_amz_date_wins_over_date(server: RunningServer, bucket: str) -> None:
    headers = {"Date": "Tue, 07 Jul 2010 21:53:04 GMT", "x-amz-date": formatdate(usegmt=True)}
    status, body = _v2(server, "GET", f"/{bucket}", f"/{bucket}/", headers)
    assert status == 200, body


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-amz-date": ""}, b"AccessDenied"),
        ({"x-amz-date": "Tue, 07 Jul 1950 21:53:04 GMT"}, b"AccessDenied"),
        ({"x-amz-date": "Bad Date"}, b"AccessDenied"),
        ({"Date": "Tue, 07 Jul 1950 21:53:04 GMT"}, b"AccessDenied"),
        ({}, b"AccessDenied"),
        ({"x-amz-date": "Tue, 07 Jul 2010 21:53:04 GMT"}, b"RequestTimeTooSkewed"),
        ({"x-amz-date": "Tue, 07 Jul 9999 21:53:04 GMT"}, b"RequestTimeTooSkewed"),
    ],
)
def test_sigv2_bad_dates(
    server: RunningServer, s3: Any, unique_name: str, headers: dict[str, str], code: bytes
) -> None:
    if "x-amz-date" in headers:
        headers = {"Date": formatdate(usegmt=True), **headers}
    status, body = _v2(server, "PUT", f"/{unique_name}", f"/{unique_name}/", headers)
    assert status == 403
    assert b"<Code>" + code + b"</Code>" in body
    assert unique_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_sigv4_utf8_metadata_value(server: RunningServer, s3: Any, bucket: str) -> None:
    """An SDK that sends a metadata value's UTF-8 bytes as they are, signed as they are."""
    value = "日本語 ünïcödé"
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/meta", data=b"")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    request.headers["x-amz-meta-name"] = value
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    headers: dict[str, str | bytes] = dict(request.headers.items())
    headers["x-amz-meta-name"] = value.encode("utf-8")
    status, body = _send(server, "PUT", f"/{bucket}/meta", headers)
    assert status == 200, body
    raw = s3.head_object(Bucket=bucket, Key="meta")["ResponseMetadata"]["HTTPHeaders"]
    # The text comes back RFC 2047 encoded, as S3 returns a value that is not US-ASCII.
    assert raw["x-amz-meta-name"] == (
        "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode() + "?="
    )
    # A tampered value is still refused.
    headers["x-amz-meta-name"] = "日本".encode()
    status, body = _send(server, "PUT", f"/{bucket}/other", headers)
    assert status == 403
    assert b"SignatureDoesNotMatch" in body
