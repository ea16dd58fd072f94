"""x-amz-meta-* values that are not US-ASCII come back RFC 2047 encoded (=?UTF-8?B?...?=),
as S3 documents and returns them; US-ASCII values come back as they were sent. Tag keys
beginning with ``aws:`` are refused on every tagging path."""

from __future__ import annotations

import base64
import email.header
import http.client
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.server import RunningServer


def _put(server: RunningServer, bucket: str, key: str, value: bytes) -> int:
    """PutObject with ``x-amz-meta-note`` sent as the given bytes, SigV4 signed."""
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/{key}", data=b"")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    request.headers["x-amz-meta-note"] = value.decode("latin-1")
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("PUT", f"/{bucket}/{key}", skip_accept_encoding=True)
        for name, header in request.headers.items():
            connection.putheader(name, value if name == "x-amz-meta-note" else header)
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        reply = connection.getresponse()
        reply.read()
        return reply.status
    finally:
        connection.close()


def _encoded(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode() + "?="


@pytest.mark.parametrize(
    ("sent", "text"),
    [
        ("日本語 ünïcödé".encode(), "日本語 ünïcödé"),  # an SDK sending UTF-8 bytes
        ("café".encode("latin-1"), "café"),  # http.client's latin-1 byte for é
    ],
)
def test_non_ascii_values_are_rfc2047_encoded(
    server: RunningServer, s3: Any, bucket: str, sent: bytes, text: str
) -> None:
    assert _put(server, bucket, "k", sent) == 200
    for answer in (s3.head_object(Bucket=bucket, Key="k"), s3.get_object(Bucket=bucket, Key="k")):
        value = answer["Metadata"]["note"]
        assert value == _encoded(text)
        ((decoded, charset),) = email.header.decode_header(value)
        assert (decoded.decode(charset), charset) == (text, "utf-8")
    # A copy keeps the value: it is encoded the same way again.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert s3.head_object(Bucket=bucket, Key="copy")["Metadata"]["note"] == _encoded(text)


def test_ascii_values_come_back_as_sent(server: RunningServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", Metadata={"note": "plain = text?"})
    assert s3.head_object(Bucket=bucket, Key="a")["Metadata"] == {"note": "plain = text?"}
    # An encoded word the client made itself is US-ASCII: returned as is.
    word = _encoded("ü")
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", Metadata={"note": word})
    assert s3.get_object(Bucket=bucket, Key="b")["Metadata"] == {"note": word}


def test_aws_prefixed_tag_keys_are_refused(s3: Any, bucket: str) -> None:
    """S3 answers InvalidTag "Your TagKey cannot be prefixed with aws:" on every tagging path."""
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="keep=1")
    attempts = [
        lambda: s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]}
        ),
        lambda: s3.put_object_tagging(
            Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]}
        ),
        lambda: s3.put_object(Bucket=bucket, Key="u", Body=b"x", Tagging="aws:x=1"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as caught:
            attempt()
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidTag",
            "Your TagKey cannot be prefixed with aws:",
        )
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "keep", "Value": "1"}
    ]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="u")
