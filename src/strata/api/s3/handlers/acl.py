"""ACLs as S3 has them for a bucket with Object Ownership "bucket owner enforced".

That is every new S3 bucket since April 2023, and the only mode Strata has: ACLs are
disabled, everything belongs to the bucket owner. Reading an ACL gives the owner with
FULL_CONTROL. Setting one succeeds only when it grants nothing beyond that (the canned
``private`` or ``bucket-owner-full-control``, a grant header or an XML policy naming only
the owner's FULL_CONTROL); anything else is ``AccessControlListNotSupported``, as S3
answers. The same check guards ``x-amz-acl`` / ``x-amz-grant-*`` on object writes, and
CreateBucket refuses an ACL with ``InvalidBucketAclWithObjectOwnership``.
"""

from __future__ import annotations

from typing import Final

from strata.api.http import Request, Response
from strata.api.s3 import xml
from strata.api.s3.context import OWNER_ID, Call, S3Context, owner_xml, read_small_body
from strata.errors import ProtocolError

CANNED_ACLS: Final = frozenset(
    {
        "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
        "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
    }
)  # fmt: skip
OWNER_ONLY_ACLS: Final = frozenset({"private", "bucket-owner-full-control"})
GRANT_HEADERS: Final = (
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
)
_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
OBJECT_OWNERSHIPS: Final = frozenset(
    {"BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"}
)


def not_supported() -> ProtocolError:
    return ProtocolError("AccessControlListNotSupported", "The bucket does not allow ACLs")


def render_acl() -> bytes:
    grantee = (
        f'<Grantee xmlns:xsi="{_XSI}" xsi:type="CanonicalUser">{xml.el("ID", OWNER_ID)}</Grantee>'
    )
    return xml.document(
        "AccessControlPolicy",
        owner_xml(),
        xml.node(
            "AccessControlList",
            xml.node("Grant", grantee, xml.el("Permission", "FULL_CONTROL")),
        ),
    )


def _owner_only_grant(value: str) -> bool:
    """Whether an ``x-amz-grant-full-control`` value names only the owner."""
    for grantee in value.split(","):
        kind, _, who = grantee.strip().partition("=")
        if kind.strip().lower() != "id" or who.strip().strip('"') != OWNER_ID:
            return False
    return True


def requested_acl(request: Request) -> bool:
    """Check the ACL headers of a write; True if any was sent. Raises unless owner-only."""
    canned = request.headers.get("x-amz-acl")
    grants = [(h, request.headers[h]) for h in GRANT_HEADERS if h in request.headers]
    if canned is None and not grants:
        return False
    if canned is not None and grants:
        raise ProtocolError(
            "InvalidRequest",
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )
    if canned is not None:
        if canned not in CANNED_ACLS:
            raise ProtocolError("InvalidArgument", "", ArgumentName="x-amz-acl")
        if canned not in OWNER_ONLY_ACLS:
            raise not_supported()
    for name, value in grants:
        if name != "x-amz-grant-full-control" or not _owner_only_grant(value):
            raise not_supported()
    return True


def check_create_bucket_acl(request: Request) -> None:
    """CreateBucket: the ACL headers and ``x-amz-object-ownership``."""
    ownership = request.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership not in OBJECT_OWNERSHIPS:
        raise ProtocolError(
            "InvalidArgument",
            "Invalid x-amz-object-ownership header",
            ArgumentName="x-amz-object-ownership",
            ArgumentValue=ownership,
        )
    try:
        requested_acl(request)
    except ProtocolError as exc:
        if exc.code != "AccessControlListNotSupported":
            raise
        raise ProtocolError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        )


def _malformed_acl() -> ProtocolError:
    return ProtocolError(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _check_policy(body: bytes) -> None:
    """An ``AccessControlPolicy`` body: accepted only if it grants the owner alone."""
    try:
        root = xml.parse(body, "AccessControlPolicy")
    except ProtocolError:
        raise _malformed_acl()
    acl = root.find("AccessControlList")
    if acl is None:
        raise _malformed_acl()
    grants = acl.findall("Grant")
    for grant in grants:
        grantee = grant.find("Grantee")
        permission = xml.text(grant, "Permission")
        if grantee is None or permission is None:
            raise _malformed_acl()
        if permission not in ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"):
            raise _malformed_acl()
        if xml.text(grantee, "ID") != OWNER_ID or permission != "FULL_CONTROL":
            raise not_supported()
    if not grants:
        raise not_supported()


async def _put_acl(call: Call) -> None:
    body = await read_small_body(call.request)
    sent_headers = requested_acl(call.request)
    if body.strip():
        if sent_headers:
            raise ProtocolError("UnexpectedContent", "This request does not support content")
        _check_policy(body)
    elif not sent_headers:
        raise ProtocolError("MissingSecurityHeader", "Your request was missing a required header")


async def get_bucket_acl(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return Response(status=200, headers=[("content-type", "application/xml")], body=render_acl())


async def put_bucket_acl(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await _put_acl(call)
    return Response(status=200)


def _version_id(call: Call) -> str | None:
    value = call.query("versionId")
    if value == "":
        raise ProtocolError("InvalidArgument", "Version id cannot be the empty string")
    return value


async def get_object_acl(s3: S3Context, call: Call) -> Response:
    s3.objects.get(call.bucket, call.key, _version_id(call))
    return Response(status=200, headers=[("content-type", "application/xml")], body=render_acl())


async def put_object_acl(s3: S3Context, call: Call) -> Response:
    s3.objects.get(call.bucket, call.key, _version_id(call), "PUT")
    await _put_acl(call)
    return Response(status=200)
