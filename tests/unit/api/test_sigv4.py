"""SigV4 against the worked examples in the AWS documentation (S3 "Signature Calculations")."""

from __future__ import annotations

import asyncio
import calendar
import time
from typing import Any

import pytest

from strata.api.http import Request
from strata.api.sigv4 import authenticate, signing_key
from strata.errors import (
    ContentSha256Mismatch,
    InvalidAccessKeyId,
    ProtocolError,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from strata.service.iam.principal import Principal, root_principal

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_S = float(calendar.timegm(time.strptime("20130524T000000Z", "%Y%m%dT%H%M%SZ")))
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class Keys:
    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None:
        return (SECRET, root_principal("123456789012", ACCESS)) if access_key == ACCESS else None

    def note_used(self, access_key: str, service: str, region: str) -> None:
        pass


def make_request(
    method: str, path: str, query: str, headers: dict[str, str], body: list[bytes] | None = None
) -> Request:
    chunks = list(body or [])

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    return Request.from_scope(scope, receive)


async def read_all(request: Request) -> bytes:
    out = b""
    async for chunk in request.body:
        out += chunk
    return out


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_signing_key_matches_documented_derivation() -> None:
    key = signing_key(SECRET, "20130524", "us-east-1", "s3")
    assert len(key) == 32
    assert key == signing_key(SECRET, "20130524", "us-east-1", "s3")  # cached, same value


def get_object_example() -> Request:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    return make_request(
        "GET",
        "/test.txt",
        "",
        {
            "host": "examplebucket.s3.amazonaws.com",
            "range": "bytes=0-9",
            "x-amz-content-sha256": EMPTY,
            "x-amz-date": "20130524T000000Z",
            "authorization": auth,
        },
    )


def test_header_auth_documented_get_object() -> None:
    request = get_object_example()
    principal = run(authenticate(request, Keys(), EXAMPLE_S + 60))
    assert principal.access_key == ACCESS
    assert principal.root
    assert principal.arn == "arn:aws:iam::123456789012:root"
    assert request.access_key == ACCESS
    assert request.principal is principal
    assert request.signing_service == "s3"


def test_header_auth_rejects_tampered_header() -> None:
    request = get_object_example()
    request.headers["range"] = "bytes=0-10"
    with pytest.raises(SignatureDoesNotMatch):
        run(authenticate(request, Keys(), EXAMPLE_S))


def test_unknown_access_key() -> None:
    request = get_object_example()
    request.headers["authorization"] = request.headers["authorization"].replace(ACCESS, "AKIAX")
    with pytest.raises(InvalidAccessKeyId):
        run(authenticate(request, Keys(), EXAMPLE_S))


def test_clock_skew_over_15_minutes() -> None:
    with pytest.raises(RequestTimeTooSkewed):
        run(authenticate(get_object_example(), Keys(), EXAMPLE_S + 15 * 60 + 1))
    run(authenticate(get_object_example(), Keys(), EXAMPLE_S + 15 * 60 - 1))


def presigned_example() -> Request:
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={ACCESS}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    return make_request("GET", "/test.txt", query, {"host": "examplebucket.s3.amazonaws.com"})


def test_presigned_documented_example() -> None:
    run(authenticate(presigned_example(), Keys(), EXAMPLE_S + 3600))


def test_presigned_expired() -> None:
    with pytest.raises(RequestExpired):
        run(authenticate(presigned_example(), Keys(), EXAMPLE_S + 86400 + 1))


def chunked_example(chunk1: bytes) -> Request:
    """The documented aws-chunked upload: 64 KiB + 1 KiB of 'a', three chunk signatures."""
    auth = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class,"
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    )
    body = [
        b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
        chunk1[:1000],
        chunk1[1000:] + b"\r\n",
        b"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"
        + b"a" * 1024
        + b"\r\n",
        b"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
    ]
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": auth,
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
    }
    return make_request("PUT", "/examplebucket/chunkObject.txt", "", headers, body)


def test_streaming_signed_chunks_documented_example() -> None:
    request = chunked_example(b"a" * 65536)
    run(authenticate(request, Keys(), EXAMPLE_S))
    assert run(read_all(request)) == b"a" * 66560


def test_streaming_tampered_chunk_is_rejected() -> None:
    request = chunked_example(b"a" * 65535 + b"b")
    run(authenticate(request, Keys(), EXAMPLE_S))
    with pytest.raises(SignatureDoesNotMatch):
        run(read_all(request))


def unsigned_trailer_request(body: list[bytes], decoded_bytes: int | str | None = 11) -> Request:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {
        "host": "localhost",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    if decoded_bytes is not None:
        headers["x-amz-decoded-content-length"] = str(decoded_bytes)
    aws = AWSRequest("PUT", "http://localhost/bucket/key", headers=headers)
    aws.context["checksum"] = {"request_algorithm": {"in": "trailer", "name": "crc32"}}
    signer = S3SigV4Auth(Credentials(ACCESS, SECRET), "s3", "us-east-1")
    signer.add_auth(aws)
    signed = {k.lower(): v for k, v in aws.headers.items()}
    return make_request("PUT", "/bucket/key", "", signed, body)


def test_unsigned_trailer_decodes_and_exposes_checksum() -> None:
    body = [b"5\r\nhello\r\n", b"6\r\n world\r\n0\r\n", b"x-amz-checksum-crc32:DUoRhQ==\r\n\r\n"]
    request = unsigned_trailer_request(body)
    run(authenticate(request, Keys(), time.time()))
    assert run(read_all(request)) == b"hello world"
    assert request.body.trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


@pytest.mark.parametrize(("declared", "provided"), [(1, 11), (10, 11), (12, 11), (0, 5)])
def test_decoded_length_must_match_the_chunks(declared: int, provided: int) -> None:
    body = [b"5\r\nhello\r\n", b"6\r\n world\r\n0\r\n\r\n"]
    request = unsigned_trailer_request(body, declared)
    run(authenticate(request, Keys(), time.time()))
    with pytest.raises(ProtocolError) as caught:
        run(read_all(request))
    assert (caught.value.code, caught.value.status) == ("IncompleteBody", 400)
    expected = str(declared)
    assert caught.value.details["NumberBytesExpected"] == expected
    # Too much is refused at the first chunk that passes the declared length.
    assert int(caught.value.details["NumberBytesProvided"]) >= min(provided, declared + 1)


@pytest.mark.parametrize("declared", [None, "", "abc", "-1", "1.5", "+5"])
def test_aws_chunked_without_a_decoded_length_is_411(declared: str | None) -> None:
    request = unsigned_trailer_request([b"5\r\nhello\r\n0\r\n\r\n"], declared)
    with pytest.raises(ProtocolError) as caught:
        run(authenticate(request, Keys(), time.time()))
    assert (caught.value.code, caught.value.status) == ("MissingContentLength", 411)


def test_payload_hash_mismatch_raises_at_end_of_body() -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    aws = AWSRequest("PUT", "http://localhost/bucket/key", data=b"original")
    signer = S3SigV4Auth(Credentials(ACCESS, SECRET), "s3", "us-east-1")
    signer.add_auth(aws)
    headers = {k.lower(): v for k, v in aws.headers.items()}
    headers["host"] = "localhost"
    request = make_request("PUT", "/bucket/key", "", headers, [b"tampered"])
    run(authenticate(request, Keys(), time.time()))
    with pytest.raises(ContentSha256Mismatch):
        run(read_all(request))
