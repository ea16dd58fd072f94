"""SigV4 end to end: good requests pass; every kind of forgery is rejected and writes nothing."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.compat
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.server import ACCESS_KEY, SECRET_KEY, RunningServer, start_server


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def assert_absent(s3: Any, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key=key)
    assert error_of(caught)[1] == 404, caught.value.response


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> str:
    s3.create_bucket(Bucket=unique_name)
    return unique_name


def test_signed_request_is_accepted(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_wrong_secret_is_rejected(server: RunningServer, bucket: str, s3: Any) -> None:
    bad = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="not-the-secret",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as caught:
        bad.put_object(Bucket=bucket, Key="forged", Body=b"x")
    assert error_of(caught) == ("SignatureDoesNotMatch", 403)
    assert_absent(s3, bucket, "forged")


def test_unknown_access_key_is_rejected(server: RunningServer) -> None:
    bad = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="AKSANOBODY0000000000",
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    with pytest.raises(ClientError) as caught:
        bad.list_buckets()
    assert error_of(caught) == ("InvalidAccessKeyId", 403)


def test_anonymous_s3_request_is_denied(server: RunningServer) -> None:
    reply = requests.get(f"{server.endpoint}/", timeout=5)
    assert reply.status_code == 403
    assert "<Code>AccessDenied</Code>" in reply.text
    assert reply.headers["x-amz-request-id"]


def signed(
    server: RunningServer, method: str, path: str, body: bytes, **headers: str
) -> AWSRequest:
    request = AWSRequest(method, f"{server.endpoint}{path}", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, body: bytes | None = None) -> requests.Response:
    data = request.body if body is None else body
    return requests.request(
        request.method, request.url, data=data, headers=dict(request.headers.items()), timeout=10
    )


def test_tampered_body_is_rejected(server: RunningServer, s3: Any, bucket: str) -> None:
    original = b"the body that was signed"
    request = signed(
        server,
        "PUT",
        f"/{bucket}/tampered",
        original,
        **{"x-amz-content-sha256": hashlib.sha256(original).hexdigest()},
    )
    reply = send(request, b"the body that was changed")
    assert reply.status_code == 400
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in reply.text
    assert_absent(s3, bucket, "tampered")
    assert send(request).status_code == 200  # the untampered request goes through


def chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    empty = hashlib.sha256(b"").hexdigest()
    to_sign = (
        f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n"
        f"{hashlib.sha256(data).hexdigest()}"
    )
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def streaming_put(server: RunningServer, path: str, chunks: list[bytes], tamper: bool) -> int:
    decoded = b"".join(chunks)
    headers = {
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(decoded)),
    }
    request = AWSRequest("PUT", f"{server.endpoint}{path}", headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
    auth = request.headers["Authorization"]
    seed = auth.rsplit("Signature=", 1)[1]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    from strata.api.sigv4 import signing_key

    key = signing_key(SECRET_KEY, amz_date[:8], "us-east-1", "s3")
    body = b""
    previous = seed
    for data in [*chunks, b""]:
        signature = chunk_signature(key, amz_date, scope, previous, data)
        previous = signature
        sent = data.replace(b"a", b"b", 1) if tamper and data else data
        body += f"{len(data):x};chunk-signature={signature}\r\n".encode() + sent + b"\r\n"
    return send(request, body).status_code


def test_signed_chunks_accepted_and_tampered_chunk_rejected(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    chunks = [b"a" * 70000, b"a" * 1000]
    assert streaming_put(server, f"/{bucket}/chunked", chunks, tamper=True) == 403
    assert_absent(s3, bucket, "chunked")
    assert streaming_put(server, f"/{bucket}/chunked", chunks, tamper=False) == 200
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)


def test_presigned_url_works_then_expires(s3: Any, bucket: str) -> None:
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=2
    )
    assert requests.put(url, data=b"via url", timeout=5).status_code == 200
    time.sleep(3)
    reply = requests.put(url, data=b"too late", timeout=5)
    assert reply.status_code == 403
    assert "<Code>AccessDenied</Code>" in reply.text
    assert "Request has expired" in reply.text
    assert s3.get_object(Bucket=bucket, Key="presigned")["Body"].read() == b"via url"


def test_skewed_clock_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The skew check compares with the host's real time, whatever the store clock says:
    a client an hour off is refused, and an hour's clock offset refuses no one."""
    skewed = start_server(tmp_path / "skewed", env={"STRATA_CLOCK_OFFSET_S": "3600"})
    try:
        s3 = client(skewed, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="offset")  # store clock an hour ahead: still signed in time
        real_now = botocore.compat.get_current_datetime

        def skewed_now(remove_tzinfo: bool = True) -> datetime.datetime:
            return real_now(remove_tzinfo) + datetime.timedelta(hours=1)

        # the client's clock an hour ahead (botocore's signers, with or without CRT)
        for signer in (botocore.auth, getattr(botocore, "crt", None) and botocore.crt.auth):
            if signer:
                monkeypatch.setattr(signer, "get_current_datetime", skewed_now)
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket="skewed")
        assert error_of(caught) == ("RequestTimeTooSkewed", 403)
        ddb = client(skewed, "dynamodb")
        with pytest.raises(ClientError) as ddb_caught:
            ddb.list_tables()
        assert error_of(ddb_caught) == ("InvalidSignatureException", 400)
        monkeypatch.undo()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["offset"]
    finally:
        skewed.stop()


def test_dynamodb_auth_errors(server: RunningServer) -> None:
    for secret, key, expected in [
        ("wrong", ACCESS_KEY, "InvalidSignatureException"),
        (SECRET_KEY, "AKSANOBODY0000000000", "UnrecognizedClientException"),
    ]:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=server.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError) as caught:
            ddb.list_tables()
        assert error_of(caught) == (expected, 400)
    reply = requests.post(
        server.endpoint,
        data=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json()["__type"].endswith("#MissingAuthenticationTokenException")
    assert reply.headers["x-amzn-RequestId"]


def test_secret_never_logged(server: RunningServer) -> None:
    assert SECRET_KEY not in server.log()


def test_health_and_metrics(server: RunningServer, s3: Any) -> None:
    s3.list_buckets()
    with urllib.request.urlopen(f"{server.endpoint}/_strata/health") as reply:
        assert reply.status == 200
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics") as reply:
        text = reply.read().decode()
    assert 'strata_requests_total{service="s3",operation="ListBuckets",status="200"}' in text
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    expected = {"strata_requests_total", "strata_errors_total", "strata_request_duration_seconds"}
    assert expected <= families
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{server.endpoint}/_strata/nothing")


def test_sigv4_presigned_url_works_then_expires(server: RunningServer, bucket: str) -> None:
    s3v4 = client(server, "s3", signature_version="s3v4", s3={"addressing_style": "path"})
    url = s3v4.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "v4"}, ExpiresIn=2
    )
    assert "X-Amz-Signature=" in url
    assert requests.put(url, data=b"signed v4", timeout=5).status_code == 200
    get_url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v4"})
    assert requests.get(get_url, timeout=5).content == b"signed v4"
    time.sleep(3)
    reply = requests.put(url, data=b"too late", timeout=5)
    assert reply.status_code == 403
    assert "Request has expired" in reply.text
    assert requests.get(get_url, timeout=5).content == b"signed v4"


def test_tampered_presigned_url_is_rejected(s3: Any, bucket: str) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"})
    reply = requests.put(url.replace("/p?", "/q?"), data=b"x", timeout=5)
    assert reply.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in reply.text
    assert_absent(s3, bucket, "q")


def test_oversized_headers_are_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="big", Body=b"x", Metadata={"m": "x" * 20000})
    assert error_of(caught) == ("RequestHeaderSectionTooLarge", 400)
    assert_absent(s3, bucket, "big")
