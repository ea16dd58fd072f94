"""Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus.

A policy is checked by the policy engine's grammar (``parse_policy``, resource kind: a
Principal in every statement) and then by S3's own rules: every action is an ``s3:``
action, every resource is this bucket or an object in it, and each action applies to a
resource of the statement. S3 answers ``MalformedPolicy`` with its own words for what IAM
would word differently. With Block Public Access ``BlockPublicPolicy`` on, a public policy
is refused with ``AccessDenied``, as S3 does.
"""

from __future__ import annotations

from typing import Final

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.actions import ACTIONS, BUCKET, OBJECT, VERSIONED
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.errors import ProtocolError
from strata.service.iam.policy import MalformedPolicyDocument, PolicyDocument, Reason, Statement
from strata.service.iam.policy.public import is_public
from strata.service.objects.bucket_policies import BucketPolicies, compile_bucket_policy

POLICY_BYTES_MAX: Final = 20 * 1024  # S3: "bucket policies are limited to 20 KB"
BLOCK_PUBLIC_POLICY: Final = 2  # index in BucketAccess.public_access_block

# IAM's words -> S3's, for the same fault.
_S3_WORDS: Final = {
    Reason.ACTION: "Policy has invalid action",
    Reason.RESOURCE: "Policy has invalid resource",
    Reason.PRINCIPAL: "Invalid principal in policy",
    Reason.SID: "Statement IDs (SID) in a single policy must be unique.",
}
_MISSING: Final = {
    "Policy statement must contain actions.": "Missing required field Action",
    "Policy statement must contain resources.": "Missing required field Resource",
    "Missing required field Principal": "Missing required field Principal",
}

_OBJECT_ACTIONS: Final = frozenset(
    {a.lower() for a, kind in ACTIONS.values() if kind == OBJECT}
    | {a.lower() for a in VERSIONED.values()}
)
_BUCKET_ACTIONS: Final = frozenset(a.lower() for a, kind in ACTIONS.values() if kind == BUCKET)


def malformed_policy(message: str) -> ProtocolError:
    return ProtocolError("MalformedPolicy", message)


def _s3_message(error: MalformedPolicyDocument, text: str) -> str:
    if error.reason is Reason.SYNTAX and not text.lstrip().startswith("{"):
        return "Policies must be valid JSON and the first byte must be '{'"
    if error.message in _MISSING:
        return _MISSING[error.message]
    return _S3_WORDS.get(error.reason, "Invalid policy syntax.")


def _check_statement(statement: Statement, bucket: str) -> None:
    """S3's own rules for one statement of ``bucket``'s policy."""
    written_actions = _texts(statement, "actions")
    for action in written_actions:
        if action != "*" and not action.lower().startswith("s3:"):
            raise malformed_policy("Policy has invalid action")
    resources = _texts(statement, "resources")
    prefix = f"arn:aws:s3:::{bucket}"
    for resource in resources:
        if resource != "*" and not (
            resource == prefix or resource.startswith((prefix + "/", prefix + "*"))
        ):
            raise malformed_policy("Policy has invalid resource")
    if statement.not_action or statement.not_resource:
        return
    # an exact action must apply to some resource of the statement
    reaches_objects = any("/" in r or "*" in r for r in resources)
    reaches_bucket = any("/" not in r for r in resources)
    for action in written_actions:
        lowered = action.lower()
        if (lowered in _OBJECT_ACTIONS and not reaches_objects) or (
            lowered in _BUCKET_ACTIONS and lowered not in _OBJECT_ACTIONS and not reaches_bucket
        ):
            raise malformed_policy("Action does not apply to any resource(s) in statement")


def _texts(statement: Statement, field: str) -> list[str]:
    patterns = statement.actions if field == "actions" else statement.resources
    if patterns is None:
        return []
    found = sorted(patterns.exact) + [p.text for p in patterns.others]
    return ["*", *found] if patterns.everything else found


def check_bucket_policy(text: str, bucket: str) -> PolicyDocument:
    try:
        document = compile_bucket_policy(text)
    except MalformedPolicyDocument as exc:
        raise malformed_policy(_s3_message(exc, text))
    for statement in document.statements:
        _check_statement(statement, bucket)
    return document


def _policies(s3: S3Context) -> BucketPolicies:
    return BucketPolicies(s3.buckets.store)


async def put_bucket_policy(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    body = await read_small_body(call.request, POLICY_BYTES_MAX + 1)
    if len(body) > POLICY_BYTES_MAX:
        raise malformed_policy("Policy exceeds the maximum allowed document size.")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    document = check_bucket_policy(text, call.bucket)
    policies = _policies(s3)
    block = policies.access(call.bucket).public_access_block
    if block is not None and block[BLOCK_PUBLIC_POLICY] and is_public(document):
        raise ProtocolError("AccessDenied", "Access Denied", 403)
    await policies.put(call.bucket, text)
    return Response(status=204)


def _stored(s3: S3Context, bucket: str) -> str:
    s3.buckets.get(bucket)
    text = _policies(s3).text(bucket)
    if text is None:
        raise ProtocolError(
            "NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket
        )
    return text


async def get_bucket_policy(s3: S3Context, call: Call) -> Response:
    text = _stored(s3, call.bucket)
    return Response(status=200, headers=[("content-type", "application/json")], body=text.encode())


async def delete_bucket_policy(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await _policies(s3).put(call.bucket, None)
    return Response(status=204)


async def get_bucket_policy_status(s3: S3Context, call: Call) -> Response:
    public = is_public(compile_bucket_policy(_stored(s3, call.bucket)))
    return xml_response(xml.document("PolicyStatus", xml.el("IsPublic", public)))
