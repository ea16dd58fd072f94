"""ACLs, following the bucket's Object Ownership as S3 does.

``BucketOwnerEnforced`` (every new S3 bucket since April 2023, and Strata's default):
ACLs are disabled, everything belongs to the bucket owner. Reading an ACL gives the owner
with FULL_CONTROL; setting one succeeds only when it grants nothing beyond that (the canned
``private`` or ``bucket-owner-full-control``, a grant header or an XML policy naming only
the owner's FULL_CONTROL); anything else is ``AccessControlListNotSupported``. The same
check guards ``x-amz-acl`` / ``x-amz-grant-*`` on object writes, and CreateBucket refuses
an ACL with ``InvalidBucketAclWithObjectOwnership`` unless it also asks for ``ObjectWriter``
or ``BucketOwnerPreferred``.

``ObjectWriter`` / ``BucketOwnerPreferred`` (or no ownership controls at all): ACLs are
enabled. Canned ACLs, grant headers and ``AccessControlPolicy`` bodies are parsed into
grants and kept (``service/objects/ownership.py``): the bucket's in its access record, an
object version's in its record (written in the same batch as the version; an upload keeps
its grants for the object it completes); GetBucketAcl / GetObjectAcl read them. A public
grant (AllUsers, AuthenticatedUsers) is ``AccessDenied`` while Block Public Access's
``BlockPublicAcls`` is on, as it is on a new bucket.
"""

from __future__ import annotations

from typing import Final
from xml.etree.ElementTree import Element

import msgspec

from strata.api.http import Request, Response
from strata.api.s3 import xml
from strata.api.s3.context import OWNER_ID, Call, S3Context, owner_xml, read_small_body
from strata.errors import ProtocolError
from strata.service.objects.ownership import (
    OBJECT_OWNERSHIPS,
    BucketAccess,
    BucketAccessService,
)
from strata.service.objects.records import Grant
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

CANNED_ACLS: Final = frozenset(
    {
        "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
        "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
    }
)  # fmt: skip
OWNER_ONLY_ACLS: Final = frozenset({"private", "bucket-owner-full-control"})
GRANT_HEADERS: Final = {
    "x-amz-grant-full-control": "FULL_CONTROL",
    "x-amz-grant-read": "READ",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-write-acp": "WRITE_ACP",
}
PERMISSIONS: Final = frozenset(GRANT_HEADERS.values())
_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_GROUPS: Final = "http://acs.amazonaws.com/groups/"
ALL_USERS: Final = _GROUPS + "global/AllUsers"
AUTHENTICATED_USERS: Final = _GROUPS + "global/AuthenticatedUsers"
LOG_DELIVERY: Final = _GROUPS + "s3/LogDelivery"
PUBLIC_GROUPS: Final = frozenset({ALL_USERS, AUTHENTICATED_USERS})
CANONICAL: Final = "CanonicalUser"
GROUP: Final = "Group"
EMAIL: Final = "AmazonCustomerByEmail"
OWNER_GRANT: Final = Grant(CANONICAL, OWNER_ID, "FULL_CONTROL")
_CANNED_EXTRA: Final[dict[str, list[Grant]]] = {
    "public-read": [Grant(GROUP, ALL_USERS, "READ")],
    "public-read-write": [Grant(GROUP, ALL_USERS, "READ"), Grant(GROUP, ALL_USERS, "WRITE")],
    "authenticated-read": [Grant(GROUP, AUTHENTICATED_USERS, "READ")],
    "log-delivery-write": [
        Grant(GROUP, LOG_DELIVERY, "WRITE"),
        Grant(GROUP, LOG_DELIVERY, "READ_ACP"),
    ],
}
_OBJECT_ACL_PREFIX: Final = keys.pack("s3.object-acl")


def access_service(s3: S3Context) -> BucketAccessService:
    return BucketAccessService(s3.buckets.store)


def not_supported() -> ProtocolError:
    return ProtocolError("AccessControlListNotSupported", "The bucket does not allow ACLs")


def public_acl_denied() -> ProtocolError:
    return ProtocolError("AccessDenied", "Access Denied", 403)


def render_acl(grants: list[Grant] | None = None) -> bytes:
    rendered = []
    for grant in grants if grants is not None else [OWNER_GRANT]:
        tag = {CANONICAL: "ID", GROUP: "URI", EMAIL: "EmailAddress"}[grant.kind]
        grantee = (
            f'<Grantee xmlns:xsi="{_XSI}" xsi:type="{grant.kind}">'
            f"{xml.el(tag, grant.grantee)}</Grantee>"
        )
        rendered.append(xml.node("Grant", grantee, xml.el("Permission", grant.permission)))
    return xml.document(
        "AccessControlPolicy", owner_xml(), xml.node("AccessControlList", *rendered)
    )


def _owner_only(grants: list[Grant]) -> bool:
    return all(g == OWNER_GRANT for g in grants)


def _header_grantee(value: str) -> Grant:
    """One ``id=``, ``uri=`` or ``emailAddress=`` of a grant header (permission unset)."""
    kind, _, who = value.strip().partition("=")
    kind = kind.strip().lower()
    who = who.strip().strip('"')
    if kind == "id":
        return Grant(CANONICAL, who, "")
    if kind == "uri":
        return Grant(GROUP, who, "")
    if kind == "emailaddress":
        return Grant(EMAIL, who, "")
    raise ProtocolError(
        "InvalidArgument",
        "Argument format not recognized",
        ArgumentName=value.split("=", 1)[0].strip(),
        ArgumentValue=value.strip(),
    )


def _check_grantee(grant: Grant) -> None:
    """Whether the grantee exists: the owner, a known group (one account, no e-mail)."""
    if grant.kind == CANONICAL and grant.grantee != OWNER_ID:
        raise ProtocolError(
            "InvalidArgument",
            "Invalid id",
            ArgumentName="CanonicalUser/ID",
            ArgumentValue=grant.grantee,
        )
    if grant.kind == GROUP and not grant.grantee.startswith(_GROUPS):
        raise ProtocolError(
            "InvalidArgument",
            "Invalid group uri",
            ArgumentName="Group/URI",
            ArgumentValue=grant.grantee,
        )
    if grant.kind == EMAIL:
        raise ProtocolError(
            "UnresolvableGrantByEmailAddress",
            "The e-mail address you provided does not match any account on record.",
            EmailAddress=grant.grantee,
        )


def header_grants(request: Request) -> list[Grant] | None:
    """The grants the ACL headers of a write ask for; None if none was sent."""
    canned = request.headers.get("x-amz-acl")
    sent = [(h, request.headers[h]) for h in GRANT_HEADERS if h in request.headers]
    if canned is None and not sent:
        return None
    if canned is not None and sent:
        raise ProtocolError(
            "InvalidRequest",
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )
    if canned is not None:
        if canned not in CANNED_ACLS:
            # S3 leaves the message empty here (measured).
            raise ProtocolError(
                "InvalidArgument", "", ArgumentName="x-amz-acl", ArgumentValue=canned
            )
        return [OWNER_GRANT, *_CANNED_EXTRA.get(canned, [])]
    grants: list[Grant] = []
    for name, value in sent:
        for grantee in value.split(","):
            if grantee.strip():
                found = _header_grantee(grantee)
                grants.append(Grant(found.kind, found.grantee, GRANT_HEADERS[name]))
    return grants


def _check_grants(grants: list[Grant], access: BucketAccess) -> None:
    """Raise unless ``access`` lets ``grants`` be set."""
    if not access.acls_enabled:
        if not _owner_only(grants):
            raise not_supported()
        return
    for grant in grants:
        _check_grantee(grant)
    if access.blocks_public_acls and any(
        g.kind == GROUP and g.grantee in PUBLIC_GROUPS for g in grants
    ):
        raise public_acl_denied()


def object_acl(s3: S3Context, request: Request, bucket: str) -> list[Grant]:
    """The grants an object write's ACL headers ask to keep (empty: the owner alone).

    Checked against the bucket's ownership: with ACLs disabled only owner-only ACLs pass;
    with them enabled the grantees must exist and Block Public Access may refuse a public
    grant. The grants go into the version's record, in the batch that writes it.
    """
    grants = header_grants(request)
    if grants is None:
        return []
    access = access_service(s3).get(bucket)
    _check_grants(grants, access)
    if not access.acls_enabled or _owner_only(grants):
        return []
    return grants


def check_create_bucket_acl(request: Request) -> tuple[str | None, list[Grant] | None]:
    """CreateBucket: ``x-amz-object-ownership`` and the ACL headers, as (ownership, grants)."""
    ownership = request.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership not in OBJECT_OWNERSHIPS:
        raise ProtocolError(
            "InvalidArgument",
            "Invalid x-amz-object-ownership header",
            ArgumentName="x-amz-object-ownership",
            ArgumentValue=ownership,
        )
    grants = header_grants(request)
    access = BucketAccess(ownership=ownership or BucketAccess().ownership)
    if grants is not None and not access.acls_enabled and not _owner_only(grants):
        raise ProtocolError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        )
    if grants is not None:
        _check_grants(grants, access)
    return ownership, grants


def _malformed_acl() -> ProtocolError:
    return ProtocolError(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _grantee_type(grantee: Element) -> str | None:
    for name, value in grantee.attrib.items():
        if name == "type" or name.endswith("}type"):
            return value
    return None


def _policy_grants(body: bytes) -> list[Grant]:
    """The grants of an ``AccessControlPolicy`` body."""
    try:
        root = xml.parse(body, "AccessControlPolicy")
    except ProtocolError:
        raise _malformed_acl()
    acl = root.find("AccessControlList")
    if acl is None:
        raise _malformed_acl()
    grants: list[Grant] = []
    for entry in acl.findall("Grant"):
        grantee = entry.find("Grantee")
        permission = xml.text(entry, "Permission")
        if grantee is None or permission not in PERMISSIONS:
            raise _malformed_acl()
        assert permission is not None
        kind = _grantee_type(grantee)
        if kind == CANONICAL or (kind is None and grantee.find("ID") is not None):
            grants.append(Grant(CANONICAL, (xml.text(grantee, "ID") or "").strip(), permission))
        elif kind == GROUP:
            grants.append(Grant(GROUP, (xml.text(grantee, "URI") or "").strip(), permission))
        elif kind == EMAIL:
            address = (xml.text(grantee, "EmailAddress") or "").strip()
            grants.append(Grant(EMAIL, address, permission))
        else:
            raise _malformed_acl()
    return grants


async def _requested_grants(call: Call) -> list[Grant]:
    body = await read_small_body(call.request)
    from_headers = header_grants(call.request)
    if body.strip():
        if from_headers is not None:
            raise ProtocolError("UnexpectedContent", "This request does not support content")
        return _policy_grants(body)
    if from_headers is None:
        raise ProtocolError("MissingSecurityHeader", "Your request was missing a required header")
    return from_headers


def _acl_response(grants: list[Grant] | None) -> Response:
    return Response(
        status=200, headers=[("content-type", "application/xml")], body=render_acl(grants)
    )


async def get_bucket_acl(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return _acl_response(access_service(s3).get(call.bucket).grants)


async def put_bucket_acl(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    grants = await _requested_grants(call)
    service = access_service(s3)
    # No await between this check and the write: ownership cannot change in between.
    _check_grants(grants, service.get(call.bucket))
    await service.update(call.bucket, grants=None if _owner_only(grants) else grants)
    return Response(status=200)


def _version_id(call: Call) -> str | None:
    value = call.query("versionId")
    if value == "":
        raise ProtocolError("InvalidArgument", "Version id cannot be the empty string")
    return value


def _legacy_acl_key(bucket: str, key: str, stamp: int) -> bytes:
    """Where grants were kept before versions carried them (read, then cleared)."""
    return _OBJECT_ACL_PREFIX + keys.pack(bucket, key, stamp)


class _StoredGrants(msgspec.Struct, frozen=True):
    grants: list[Grant]


async def get_object_acl(s3: S3Context, call: Call) -> Response:
    _, version = s3.objects.get(call.bucket, call.key, _version_id(call))
    grants: list[Grant] | None = None
    if access_service(s3).get(call.bucket).acls_enabled:
        if version.acl:
            grants = version.acl
        else:
            raw = s3.buckets.store.get(
                spaces.META, _legacy_acl_key(call.bucket, call.key, version.stamp)
            )
            if raw is not None:
                grants = records.decode(raw, _StoredGrants).grants
    return _acl_response(grants)


async def put_object_acl(s3: S3Context, call: Call) -> Response:
    _, version = s3.objects.get(call.bucket, call.key, _version_id(call), "PUT")
    grants = await _requested_grants(call)
    # No await from this check to the commit: ownership cannot change in between.
    _check_grants(grants, access_service(s3).get(call.bucket))
    batch = WriteBatch()
    batch.delete(spaces.META, _legacy_acl_key(call.bucket, call.key, version.stamp))
    kept = [] if _owner_only(grants) else grants
    await s3.objects.put_acl(call.bucket, call.key, version.version_id, kept, batch)
    return Response(status=200)
