"""POST Object policies as S3 checks them (the ceph s3-tests' cases), signed by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

import pytest
import requests

from tests.server import RunningServer

FUTURE = "2099-01-01T00:00:00.000Z"


def _post(
    server: RunningServer,
    bucket: str,
    policy: dict[str, Any],
    fields: dict[str, str],
    data: bytes = b"bar",
    filename: str = "foo.txt",
) -> requests.Response:
    """A SigV2-signed form (AWSAccessKeyId, policy, signature), the file last."""
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    mac = hmac.new(server.secret_key.encode(), encoded.encode(), hashlib.sha1).digest()
    form = {
        **fields,
        "AWSAccessKeyId": server.access_key,
        "policy": encoded,
        "signature": base64.b64encode(mac).decode(),
    }
    files = {name: (None, value) for name, value in form.items()}
    files["file"] = (filename, data)  # type: ignore[assignment]
    return requests.post(f"{server.endpoint}/{bucket}", files=files, timeout=30)


def _conditions(bucket: str, *more: Any) -> list[Any]:
    return [{"bucket": bucket}, ["starts-with", "$key", ""], *more]


def test_key_from_filename(server: RunningServer, s3: Any, bucket: str) -> None:
    # The policy sees the key after ${filename} is replaced: "foo.txt" starts with "foo".
    policy = {
        "expiration": FUTURE,
        "conditions": [{"bucket": bucket}, ["starts-with", "$key", "foo"]],
    }
    reply = _post(server, bucket, policy, {"key": "${filename}"})
    assert reply.status_code == 204, reply.text
    assert s3.get_object(Bucket=bucket, Key="foo.txt")["Body"].read() == b"bar"
    reply = _post(server, bucket, policy, {"key": "foo/${filename}.bak"}, filename="dir/x.y")
    assert reply.status_code == 204, reply.text
    assert s3.get_object(Bucket=bucket, Key="foo/x.y.bak")["Body"].read() == b"bar"


def test_condition_field_names_any_case(server: RunningServer, s3: Any, bucket: str) -> None:
    policy = {
        "expiration": FUTURE,
        "conditions": [
            {"bUcKeT": bucket},
            ["starts-with", "$KeY", "foo"],
            {"AcL": "private"},
            ["starts-with", "$CoNtEnT-TyPe", "text/plain"],
        ],
    }
    fields = {"key": "foo.txt", "acl": "private", "Content-Type": "text/plain"}
    reply = _post(server, bucket, policy, fields)
    assert reply.status_code == 204, reply.text
    assert s3.head_object(Bucket=bucket, Key="foo.txt")["ContentType"] == "text/plain"


def test_condition_operator_is_case_sensitive(server: RunningServer, bucket: str) -> None:
    policy = {"expiration": FUTURE, "conditions": [{"bucket": bucket}, ["StArTs-WiTh", "$key", ""]]}
    reply = _post(server, bucket, policy, {"key": "foo.txt"})
    assert reply.status_code == 400
    assert "<Code>InvalidPolicyDocument</Code>" in reply.text


@pytest.mark.parametrize(
    "expiration",
    ["2099-01-01 00:00:00+00:00", "2099-01-01T00:00:00+00:00", "Mon, 01 Jan 2099 00:00:00 GMT", ""],
)
def test_malformed_expiration(server: RunningServer, s3: Any, bucket: str, expiration: str) -> None:
    policy = {"expiration": expiration, "conditions": _conditions(bucket)}
    reply = _post(server, bucket, policy, {"key": "foo.txt"})
    assert reply.status_code == 400
    assert "<Code>InvalidPolicyDocument</Code>" in reply.text
    assert f"Invalid Policy: Invalid 'expiration' value: '{expiration}'" in reply.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_expiration_name_is_case_sensitive(server: RunningServer, bucket: str) -> None:
    policy = {"eXpIrAtIoN": FUTURE, "conditions": _conditions(bucket)}
    reply = _post(server, bucket, policy, {"key": "foo.txt"})
    assert reply.status_code == 400
    assert "Policy missing expiration" in reply.text


@pytest.mark.parametrize("condition", [{}, {"a": "1", "b": "2"}])
def test_simple_condition_needs_one_property(
    server: RunningServer, s3: Any, bucket: str, condition: dict[str, str]
) -> None:
    policy = {"expiration": FUTURE, "conditions": [condition]}
    reply = _post(server, bucket, policy, {"key": "foo.txt"})
    assert reply.status_code == 400
    assert "<Code>InvalidPolicyDocument</Code>" in reply.text
    assert "Simple-Conditions must have exactly one property specified." in reply.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_checksum_fields(server: RunningServer, s3: Any, bucket: str) -> None:
    crc = base64.b64encode(zlib.crc32(b"bar").to_bytes(4, "big")).decode()
    policy = {
        "expiration": FUTURE,
        "conditions": _conditions(
            bucket,
            ["starts-with", "$x-amz-checksum-crc32", ""],
            ["starts-with", "$x-amz-checksum-algorithm", ""],
        ),
    }
    fields = {"key": "sum", "x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-crc32": crc}
    reply = _post(server, bucket, policy, fields)
    assert reply.status_code == 204, reply.text
    head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc
    wrong = {**fields, "key": "bad", "x-amz-checksum-crc32": "AAAAAA=="}
    reply = _post(server, bucket, policy, wrong)
    assert reply.status_code == 400
    assert "<Code>BadDigest</Code>" in reply.text
    # The algorithm alone: S3 computes and keeps that checksum.
    reply = _post(server, bucket, policy, {"key": "alg", "x-amz-checksum-algorithm": "CRC32"})
    assert reply.status_code == 204, reply.text
    head = s3.head_object(Bucket=bucket, Key="alg", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["alg", "sum"]


def test_checksum_fields_need_no_condition(server: RunningServer, s3: Any, bucket: str) -> None:
    digest = base64.b64encode(hashlib.sha256(b"bar").digest()).decode()
    policy = {"expiration": FUTURE, "conditions": _conditions(bucket)}
    reply = _post(server, bucket, policy, {"key": "foo.txt", "x-amz-checksum-sha256": digest})
    assert reply.status_code == 204, reply.text
    head = s3.head_object(Bucket=bucket, Key="foo.txt", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == digest
    bad = _post(server, bucket, policy, {"key": "bad.txt", "x-amz-checksum-sha256": "sailorjerry"})
    assert bad.status_code == 400
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["foo.txt"]


def test_content_md5_field(server: RunningServer, s3: Any, bucket: str) -> None:
    policy = {
        "expiration": FUTURE,
        "conditions": _conditions(bucket, ["starts-with", "$Content-MD5", ""]),
    }
    good = base64.b64encode(hashlib.md5(b"bar").digest()).decode()
    reply = _post(server, bucket, policy, {"key": "md5", "Content-MD5": good})
    assert reply.status_code == 204, reply.text
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    reply = _post(server, bucket, policy, {"key": "bad", "Content-MD5": bad})
    assert reply.status_code == 400
    assert "<Code>BadDigest</Code>" in reply.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["md5"]
