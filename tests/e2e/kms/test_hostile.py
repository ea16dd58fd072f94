"""Hand-made KMS requests: what boto3 would never send gets KMS's errors, never a 5xx, and
changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from tests.conftest import client
from tests.e2e.raw import RawClient
from tests.server import RunningServer


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    connection = RawClient(server)
    yield connection
    connection.close()


def call(raw: RawClient, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = AWSRequest(
        method="POST",
        url=f"{raw.server.endpoint}/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(raw.credentials, "kms", "us-east-1").add_auth(request)
    status, _, answer = raw.send("POST", "/", dict(request.headers.items()), body)
    return status, json.loads(answer) if answer else {}


@pytest.mark.parametrize(
    ("target", "body", "code"),
    [
        ("TrentService.NoSuchThing", b"{}", "UnknownOperationException"),
        ("TrentService.CreateKey", b"{not json", "SerializationException"),
        ("TrentService.CreateKey", b"[1, 2]", "SerializationException"),
        ("TrentService.DescribeKey", b'{"KeyId": {"a": 1}}', "SerializationException"),
        (
            "TrentService.Encrypt",
            b'{"KeyId": "alias/x", "Plaintext": "%%%"}',
            "SerializationException",
        ),
        ("TrentService.Encrypt", b'{"KeyId": "alias/x", "Plaintext": ""}', "ValidationException"),
        ("TrentService.Decrypt", b'{"CiphertextBlob": "AAAA"}', "InvalidCiphertextException"),
        ("TrentService.ListKeys", b'{"Limit": 0}', "ValidationException"),
        ("TrentService.ListKeys", b'{"Limit": "ten"}', "SerializationException"),
        ("TrentService.CreateKey", b'{"Tags": [{"TagKey": 5}]}', "ValidationException"),
        (
            "TrentService.Encrypt",
            b'{"KeyId": "alias/x", "Plaintext": "eA==", "EncryptionContext": {"a": 1}}',
            "SerializationException",
        ),
    ],
)
def test_refused_without_5xx(raw: RawClient, target: str, body: bytes, code: str) -> None:
    status, answer = call(raw, target, body)
    assert (status, answer.get("__type")) == (400, code)


def test_unbuilt_operation_is_501(raw: RawClient) -> None:
    status, answer = call(raw, "TrentService.Sign", b"{}")
    assert (status, answer["__type"]) == (501, "NotImplemented")


def test_nothing_created_by_refused_requests(raw: RawClient, server: RunningServer) -> None:
    kms = client(server, "kms")
    before = {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]}
    call(raw, "TrentService.CreateKey", b'{"KeySpec": "RSA_2048"}')
    call(raw, "TrentService.CreateKey", b'{"Tags": [{"TagKey": "aws:x", "TagValue": "v"}]}')
    assert {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]} == before
