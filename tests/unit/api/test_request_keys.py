"""Each protocol's one-key readers (RequestKeys) agree with the context it builds, so a
cached decision keyed on them is the one a full evaluation would make."""

from __future__ import annotations

from typing import Any

import pytest

from strata.api.dynamodb import condition_keys as dynamodb_keys
from strata.api.http import Request
from strata.api.s3 import actions as s3_actions
from strata.service.iam.request_keys import RequestKeys


def make_request(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
                 scheme: str = "http") -> Request:  # fmt: skip
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "method": "GET", "path": "/b/k", "raw_path": b"/b/k", "query_string": query,
        "headers": headers or [], "client": ("10.1.2.3", 1), "scheme": scheme,
    }  # fmt: skip
    return Request.from_scope(scope, receive)


S3_REQUESTS = [
    make_request(),
    make_request(b"versionId=v1&prefix=a/&delimiter=/&max-keys=5", scheme="https"),
    make_request(
        headers=[
            (b"authorization", b"AWS4-HMAC-SHA256 Credential=x"),
            (b"x-amz-server-side-encryption", b"AES256"),
            (b"x-amz-tagging", b"a=1&b=2"),
        ]
    ),
    make_request(headers=[(b"authorization", b"AWS AKID:sig")]),
    make_request(b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s"),
    make_request(b"AWSAccessKeyId=a&Signature=s&Expires=1"),
]


def lowered(context: Any) -> dict[str, Any]:
    return {name.lower(): value for name, value in context.items()}


@pytest.mark.parametrize("request_", S3_REQUESTS)
def test_s3_readers_agree_with_request_context(request_: Request) -> None:
    built = lowered(s3_actions.request_context(request_))
    keys = RequestKeys(request_, s3_actions.REQUEST_KEY_READERS, ("dynamodb:",),
                       lambda: s3_actions.request_context(request_))  # fmt: skip
    for key in s3_actions.REQUEST_KEY_READERS:
        assert keys.value(key) == built.get(key), key
    for key, value in built.items():  # keys without a reader are found by building
        assert keys.value(key) == value, key
    assert keys.value("dynamodb:leadingkeys") is None


@pytest.mark.parametrize(
    "req",
    [
        {"TableName": "T", "Key": {"pk": {"S": "a"}}},
        {"TableName": "T", "Select": "COUNT", "ReturnValues": "ALL_OLD",
         "Item": {"pk": {"S": "b"}}},
        {"TableName": "T", "Select": 5, "ProjectionExpression": "a, #b",
         "ExpressionAttributeNames": {"#b": "bee"}},
    ],
)  # fmt: skip
def test_dynamodb_readers_agree_with_request_context(req: dict[str, Any]) -> None:
    request = make_request(headers=[(b"user-agent", b"boto3/1")], scheme="https")

    def build() -> Any:
        return dynamodb_keys.request_context(request, req, lambda table: "pk")

    built = lowered(build())
    keys = RequestKeys((request, req), dynamodb_keys.REQUEST_KEY_READERS,
                       dynamodb_keys.FOREIGN_KEYS, build)  # fmt: skip
    for key in dynamodb_keys.REQUEST_KEY_READERS:
        assert keys.value(key) == built.get(key), key
    for key, value in built.items():
        assert keys.value(key) == value, key
    assert keys.value("s3:prefix") is None


def test_a_key_added_to_the_context_later_is_still_found() -> None:
    keys = RequestKeys(None, {}, ("dynamodb:",), lambda: {"s3:NewKey": "x"})
    assert keys.value("s3:newkey") == "x"
    assert keys() == {"s3:NewKey": "x"}
