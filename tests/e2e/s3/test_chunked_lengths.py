"""aws-chunked bodies must add up to x-amz-decoded-content-length, as S3 insists; nothing stored.

S3: a mismatch is 400 IncompleteBody with NumberBytesExpected/NumberBytesProvided; a
missing or unreadable decoded length is 411 MissingContentLength.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from strata.api.sigv4 import signing_key
from tests.e2e.raw import RawClient
from tests.e2e.test_auth import chunk_signature
from tests.server import RunningServer


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


def chunked_put(
    raw: RawClient, path: str, chunks: list[bytes], decoded: str | None, *, signed: bool
) -> tuple[int, bytes]:
    """PUT ``chunks`` aws-chunked (signed chunks, or unsigned with a trailer)."""
    headers = {
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        if signed
        else "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
    }
    if decoded is not None:
        headers["x-amz-decoded-content-length"] = decoded
    request = AWSRequest("PUT", f"{raw.server.endpoint}{path}", headers=headers)
    SigV4Auth(raw.credentials, "s3", "us-east-1").add_auth(request)
    amz_date = request.headers["X-Amz-Date"]
    key = signing_key(raw.server.secret_key, amz_date[:8], "us-east-1", "s3")
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    previous = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    for data in [*chunks, b""]:
        extension = b""
        if signed:
            previous = chunk_signature(key, amz_date, scope, previous, data)
            extension = f";chunk-signature={previous}".encode()
        body += f"{len(data):x}".encode() + extension + b"\r\n" + data
        body += b"\r\n" if data or signed else b""
    if not signed:
        body += b"\r\n"  # no trailers
    sent = dict(request.headers.items())
    sent["Content-Length"] = str(len(body))
    status, _, answer = raw.send("PUT", path, sent, body)
    return status, answer


def assert_absent(s3: Any, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key=key)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize(
    ("chunks", "decoded", "provided"),
    [
        ([b"a" * 71000], "1", 71000),
        ([b"a" * 70000, b"a" * 1000], "70500", 71000),
        ([b"a" * 70000, b"a" * 1000], "71001", 71000),
        ([b"abc"], "0", 3),
    ],
)
def test_decoded_length_that_disagrees_is_incomplete_body(
    raw: RawClient,
    s3: Any,
    bucket: str,
    signed: bool,
    chunks: list[bytes],
    decoded: str,
    provided: int,
) -> None:
    status, answer = chunked_put(raw, f"/{bucket}/k", chunks, decoded, signed=signed)
    assert status == 400, answer
    assert b"<Code>IncompleteBody</Code>" in answer
    assert (
        b"<Message>You did not provide the number of bytes specified by the Content-Length "
        b"HTTP header</Message>" in answer
    )
    assert f"<NumberBytesExpected>{decoded}</NumberBytesExpected>".encode() in answer
    assert re.search(rb"<NumberBytesProvided>(\d+)</NumberBytesProvided>", answer)
    assert_absent(s3, bucket, "k")
    # The same body with its true length is stored.
    status, answer = chunked_put(raw, f"/{bucket}/k", chunks, str(provided), signed=signed)
    assert status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"".join(chunks)


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("decoded", [None, "abc", "-1"])
def test_aws_chunked_without_decoded_length_is_411(
    raw: RawClient, s3: Any, bucket: str, signed: bool, decoded: str | None
) -> None:
    status, answer = chunked_put(raw, f"/{bucket}/k", [b"abc"], decoded, signed=signed)
    assert status == 411, answer
    assert b"<Code>MissingContentLength</Code>" in answer
    assert_absent(s3, bucket, "k")
