"""The authorization step: each operation asks for AWS's action on AWS's resource ARN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from strata.api.dynamodb.actions import authorize as authorize_dynamodb
from strata.api.http import Request
from strata.api.s3.actions import authorize_route
from strata.api.s3.routes import resolve
from strata.service.iam.access import AccessControl, AccessDenied, Context, Decision
from strata.service.iam.principal import (
    Principal,
    anonymous_principal,
    root_principal,
    user_principal,
)

ACCOUNT = "111122223333"
ALICE = user_principal(ACCOUNT, "alice", "AIDAALICE", "AKIAALICE")


class Recorder:
    """Allows everything, and remembers what it was asked."""

    def __init__(self, answer: Decision = Decision.ALLOW) -> None:
        self.asked: list[tuple[str, str]] = []
        self.contexts: list[Context] = []
        self.answer = answer

    def decide(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        self.asked.append((action, resource))
        self.contexts.append(context())
        return self.answer


def make_request(
    method: str, path: str, query: str = "", headers: dict[str, str] | None = None
) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("10.1.2.3", 5555),
    }
    return Request.from_scope(scope, receive)


def s3_asks(
    method: str, path: str, query: str = "", headers: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    recorder = Recorder()
    request = make_request(method, path, query, headers)
    request.principal = ALICE
    authorize_route(AccessControl(recorder), request, resolve(request))
    return recorder.asked


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/", "", {}, ("s3:ListAllMyBuckets", "*")),
        ("GET", "/b", "", {}, ("s3:ListBucket", "arn:aws:s3:::b")),
        ("GET", "/b", "list-type=2&prefix=a", {}, ("s3:ListBucket", "arn:aws:s3:::b")),
        ("HEAD", "/b", "", {}, ("s3:ListBucket", "arn:aws:s3:::b")),
        ("GET", "/b", "versions", {}, ("s3:ListBucketVersions", "arn:aws:s3:::b")),
        ("PUT", "/b", "", {}, ("s3:CreateBucket", "arn:aws:s3:::b")),
        ("DELETE", "/b", "cors", {}, ("s3:PutBucketCORS", "arn:aws:s3:::b")),
        ("GET", "/b/k/x", "", {}, ("s3:GetObject", "arn:aws:s3:::b/k/x")),
        ("HEAD", "/b/k", "", {}, ("s3:GetObject", "arn:aws:s3:::b/k")),
        ("GET", "/b/k", "versionId=v1", {}, ("s3:GetObjectVersion", "arn:aws:s3:::b/k")),
        ("DELETE", "/b/k", "versionId=v1", {}, ("s3:DeleteObjectVersion", "arn:aws:s3:::b/k")),
        ("PUT", "/b/k", "", {}, ("s3:PutObject", "arn:aws:s3:::b/k")),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "a/x"}, ("s3:PutObject", "arn:aws:s3:::b/k")),
        ("PUT", "/b/k", "tagging&versionId=v", {}, ("s3:PutObjectVersionTagging", "arn:aws:s3:::b/k")),  # noqa: E501
        ("DELETE", "/b/k", "uploadId=u", {}, ("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")),
        ("GET", "/b/k", "uploadId=u", {}, ("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k")),
        ("GET", "/b", "uploads", {}, ("s3:ListBucketMultipartUploads", "arn:aws:s3:::b")),
        ("GET", "/b/k%20%2B", "", {}, ("s3:GetObject", "arn:aws:s3:::b/k +")),
    ],
)  # fmt: skip
def test_s3_operation_actions(
    method: str, path: str, query: str, headers: dict[str, str], expected: tuple[str, str]
) -> None:
    assert s3_asks(method, path, query, headers) == [expected]


def test_delete_objects_is_left_to_its_handler() -> None:
    # DeleteObjects is checked key by key (s3:DeleteObject), never on the bucket.
    assert s3_asks("POST", "/b", "delete") == []


def test_list_condition_keys_reach_the_decider() -> None:
    recorder = Recorder()
    request = make_request("GET", "/b", "list-type=2&prefix=home/alice/&delimiter=/")
    request.principal = ALICE
    authorize_route(AccessControl(recorder), request, resolve(request))
    context = recorder.contexts[0]
    assert context["s3:prefix"] == "home/alice/"
    assert context["s3:delimiter"] == "/"
    assert context["aws:SourceIp"] == "10.1.2.3"
    assert context["aws:SecureTransport"] == "false"


def test_root_is_allowed_without_asking() -> None:
    recorder = Recorder(Decision.EXPLICIT_DENY)
    request = make_request("GET", "/b/k")
    request.principal = root_principal(ACCOUNT, "AKROOT")
    authorize_route(AccessControl(recorder), request, resolve(request))
    assert recorder.asked == []


def test_user_denial_names_user_action_and_resource() -> None:
    request = make_request("GET", "/b/k")
    request.principal = ALICE
    with pytest.raises(AccessDenied) as caught:
        authorize_route(AccessControl(), request, resolve(request))
    assert caught.value.message == (
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on "
        'resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:GetObject '
        "action"
    )


def test_explicit_deny_is_worded_so() -> None:
    with pytest.raises(AccessDenied) as caught:
        AccessControl(Recorder(Decision.EXPLICIT_DENY)).authorize(ALICE, "dynamodb:GetItem", "t")
    assert caught.value.explicit
    assert caught.value.message.endswith("with an explicit deny in an identity-based policy")


def test_unauthenticated_is_denied_without_asking() -> None:
    recorder = Recorder()
    with pytest.raises(AccessDenied) as caught:
        AccessControl(recorder).authorize(None, "s3:GetObject", "arn:aws:s3:::b/k")
    assert caught.value.message == "Access Denied"
    assert recorder.asked == []


def test_anonymous_is_decided_by_policies_and_denied_with_access_denied() -> None:
    # a bucket policy may let the anonymous principal in: the decider is asked
    assert_allowed = Recorder()
    AccessControl(assert_allowed).authorize(
        anonymous_principal(ACCOUNT), "s3:GetObject", "arn:aws:s3:::b/k"
    )
    assert assert_allowed.asked == [("s3:GetObject", "arn:aws:s3:::b/k")]
    with pytest.raises(AccessDenied) as caught:
        AccessControl(Recorder(Decision.IMPLICIT_DENY)).authorize(
            anonymous_principal(ACCOUNT), "s3:GetObject", "arn:aws:s3:::b/k"
        )
    assert caught.value.message == "Access Denied"


def test_resource_policy_deny_message() -> None:
    with pytest.raises(AccessDenied) as caught:
        AccessControl(Recorder(Decision.EXPLICIT_DENY_RESOURCE)).authorize(
            ALICE, "s3:GetObject", "arn:aws:s3:::b/k"
        )
    assert caught.value.explicit
    assert caught.value.message == (
        f"User: {ALICE.arn} is not authorized to perform: s3:GetObject on resource: "
        "arn:aws:s3:::b/k with an explicit deny in a resource-based policy"
    )


TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"


@pytest.mark.parametrize(
    ("operation", "req", "expected"),
    [
        ("GetItem", {"TableName": "T"}, [("dynamodb:GetItem", f"{TABLE}/T")]),
        ("Query", {"TableName": "T", "IndexName": "g"}, [("dynamodb:Query", f"{TABLE}/T/index/g")]),
        ("ListTables", {}, [("dynamodb:ListTables", "*")]),
        ("PutItem", {"TableName": f"{TABLE}/T"}, [("dynamodb:PutItem", f"{TABLE}/T")]),
        (
            "BatchWriteItem",
            {"RequestItems": {"A": [], "B": []}},
            [("dynamodb:BatchWriteItem", f"{TABLE}/A"), ("dynamodb:BatchWriteItem", f"{TABLE}/B")],
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "A"}},
                    {"ConditionCheck": {"TableName": "B"}},
                    {"Put": {"TableName": "A"}},
                ]
            },
            [("dynamodb:PutItem", f"{TABLE}/A"), ("dynamodb:ConditionCheckItem", f"{TABLE}/B")],
        ),
        ("TagResource", {"ResourceArn": f"{TABLE}/T"}, [("dynamodb:TagResource", f"{TABLE}/T")]),
    ],
)  # fmt: skip
def test_dynamodb_operation_actions(
    operation: str, req: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    recorder = Recorder()
    request = make_request("POST", "/")
    request.principal = ALICE
    authorize_dynamodb(AccessControl(recorder), request, operation, req, "us-east-1")
    assert recorder.asked == expected


def test_dynamodb_denial_message() -> None:
    request = make_request("POST", "/")
    request.principal = ALICE
    with pytest.raises(AccessDenied) as caught:
        authorize_dynamodb(AccessControl(), request, "PutItem", {"TableName": "T"}, "us-east-1")
    assert caught.value.message == (
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
        f"dynamodb:PutItem on resource: {TABLE}/T because no identity-based policy allows the "
        "dynamodb:PutItem action"
    )
