"""SSE-C end to end over HTTPS (a certificate from ``strata tls selfsigned``, boto3 trusting
it): PUT/GET/HEAD, ranges, multipart, copies to and from customer keys, S3's errors for a
missing, wrong or mismatched key, the refusal over plain HTTP, SSE-C blocked on new buckets
until PutBucketEncryption unblocks it, and a data dir that holds neither the key nor the
content in plain."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.s3.conftest import empty_bucket, error_of
from tests.e2e.s3.test_sse_s3 import plaintext_found, with_markers
from tests.e2e.test_tls import Both, certificate  # noqa: F401 (fixture)
from tests.server import free_port, start_server

MIB = 1024 * 1024
KEY = os.urandom(32)
OTHER = os.urandom(32)
UNBLOCK = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]},
        }
    ]
}


def sse_c(key: bytes = KEY) -> dict[str, Any]:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def source_sse_c(key: bytes = KEY) -> dict[str, Any]:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def given_md5(key: bytes, md5: str) -> dict[str, Any]:
    """The headers as sent: with the MD5 named, boto3 sends the key as given (base64)."""
    encoded = base64.b64encode(key).decode()
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": encoded, "SSECustomerKeyMD5": md5}


def key_md5(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory, certificate: tuple[str, str]) -> Iterator[Both]:  # noqa: F811
    cert, key = certificate
    https_port = free_port()
    server = start_server(
        tmp_path_factory.mktemp("sse-c") / "data",
        env={"STRATA_TLS_CERT": cert, "STRATA_TLS_KEY": key, "STRATA_HTTPS_PORT": str(https_port)},
    )
    yield Both(server, https_port, cert)
    server.stop()


@pytest.fixture(scope="module")
def s3(tls: Both) -> Any:
    return tls.client("s3", secure=True)


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    """A bucket with SSE-C unblocked."""
    s3.create_bucket(Bucket=unique_name)
    s3.put_bucket_encryption(Bucket=unique_name, ServerSideEncryptionConfiguration=UNBLOCK)
    yield unique_name
    empty_bucket(s3, unique_name)


def test_new_buckets_block_sse_c_until_unblocked(s3: Any, unique_name: str) -> None:
    s3.create_bucket(Bucket=unique_name)
    config = s3.get_bucket_encryption(Bucket=unique_name)["ServerSideEncryptionConfiguration"]
    [rule] = config["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=unique_name, Key="k", Body=b"x", **sse_c())
    assert error_of(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=unique_name, Key="m", **sse_c())
    assert error_of(caught) == ("AccessDenied", 403)
    s3.put_object(Bucket=unique_name, Key="plain", Body=b"x")  # SSE-S3 is not blocked
    s3.put_bucket_encryption(Bucket=unique_name, ServerSideEncryptionConfiguration=UNBLOCK)
    [rule] = s3.get_bucket_encryption(Bucket=unique_name)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    s3.put_object(Bucket=unique_name, Key="k", Body=b"x", **sse_c())
    s3.delete_bucket_encryption(Bucket=unique_name)  # back to the default: blocked again
    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket=unique_name, Key="c", CopySource={"Bucket": unique_name, "Key": "plain"},
            **sse_c(),
        )  # fmt: skip
    assert error_of(caught) == ("AccessDenied", 403)
    # Objects written while it was allowed stay readable.
    assert s3.get_object(Bucket=unique_name, Key="k", **sse_c())["Body"].read() == b"x"
    empty_bucket_with_key(s3, unique_name)


def empty_bucket_with_key(s3: Any, name: str) -> None:
    for entry in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=entry["Key"])
    s3.delete_bucket(Bucket=name)


def test_round_trip_headers_and_etag(s3: Any, bucket: str) -> None:
    for size in (0, 100, 70_000, 2 * MIB + 3):
        body = os.urandom(size)
        put = s3.put_object(Bucket=bucket, Key=f"k{size}", Body=body, **sse_c())
        assert put["SSECustomerAlgorithm"] == "AES256"
        assert put["SSECustomerKeyMD5"] == key_md5(KEY)
        assert "ServerSideEncryption" not in put
        etag = put["ETag"].strip('"')
        assert len(etag) == 32
        assert etag != hashlib.md5(body).hexdigest()  # S3: not the content's MD5
        got = s3.get_object(Bucket=bucket, Key=f"k{size}", **sse_c())
        assert got["Body"].read() == body
        assert got["ETag"].strip('"') == etag
        assert got["SSECustomerKeyMD5"] == key_md5(KEY)
        head = s3.head_object(Bucket=bucket, Key=f"k{size}", **sse_c())
        assert head["SSECustomerAlgorithm"] == "AES256"
        assert head["ContentLength"] == size


def test_ranges(s3: Any, bucket: str) -> None:
    body = os.urandom(MIB + 777)
    s3.put_object(Bucket=bucket, Key="r", Body=body, **sse_c())
    for start, end in [(0, 0), (65_535, 65_536), (1000, MIB + 100), (MIB + 776, MIB + 776)]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={start}-{end}", **sse_c())
        assert got["Body"].read() == body[start : end + 1]


def test_key_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="c", Body=b"customer bytes", **sse_c())
    s3.put_object(Bucket=bucket, Key="s", Body=b"sse-s3 bytes")
    cases: list[tuple[str, dict[str, Any], tuple[str, int]]] = [
        ("c", {}, ("InvalidRequest", 400)),  # stored with SSE-C: the key is required
        ("c", sse_c(OTHER), ("AccessDenied", 403)),  # another key
        ("s", sse_c(), ("InvalidRequest", 400)),  # a key for an object that has none
        ("c", given_md5(KEY, key_md5(OTHER)), ("InvalidArgument", 400)),
        ("c", sse_c(os.urandom(16)), ("InvalidArgument", 400)),  # not a 256-bit key
        (
            "c",
            {**sse_c(), "SSECustomerAlgorithm": "AES128"},
            ("InvalidEncryptionAlgorithmError", 400),
        ),
    ]
    for key, extra, expected in cases:
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key=key, **extra)
        assert error_of(caught) == expected, (key, extra)
    encoded = base64.b64encode(KEY).decode()
    with pytest.raises(ClientError) as caught:  # a key without its algorithm
        s3.get_object(
            Bucket=bucket, Key="c", SSECustomerKey=encoded, SSECustomerKeyMD5=key_md5(KEY)
        )
    assert error_of(caught) == ("InvalidArgument", 400)
    assert "valid encryption algorithm" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="c", **sse_c(OTHER))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="AES256", **sse_c())
    assert error_of(caught) == ("InvalidArgument", 400)
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("Server Side Encryption with Customer provided key is incompatible")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", **given_md5(KEY, "AAAA"))
    assert error_of(caught) == ("InvalidArgument", 400)
    # Nothing was written by the refused requests.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["c", "s"]


def test_refused_over_plain_http(tls: Both, s3: Any, bucket: str) -> None:
    plain = tls.client("s3", secure=False)
    with pytest.raises(ClientError) as caught:
        plain.put_object(Bucket=bucket, Key="k", Body=b"x", **sse_c())
    assert error_of(caught) == ("InvalidRequest", 400)
    assert "secure connection" in caught.value.response["Error"]["Message"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", **sse_c())
    with pytest.raises(ClientError) as caught:
        plain.get_object(Bucket=bucket, Key="k", **sse_c())
    assert error_of(caught) == ("InvalidRequest", 400)


def test_multipart(s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c())
    assert created["SSECustomerAlgorithm"] == "AES256"
    upload = created["UploadId"]
    parts = [os.urandom(5 * MIB), os.urandom(1234)]
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=parts[0])
    assert error_of(caught) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=parts[0],
            **sse_c(OTHER),
        )  # fmt: skip
    assert error_of(caught) == ("InvalidRequest", 400)
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data, **sse_c()
        )
        assert reply["SSECustomerKeyMD5"] == key_md5(KEY)
        assert reply["ETag"].strip('"') != hashlib.md5(data).hexdigest()
        done.append({"PartNumber": number, "ETag": reply["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": done}
    )
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp", **sse_c())["Body"].read() == whole
    edge = len(parts[0])
    got = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={edge - 5}-{edge + 5}", **sse_c())
    assert got["Body"].read() == whole[edge - 5 : edge + 6]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="mp")
    assert error_of(caught) == ("InvalidRequest", 400)


def test_copies_to_and_from_customer_keys(s3: Any, bucket: str) -> None:
    body = os.urandom(300_000)
    small = b"small customer object"
    s3.put_object(Bucket=bucket, Key="c", Body=body, **sse_c())
    s3.put_object(Bucket=bucket, Key="small", Body=small, **sse_c())
    s3.put_object(Bucket=bucket, Key="s", Body=body)
    source = {"Bucket": bucket, "Key": "c"}
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=source)
    assert error_of(caught) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=source, **source_sse_c(OTHER))
    assert error_of(caught) == ("AccessDenied", 403)
    # SSE-C -> SSE-S3: readable without a key, its ETag the content's MD5 again.
    out = s3.copy_object(Bucket=bucket, Key="to-s3", CopySource=source, **source_sse_c())
    assert out["ServerSideEncryption"] == "AES256"
    assert out["CopyObjectResult"]["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    assert s3.get_object(Bucket=bucket, Key="to-s3")["Body"].read() == body
    # SSE-S3 -> SSE-C, and SSE-C -> SSE-C under another key (inline bytes too).
    s3.copy_object(Bucket=bucket, Key="to-c", CopySource={"Bucket": bucket, "Key": "s"}, **sse_c())
    assert s3.get_object(Bucket=bucket, Key="to-c", **sse_c())["Body"].read() == body
    for key in ("c", "small"):
        s3.copy_object(
            Bucket=bucket, Key=f"{key}-other", CopySource={"Bucket": bucket, "Key": key},
            **source_sse_c(), **sse_c(OTHER),
        )  # fmt: skip
        expected = body if key == "c" else small
        got = s3.get_object(Bucket=bucket, Key=f"{key}-other", **sse_c(OTHER))
        assert got["Body"].read() == expected
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key=f"{key}-other", **sse_c())
        assert error_of(caught) == ("AccessDenied", 403)
    # A part copy from an SSE-C source into an SSE-S3 upload.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="pc")["UploadId"]
    reply = s3.upload_part_copy(
        Bucket=bucket, Key="pc", UploadId=upload, PartNumber=1, CopySource=source,
        CopySourceRange="bytes=10-100009", **source_sse_c(),
    )  # fmt: skip
    parts = [{"PartNumber": 1, "ETag": reply["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="pc", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket=bucket, Key="pc")["Body"].read() == body[10:100010]


def test_bucket_encryption_validation(s3: Any, bucket: str) -> None:
    def put(rule: dict[str, Any]) -> None:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})

    bad: list[tuple[dict[str, Any], tuple[str, int]]] = [
        (
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:fsx"}},
            ("MalformedXML", 400),
        ),
        (
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "AES256",
                    "KMSMasterKeyID": "k",
                }
            },
            ("InvalidArgument", 400),
        ),
        ({"BlockedEncryptionTypes": {"EncryptionType": ["NONE", "SSE-C"]}}, ("MalformedXML", 400)),
    ]
    for rule, expected in bad:
        with pytest.raises(ClientError) as caught:
            put(rule)
        assert error_of(caught) == expected, rule
    # Unchanged by the refusals: still unblocked (the fixture's configuration).
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    put(
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    )
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}  # kept as it was
    s3.delete_bucket_encryption(Bucket=bucket)
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_encryption(Bucket=bucket + "-missing")
    assert error_of(caught) == ("NoSuchBucket", 404)


def test_neither_key_nor_content_under_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env={"STRATA_SSE_C_HTTP_ALLOWED": "true"})
    key = os.urandom(32)
    marks = [os.urandom(24) for _ in range(4)]
    bodies = {"inline": with_markers(2000, marks[:2]), "extent": with_markers(MIB, marks[2:])}
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="keys")
        s3.put_bucket_encryption(Bucket="keys", ServerSideEncryptionConfiguration=UNBLOCK)
        for name, body in bodies.items():  # over plain HTTP: allowed by the setting
            s3.put_object(Bucket="keys", Key=name, Body=body, **sse_c(key))
    finally:
        server.kill()
    secrets = [*marks, key, base64.b64encode(key), hashlib.md5(key).digest()]
    assert plaintext_found(data_dir, secrets) == []
    server = start_server(data_dir, env={"STRATA_SSE_C_HTTP_ALLOWED": "true"})
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for name, body in bodies.items():
            assert s3.get_object(Bucket="keys", Key=name, **sse_c(key))["Body"].read() == body
    finally:
        server.stop()
    assert plaintext_found(data_dir, secrets) == []
