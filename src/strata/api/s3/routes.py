"""Request -> (operation, bucket, key): addressing, then one table of rules.

Addressing: virtual-hosted style when the Host is ``<bucket>.localhost``,
``<bucket>.s3.localhost`` or ``<bucket>.s3.<region>.localhost`` (any port); otherwise
path style, ``/<bucket>/<key>``. The key is the rest of the path, percent-decoded, kept
exactly (leading slashes, ``..`` and ``//`` are key bytes, never file paths).

Rules are tried in order. A rule matches when the method and target kind agree, its
``subresource`` query parameter (if any) is present, and its ``header`` (if any) is
present. A rule without a subresource matches only when the query names no S3
subresource at all, so ``GET /bucket/key?torrent`` is not a GetObject. When no rule
matches, an operation S3 has (``operations.S3_OPERATIONS``, from botocore's model) is
501 ``NotImplemented``; anything else is S3's 405 ``MethodNotAllowed`` (``PUT
/bucket?delete``, ``POST /bucket/key``), naming the method and the resource type.
To add an operation: append a ``Rule`` (more specific rules first) and register a
handler under the operation's name in ``handlers/__init__.py``.

Before the table, the refusals S3 gives whatever the bucket or key (measured against
AWS): two selectors at once are ``InvalidArgument`` "Conflicting query string parameters:
a, b" (sorted, ``ResourceType`` naming the first); a HEAD naming a selector is 405 with an
``Allow`` of the methods that selector takes. At a key's path, a GET naming one of the
bucket's configurations (``?versioning``, ``?cors``, ...) is the bucket's own operation,
``?logging`` and ``?versions`` are refused, and the bucket's other selectors are ignored
(the object is answered). At a bucket's path, ``?uploadId`` is "A key must be specified"
once the bucket is found (operation ``KeyRequired``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

from strata.api.http import Request
from strata.api.s3.operations import S3_OPERATIONS
from strata.errors import ProtocolError

SERVICE: Final = "service"
BUCKET: Final = "bucket"
OBJECT: Final = "object"
ANY: Final = "*"  # a Rule's subresource that matches whatever the query names (preflights)


@dataclass(frozen=True, slots=True)
class Rule:
    method: str
    target: str  # SERVICE, BUCKET or OBJECT
    subresource: str | None  # query parameter that selects the operation (or ANY)
    operation: str
    header: str | None = None  # a request header that selects the operation
    param: str | None = None  # a query parameter that must be present as well


ROUTES: Final[tuple[Rule, ...]] = (
    Rule("GET", SERVICE, None, "ListBuckets"),
    # Buckets and their configuration.
    Rule("GET", BUCKET, "location", "GetBucketLocation"),
    Rule("GET", BUCKET, "versioning", "GetBucketVersioning"),
    Rule("PUT", BUCKET, "versioning", "PutBucketVersioning"),
    Rule("GET", BUCKET, "tagging", "GetBucketTagging"),
    Rule("PUT", BUCKET, "tagging", "PutBucketTagging"),
    Rule("DELETE", BUCKET, "tagging", "DeleteBucketTagging"),
    Rule("GET", BUCKET, "cors", "GetBucketCors"),
    Rule("PUT", BUCKET, "cors", "PutBucketCors"),
    Rule("DELETE", BUCKET, "cors", "DeleteBucketCors"),
    Rule("GET", BUCKET, "versions", "ListObjectVersions"),
    Rule("GET", BUCKET, "list-type", "ListObjectsV2"),
    Rule("POST", BUCKET, "delete", "DeleteObjects"),
    Rule("POST", BUCKET, None, "PostObject"),  # browser form upload (form.py)
    Rule("GET", BUCKET, None, "ListObjects"),
    Rule("PUT", BUCKET, None, "CreateBucket"),
    Rule("HEAD", BUCKET, None, "HeadBucket"),
    Rule("DELETE", BUCKET, None, "DeleteBucket"),
    Rule("OPTIONS", BUCKET, ANY, "PreflightCors"),
    # ACLs (owner-only, as with "bucket owner enforced") and configurations held at
    # their defaults (handlers/config.py).
    Rule("GET", BUCKET, "acl", "GetBucketAcl"),
    Rule("PUT", BUCKET, "acl", "PutBucketAcl"),
    Rule("GET", OBJECT, "acl", "GetObjectAcl"),
    Rule("PUT", OBJECT, "acl", "PutObjectAcl"),
    Rule("GET", BUCKET, "policyStatus", "GetBucketPolicyStatus"),
    Rule("GET", BUCKET, "policy", "GetBucketPolicy"),
    Rule("DELETE", BUCKET, "policy", "DeleteBucketPolicy"),
    Rule("PUT", BUCKET, "policy", "PutBucketPolicy"),
    Rule("GET", BUCKET, "lifecycle", "GetBucketLifecycleConfiguration"),
    Rule("DELETE", BUCKET, "lifecycle", "DeleteBucketLifecycle"),
    Rule("PUT", BUCKET, "lifecycle", "PutBucketLifecycleConfiguration"),
    Rule("GET", BUCKET, "website", "GetBucketWebsite"),
    Rule("DELETE", BUCKET, "website", "DeleteBucketWebsite"),
    Rule("GET", BUCKET, "encryption", "GetBucketEncryption"),
    Rule("PUT", BUCKET, "encryption", "PutBucketEncryption"),
    Rule("DELETE", BUCKET, "encryption", "DeleteBucketEncryption"),
    Rule("GET", BUCKET, "publicAccessBlock", "GetPublicAccessBlock"),
    Rule("GET", BUCKET, "ownershipControls", "GetBucketOwnershipControls"),
    Rule("GET", BUCKET, "logging", "GetBucketLogging"),
    Rule("GET", BUCKET, "notification", "GetBucketNotificationConfiguration"),
    Rule("GET", BUCKET, "requestPayment", "GetBucketRequestPayment"),
    Rule("GET", BUCKET, "accelerate", "GetBucketAccelerateConfiguration"),
    Rule("GET", BUCKET, "object-lock", "GetObjectLockConfiguration"),
    Rule("PUT", BUCKET, "object-lock", "PutObjectLockConfiguration"),
    Rule("GET", BUCKET, "replication", "GetBucketReplication"),
    Rule("GET", BUCKET, "analytics", "ListBucketAnalyticsConfigurations"),
    Rule("GET", BUCKET, "metrics", "ListBucketMetricsConfigurations"),
    Rule("GET", BUCKET, "inventory", "ListBucketInventoryConfigurations"),
    Rule(
        "GET",
        BUCKET,
        "intelligent-tiering",
        "GetBucketIntelligentTieringConfiguration",
        param="id",
    ),
    Rule("GET", BUCKET, "intelligent-tiering", "ListBucketIntelligentTieringConfigurations"),
    Rule("PUT", BUCKET, "intelligent-tiering", "PutBucketIntelligentTieringConfiguration"),
    Rule("DELETE", BUCKET, "intelligent-tiering", "DeleteBucketIntelligentTieringConfiguration"),
    # Objects.
    Rule("GET", OBJECT, "tagging", "GetObjectTagging"),
    Rule("PUT", OBJECT, "tagging", "PutObjectTagging"),
    Rule("DELETE", OBJECT, "tagging", "DeleteObjectTagging"),
    Rule("GET", OBJECT, "retention", "GetObjectRetention"),
    Rule("PUT", OBJECT, "retention", "PutObjectRetention"),
    Rule("GET", OBJECT, "legal-hold", "GetObjectLegalHold"),
    Rule("PUT", OBJECT, "legal-hold", "PutObjectLegalHold"),
    Rule("PUT", OBJECT, None, "CopyObject", header="x-amz-copy-source"),
    Rule("PUT", OBJECT, None, "PutObject"),
    Rule("GET", OBJECT, None, "GetObject"),
    Rule("HEAD", OBJECT, None, "HeadObject"),
    Rule("DELETE", OBJECT, None, "DeleteObject"),
    Rule("OPTIONS", OBJECT, ANY, "PreflightCors"),
    # Multipart uploads and object attributes.
    Rule("GET", BUCKET, "uploads", "ListMultipartUploads"),
    Rule("POST", OBJECT, "uploads", "CreateMultipartUpload"),
    Rule("PUT", OBJECT, "uploadId", "UploadPartCopy", header="x-amz-copy-source"),
    Rule("PUT", OBJECT, "uploadId", "UploadPart"),
    Rule("POST", OBJECT, "uploadId", "CompleteMultipartUpload"),
    Rule("DELETE", OBJECT, "uploadId", "AbortMultipartUpload"),
    Rule("GET", OBJECT, "uploadId", "ListParts"),
    Rule("GET", OBJECT, "attributes", "GetObjectAttributes"),
    Rule("POST", OBJECT, "restore", "RestoreObject"),
    Rule("PUT", BUCKET, "ownershipControls", "PutBucketOwnershipControls"),
    Rule("DELETE", BUCKET, "ownershipControls", "DeleteBucketOwnershipControls"),
    Rule("PUT", BUCKET, "publicAccessBlock", "PutPublicAccessBlock"),
    Rule("DELETE", BUCKET, "publicAccessBlock", "DeletePublicAccessBlock"),
    Rule("GET", BUCKET, "uploadId", "KeyRequired"),
    Rule("POST", BUCKET, "uploadId", "KeyRequired"),
    Rule("PUT", BUCKET, "uploadId", "KeyRequired"),
    Rule("DELETE", BUCKET, "uploadId", "KeyRequired"),
)

# Query parameters that name an S3 subresource (routed or not yet implemented).
SUBRESOURCES: Final = frozenset(
    {r.subresource for r in ROUTES if r.subresource not in (None, ANY)}
    | {sub for _, _, sub in S3_OPERATIONS if sub is not None}
    | {
        "accelerate", "acl", "analytics", "attributes", "encryption", "intelligent-tiering",
        "inventory", "legal-hold", "lifecycle", "logging", "metrics", "notification",
        "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
        "replication", "requestPayment", "restore", "retention", "select", "torrent",
        "uploadId", "uploads", "website", "session", "metadataTable", "renameObject",
    }
)  # fmt: skip


# Parameters that are in SUBRESOURCES for routing but never conflict with a selector.
_NOT_SELECTORS: Final = frozenset({"list-type"})
SELECTORS: Final = SUBRESOURCES - _NOT_SELECTORS

# The bucket's configurations a GET at a key's path answers as the bucket's operation.
_BUCKET_GETS_AT_KEY: Final = frozenset(
    {
        "accelerate", "cors", "inventory", "lifecycle", "location", "notification", "policy",
        "replication", "requestPayment", "versioning", "website",
    }
)  # fmt: skip
_KEY_REFUSALS: Final = {
    "logging": (
        "NoLoggingStatusForKey",
        "There is no such thing as the ?logging sub-resource for a key",
    ),
    "versions": (
        "InvalidRequest",
        "There is no such thing as the ?versions sub-resource for a key",
    ),
}
# Selectors a GET at a key's path ignores (the bucket's own, with no meaning for a key).
_IGNORED_AT_KEY: Final = frozenset(
    {
        "analytics", "encryption", "intelligent-tiering", "metrics", "object-lock",
        "ownershipControls", "policyStatus", "publicAccessBlock", "uploads", "metadataTable",
    }
)  # fmt: skip
# The Allow header S3 sends with the 405 for a HEAD naming a selector, where it differs
# from the methods of the table's rules (measured).
_ALLOW: Final = {(BUCKET, "uploads"): "POST, GET", (OBJECT, "uploadId"): "DELETE, POST, GET"}


class MethodNotAllowedHere(ProtocolError):
    """405 for a method the resource does not take; ``allow`` names the ones it does."""

    def __init__(self, method: str, resource_type: str, allow: str) -> None:
        super().__init__(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            405,
            Method=method,
            ResourceType=resource_type,
        )
        self.allow = allow


def _allow(target: str, selector: str) -> str:
    known = _ALLOW.get((target, selector))
    if known is not None:
        return known
    methods = sorted({r.method for r in ROUTES if r.target == target and r.subresource == selector})
    return ", ".join(m for m in methods if m != "OPTIONS")


def conflicting(selected: list[str]) -> ProtocolError:
    return ProtocolError(
        "InvalidArgument",
        "Conflicting query string parameters: " + ", ".join(selected),
        ArgumentName="ResourceType",
        ArgumentValue=selected[0],
    )


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    bucket: str  # "" for service-level operations
    key: str  # "" unless the target is an object


def _decode(raw: str) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("InvalidURI", "Couldn't parse the specified URI.")


def virtual_host_bucket(host: str) -> str | None:
    """The bucket named by a virtual-hosted-style Host header, if it names one."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    suffix = ".localhost"
    if not name.endswith(suffix):
        return None
    labels = name[: -len(suffix)].split(".")
    if labels and labels[-1] == "s3":
        labels = labels[:-1]
    elif len(labels) >= 2 and labels[-2] == "s3":
        labels = labels[:-2]
    bucket = ".".join(labels)
    return bucket or None


def split_target(request: Request) -> tuple[str, str]:
    """(bucket, key) from the Host header and the path."""
    path = request.raw_path or "/"
    bucket = virtual_host_bucket(request.headers.get("host", ""))
    if bucket is not None:
        return bucket, _decode(path[1:]) if path.startswith("/") else _decode(path)
    rest = path[1:] if path.startswith("/") else path
    raw_bucket, slash, raw_key = rest.partition("/")
    return _decode(raw_bucket), _decode(raw_key) if slash else ""


def resolve(request: Request) -> Route:
    bucket, key = split_target(request)
    target = SERVICE if not bucket else OBJECT if key else BUCKET
    selected = sorted(SELECTORS.intersection(request.query))
    if len(selected) > 1:
        raise conflicting(selected)
    if selected and target != SERVICE:
        if request.method == "HEAD":
            raise MethodNotAllowedHere("HEAD", selected[0].upper(), _allow(target, selected[0]))
        if target == OBJECT and request.method == "GET":
            selector = selected[0]
            if selector in _BUCKET_GETS_AT_KEY:
                return _resolve_at(request, BUCKET, selector, bucket, "")
            if selector in _KEY_REFUSALS:
                code, message = _KEY_REFUSALS[selector]
                raise ProtocolError(code, message)
            if selector in _IGNORED_AT_KEY:
                return Route("GetObject", bucket, key)
    present = SUBRESOURCES.intersection(request.query)
    return _resolve_at(request, target, None, bucket, key, present)


def _resolve_at(
    request: Request,
    target: str,
    selector: str | None,
    bucket: str,
    key: str,
    present: set[str] | frozenset[str] = frozenset(),
) -> Route:
    if selector is not None:
        present = {selector}
    for rule in ROUTES:
        if rule.method != request.method or rule.target != target:
            continue
        if rule.subresource is None:
            if present:
                continue
        elif rule.subresource not in present and rule.subresource != ANY:
            continue
        if rule.header is not None and rule.header not in request.headers:
            continue
        if rule.param is not None and rule.param not in request.query:
            continue
        return Route(rule.operation, bucket, key)
    named = sorted(SELECTORS.intersection(present)) or sorted(present)
    subresource = named[0] if named else None
    if (request.method, target, subresource) in S3_OPERATIONS:  # S3 has it; Strata not yet
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )
    raise MethodNotAllowedHere(
        request.method,
        (subresource or target).upper(),
        ", ".join(sorted(_methods(target, subresource))),
    )


def _methods(target: str, subresource: str | None) -> set[str]:
    """The methods S3 takes at a target with a subresource (built or not)."""
    known = {m for m, t, sub in S3_OPERATIONS if t == target and sub == subresource}
    built = {r.method for r in ROUTES if r.target == target and r.subresource == subresource}
    return (known | built) - {"OPTIONS"}
