"""The signer against AWS's documented example and against botocore's signer."""

import hashlib
from datetime import UTC, datetime

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strata.bench.sigv4 import (
    EMPTY_SHA256,
    Signer,
    canonical_query,
    derive_signing_key,
    uri_encode_path,
)

ACCESS = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# botocore signs the payload's hash over plain http, so the comparison does too.
DATA_SHA256 = hashlib.sha256(b"data").hexdigest()
WHEN = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)


def test_signing_key_of_the_aws_documentation() -> None:
    key = derive_signing_key(SECRET, "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


def test_get_vanilla_of_the_aws_test_suite() -> None:
    signer = Signer(ACCESS, SECRET, "us-east-1", "service", clock=WHEN.timestamp)
    headers = dict(
        signer.sign(
            "GET",
            "/",
            "",
            [("host", "example.amazonaws.com")],
            EMPTY_SHA256,
            content_sha256_header=False,
        )
    )
    assert headers["x-amz-date"] == "20150830T123600Z"
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def _botocore_authorization(
    auth_class: type[SigV4Auth],
    service: str,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
) -> str:
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    auth = auth_class(Credentials(ACCESS, SECRET), service, "eu-west-1")
    auth.add_auth(request)
    return str(request.headers["Authorization"])


@pytest.fixture(autouse=True)
def _botocore_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads the time through this function; pin it to the example's instant."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("key", "query"),
    [
        ("plain/key-0001", []),
        ("odd key+with=chars~and/é", []),
        ("", [("list-type", "2"), ("prefix", "a b/"), ("max-keys", "1000")]),
    ],
)
def test_s3_signature_matches_botocore(key: str, query: list[tuple[str, str]]) -> None:
    path = uri_encode_path(f"/bucket/{key}" if key else "/bucket")
    query_string = canonical_query(query)
    url = f"http://127.0.0.1:4566{path}" + (f"?{query_string}" if query_string else "")
    signer = Signer(ACCESS, SECRET, "eu-west-1", "s3", clock=WHEN.timestamp)
    ours = dict(
        signer.sign(
            "PUT",
            path,
            query_string,
            [("host", "127.0.0.1:4566")],
            DATA_SHA256,
            content_sha256_header=True,
        )
    )
    theirs = _botocore_authorization(
        S3SigV4Auth,
        "s3",
        "PUT",
        url,
        {"host": "127.0.0.1:4566"},
        b"data",
    )
    assert ours["authorization"] == theirs


def test_dynamodb_signature_matches_botocore() -> None:
    body = b'{"TableName":"t","Key":{"pk":{"S":"a"}}}'
    target = "DynamoDB_20120810.GetItem"
    signer = Signer(ACCESS, SECRET, "eu-west-1", "dynamodb", clock=WHEN.timestamp)
    ours = dict(
        signer.sign(
            "POST",
            "/",
            "",
            [
                ("content-type", "application/x-amz-json-1.0"),
                ("host", "localhost:4566"),
                ("x-amz-target", target),
            ],
            hashlib.sha256(body).hexdigest(),
            content_sha256_header=False,
        )
    )
    theirs = _botocore_authorization(
        SigV4Auth,
        "dynamodb",
        "POST",
        "http://localhost:4566/",
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
        body,
    )
    assert ours["authorization"] == theirs


def test_signing_key_is_derived_once_per_day() -> None:
    now = [WHEN.timestamp()]
    signer = Signer(ACCESS, SECRET, "us-east-1", "s3", clock=lambda: now[0])
    signer.sign("GET", "/", "", [("host", "h")], EMPTY_SHA256, content_sha256_header=True)
    key = signer._key
    now[0] += 3600
    signer.sign("GET", "/", "", [("host", "h")], EMPTY_SHA256, content_sha256_header=True)
    assert signer._key is key
    now[0] += 24 * 3600
    signer.sign("GET", "/", "", [("host", "h")], EMPTY_SHA256, content_sha256_header=True)
    assert signer._key != key
