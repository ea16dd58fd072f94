"""Each S3 operation's IAM action and resource, exactly as AWS maps them, and the check.

After ``routes.resolve`` names the operation, ``authorize_route`` asks ``AccessControl``
once, with the action (a GET naming ``versionId`` is ``s3:GetObjectVersion``; ListObjects
is ``s3:ListBucket``; HeadObject is ``s3:GetObject``) and the bucket or object ARN. Some
operations are checked by their handler instead, where the resources are known: each key
of DeleteObjects, the source of CopyObject / UploadPartCopy, a POST form's upload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qsl

from strata.api.http import Request
from strata.api.s3.routes import Route
from strata.service.iam.access import AccessControl, Context
from strata.service.iam.request_keys import RequestKeys

BUCKET: Final = "bucket"
OBJECT: Final = "object"
SERVICE: Final = "service"

# operation -> (action, resource kind); absent: checked by the handler (or not at all).
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", SERVICE),
    "GetBucketLocation": ("s3:GetBucketLocation", BUCKET),
    "GetBucketVersioning": ("s3:GetBucketVersioning", BUCKET),
    "PutBucketVersioning": ("s3:PutBucketVersioning", BUCKET),
    "GetBucketTagging": ("s3:GetBucketTagging", BUCKET),
    "PutBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "DeleteBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "GetBucketCors": ("s3:GetBucketCORS", BUCKET),
    "PutBucketCors": ("s3:PutBucketCORS", BUCKET),
    "DeleteBucketCors": ("s3:PutBucketCORS", BUCKET),
    "ListObjectVersions": ("s3:ListBucketVersions", BUCKET),
    "ListObjectsV2": ("s3:ListBucket", BUCKET),
    "ListObjects": ("s3:ListBucket", BUCKET),
    "CreateBucket": ("s3:CreateBucket", BUCKET),
    "HeadBucket": ("s3:ListBucket", BUCKET),
    "DeleteBucket": ("s3:DeleteBucket", BUCKET),
    "GetBucketAcl": ("s3:GetBucketAcl", BUCKET),
    "PutBucketAcl": ("s3:PutBucketAcl", BUCKET),
    "GetObjectAcl": ("s3:GetObjectAcl", OBJECT),
    "PutObjectAcl": ("s3:PutObjectAcl", OBJECT),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", BUCKET),
    "GetBucketPolicy": ("s3:GetBucketPolicy", BUCKET),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", BUCKET),
    "PutBucketPolicy": ("s3:PutBucketPolicy", BUCKET),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", BUCKET),
    "GetBucketWebsite": ("s3:GetBucketWebsite", BUCKET),
    "DeleteBucketWebsite": ("s3:DeleteBucketWebsite", BUCKET),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", BUCKET),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", BUCKET),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", BUCKET),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "GetBucketLogging": ("s3:GetBucketLogging", BUCKET),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", BUCKET),
    "GetBucketRequestPayment": ("s3:GetBucketRequestPayment", BUCKET),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration", BUCKET),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", BUCKET),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", BUCKET),
    "GetObjectRetention": ("s3:GetObjectRetention", OBJECT),
    "PutObjectRetention": ("s3:PutObjectRetention", OBJECT),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", OBJECT),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", OBJECT),
    "GetBucketReplication": ("s3:GetReplicationConfiguration", BUCKET),
    "ListBucketAnalyticsConfigurations": ("s3:GetAnalyticsConfiguration", BUCKET),
    "ListBucketMetricsConfigurations": ("s3:GetMetricsConfiguration", BUCKET),
    "ListBucketInventoryConfigurations": ("s3:GetInventoryConfiguration", BUCKET),
    "ListBucketIntelligentTieringConfigurations": (
        "s3:GetIntelligentTieringConfiguration",
        BUCKET,
    ),
    "GetBucketIntelligentTieringConfiguration": ("s3:GetIntelligentTieringConfiguration", BUCKET),
    "PutBucketIntelligentTieringConfiguration": ("s3:PutIntelligentTieringConfiguration", BUCKET),
    "DeleteBucketIntelligentTieringConfiguration": (
        "s3:PutIntelligentTieringConfiguration",
        BUCKET,
    ),
    "GetObjectTagging": ("s3:GetObjectTagging", OBJECT),
    "PutObjectTagging": ("s3:PutObjectTagging", OBJECT),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", OBJECT),
    "CopyObject": ("s3:PutObject", OBJECT),  # and read on the source: read_copy_source
    "PutObject": ("s3:PutObject", OBJECT),
    "GetObject": ("s3:GetObject", OBJECT),
    "HeadObject": ("s3:GetObject", OBJECT),
    "DeleteObject": ("s3:DeleteObject", OBJECT),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", BUCKET),
    "CreateMultipartUpload": ("s3:PutObject", OBJECT),
    "UploadPartCopy": ("s3:PutObject", OBJECT),  # and read on the source
    "UploadPart": ("s3:PutObject", OBJECT),
    "CompleteMultipartUpload": ("s3:PutObject", OBJECT),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", OBJECT),
    "ListParts": ("s3:ListMultipartUploadParts", OBJECT),
    "GetObjectAttributes": ("s3:GetObjectAttributes", OBJECT),
    "RestoreObject": ("s3:RestoreObject", OBJECT),
}

# With ``versionId``, these act on a version and AWS names the action so.
VERSIONED: Final = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}

# Condition keys a listing offers (s3:prefix, s3:delimiter, s3:max-keys).
_LIST_KEYS: Final = ("prefix", "delimiter", "max-keys")


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def object_action(action: str, version_id: str | None) -> str:
    return VERSIONED.get(action, action) if version_id is not None else action


def request_context(request: Request) -> dict[str, str | list[str]]:
    """Condition keys every S3 request offers, besides the principal's own."""
    context: dict[str, str | list[str]] = {
        "aws:SourceIp": request.client_host,
        "aws:SecureTransport": "true" if request.secure else "false",
    }
    if "versionId" in request.query:
        context["s3:VersionId"] = request.query["versionId"]
    for name in _LIST_KEYS:
        if name in request.query:
            context[f"s3:{name}"] = request.query[name]
    sse = request.headers.get("x-amz-server-side-encryption")
    if sse is not None:
        context["s3:x-amz-server-side-encryption"] = sse
    context.update(_signature_keys(request))
    tagging = request.headers.get("x-amz-tagging")
    if tagging is not None:  # PutObject / CreateMultipartUpload / CopyObject tags
        tags = parse_qsl(tagging, keep_blank_values=True)
        context["s3:RequestObjectTagKeys"] = [name for name, _ in tags]
        for name, value in tags:
            context[f"s3:RequestObjectTag/{name}"] = value
    return context


def _signature_keys(request: Request) -> dict[str, str | list[str]]:
    """``s3:signatureversion`` ("AWS" for SigV2, "AWS4-HMAC-SHA256" for SigV4) and
    ``s3:authType`` (REST-HEADER, REST-QUERY-STRING), as S3 sets them."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("AWS4-HMAC-SHA256"):
        return {"s3:signatureversion": "AWS4-HMAC-SHA256", "s3:authType": "REST-HEADER"}
    if authorization.startswith("AWS "):
        return {"s3:signatureversion": "AWS", "s3:authType": "REST-HEADER"}
    query = request.query
    if "X-Amz-Algorithm" in query:
        return {"s3:signatureversion": "AWS4-HMAC-SHA256", "s3:authType": "REST-QUERY-STRING"}
    if "Signature" in query and "AWSAccessKeyId" in query:
        return {"s3:signatureversion": "AWS", "s3:authType": "REST-QUERY-STRING"}
    return {}


def _signature_version(request: Request) -> str | None:
    found = _signature_keys(request).get("s3:signatureversion")
    return found if isinstance(found, str) else None


def _auth_type(request: Request) -> str | None:
    found = _signature_keys(request).get("s3:authType")
    return found if isinstance(found, str) else None


# request_context's keys one by one (lower-cased), for RequestKeys; tests/unit/api/s3
# checks they agree with request_context. Keys of other services are never in an S3 request.
REQUEST_KEY_READERS: Final[dict[str, Callable[[Request], str | None]]] = {
    "aws:sourceip": lambda request: request.client_host,
    "aws:securetransport": lambda request: "true" if request.secure else "false",
    "s3:versionid": lambda request: request.query.get("versionId"),
    "s3:prefix": lambda request: request.query.get("prefix"),
    "s3:delimiter": lambda request: request.query.get("delimiter"),
    "s3:max-keys": lambda request: request.query.get("max-keys"),
    "s3:x-amz-server-side-encryption": (
        lambda request: request.headers.get("x-amz-server-side-encryption")
    ),
    "s3:signatureversion": _signature_version,
    "s3:authtype": _auth_type,
}
_FOREIGN_KEYS: Final = ("dynamodb:", "iam:", "sts:", "kms:")


# The actions S3 offers s3:ExistingObjectTag/<key> for (IAM's reference for S3).
EXISTING_TAG_ACTIONS: Final = frozenset(
    {
        "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectVersionAcl",
        "s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:PutObjectAcl",
        "s3:PutObjectVersionAcl", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
        "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    }
)  # fmt: skip
ExistingTags = Callable[[str, str, str | None], list[tuple[str, str]]]


def authorize(
    access: AccessControl,
    request: Request,
    action: str,
    resource: str,
    extra: Context | Callable[[], Context] = {},  # noqa: B006 (never mutated)
) -> None:
    """One check, for a handler that knows its resource (a DeleteObjects key, a copy source).
    ``extra`` may be a function: it runs only if a policy is evaluated."""

    def context() -> Context:
        more = extra() if callable(extra) else extra
        return {**request_context(request), **more} if more else request_context(request)

    keys = RequestKeys(request, REQUEST_KEY_READERS, _FOREIGN_KEYS, context)
    principal = request.principal
    if principal is not None and principal.root:
        if _root_checked(access, action, resource):
            access.authorize_root(principal, action, resource, keys, quote_resource=True)
        return
    access.authorize(principal, action, resource, keys, quote_resource=True)


# The bucket owner's root user can always run these, whatever the bucket policy denies, so
# that it cannot lock itself out (S3's Put/Get/DeleteBucketPolicy reference).
ROOT_ALWAYS: Final = frozenset(
    {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}
)


def _root_checked(access: AccessControl, action: str, resource: str) -> bool:
    """Root is checked only against a bucket policy with a Deny statement in it."""
    if not resource.startswith("arn:aws:s3:::") or action in ROOT_ALWAYS:
        return False
    return access.bucket_denies(resource[13:].split("/", 1)[0])


def existing_tag_keys(tags: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    return {f"s3:ExistingObjectTag/{name}": value for name, value in tags}


def authorize_route(
    access: AccessControl, request: Request, route: Route, existing: ExistingTags | None = None
) -> None:
    """``existing`` reads an object's tags (bucket, key, version id) for
    ``s3:ExistingObjectTag/*``, only when a non-root caller's policy is evaluated."""
    entry = ACTIONS.get(route.operation)
    if entry is None:
        return
    principal = request.principal
    if (
        principal is not None
        and principal.root
        and not (route.bucket and access.bucket_denies(route.bucket))
    ):
        return  # the fast path: nothing below is built for root
    action, kind = entry
    extra: Context | Callable[[], Context] = {}
    if kind == OBJECT:
        version_id = request.query.get("versionId")
        action = object_action(action, version_id)
        resource = object_arn(route.bucket, route.key)
        if existing is not None and action in EXISTING_TAG_ACTIONS:
            reader = existing

            def extra() -> Context:
                return existing_tag_keys(reader(route.bucket, route.key, version_id))

    elif kind == BUCKET:
        resource = bucket_arn(route.bucket)
    else:
        resource = "*"
    authorize(access, request, action, resource, extra)
