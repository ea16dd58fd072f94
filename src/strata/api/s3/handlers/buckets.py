"""Bucket operations: create, head, delete, list, location, versioning, tagging."""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from strata.api.http import Response
from strata.api.s3 import tokens, xml
from strata.api.s3.actions import authorize, bucket_arn
from strata.api.s3.context import Call, S3Context, owner_xml, read_small_body, xml_response
from strata.api.s3.handlers.acl import OWNER_GRANT, access_service, check_create_bucket_acl
from strata.api.s3.handlers.tagging import parse_tagging, render_tagging
from strata.errors import ProtocolError
from strata.service.objects.errors import BucketAlreadyOwnedByYou
from strata.service.objects.multipart import MultipartService
from strata.service.objects.ownership import BucketAccess

_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3")
_INTEGER: Final = re.compile(r"-?[0-9]+")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_LIST_BUCKETS_PARAMETERS: Final = ("max-buckets", "continuation-token", "prefix", "bucket-region")
LIST_BUCKETS_PAGE_MAX: Final = 10000


def check_bucket_name(name: str) -> None:
    """S3's general-purpose bucket naming rules; ``InvalidBucketName`` otherwise."""
    valid = (
        _NAME.match(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )
    if valid:
        try:
            ipaddress.IPv4Address(name)
            valid = False
        except ValueError:
            pass
    if not valid:
        raise ProtocolError(
            "InvalidBucketName", "The specified bucket is not valid.", BucketName=name
        )


def _max_buckets(value: str) -> int:
    if not _INTEGER.fullmatch(value) or not -(2**31) <= int(value) < 2**31:
        raise ProtocolError(
            "InvalidArgument",
            "Provided max-buckets not an integer or within integer range",
            ArgumentName="max-buckets",
            ArgumentValue=value,
        )
    number = int(value)
    if not 1 <= number <= LIST_BUCKETS_PAGE_MAX:
        raise ProtocolError(
            "InvalidArgument",
            f"Argument max-buckets must be an integer between 1 and {LIST_BUCKETS_PAGE_MAX}.",
            ArgumentName="max-buckets",
            ArgumentValue=str(number),
        )
    return number


def _endpoint_region(s3: S3Context, call: Call) -> str:
    """The region a request was signed for (its credential scope), else the server's."""
    credential = call.query("X-Amz-Credential")
    if credential is None:
        authorization = call.header("authorization") or ""
        _, found, rest = authorization.partition("Credential=")
        credential = rest.split(",", 1)[0] if found else None
    if credential:
        scope = credential.strip().split("/")
        if len(scope) == 5 and scope[2]:
            return scope[2].lower()
    return s3.region


async def list_buckets(s3: S3Context, call: Call) -> Response:
    """ListBuckets; any of its four parameters (even empty) turns on paging and regions."""
    query = call.request.query
    paged = any(name in query for name in _LIST_BUCKETS_PARAMETERS)
    raw_max = query.get("max-buckets")
    page_max = _max_buckets(raw_max) if raw_max else LIST_BUCKETS_PAGE_MAX
    region = query.get("bucket-region")
    if region is not None:
        if not _REGION.fullmatch(region.lower()):
            raise ProtocolError(
                "InvalidArgument",
                f"Argument value {region} is not a valid AWS Region",
                ArgumentName="bucket-region",
            )
        region = region.lower()
        if region != _endpoint_region(s3, call):
            # S3 answers only for the region the request was sent (and signed) to.
            raise ProtocolError(
                "InvalidArgument",
                "Requests with bucket-region specified must be made to the corresponding "
                "regional endpoint",
                ArgumentName="bucket-region",
            )
    token = query.get("continuation-token")
    after = tokens.decode("ListBuckets", "", token) if token else ""
    prefix = query.get("prefix")
    entries: list[str] = []
    next_token: str | None = None
    last = ""
    for record in s3.buckets.list_all():
        if record.name <= after or not record.name.startswith(prefix or ""):
            continue
        if region is not None and record.region != region:
            continue
        if len(entries) == page_max:
            next_token = tokens.encode("ListBuckets", "", last)
            break
        last = record.name
        entries.append(
            xml.node(
                "Bucket",
                xml.el("Name", record.name),
                xml.el("CreationDate", xml.iso_time(record.created_ms)),
                xml.el("BucketRegion", record.region if paged else None),
                xml.el("BucketArn", f"arn:aws:s3:::{record.name}"),
            )
        )
    body = xml.document(
        "ListAllMyBucketsResult",
        owner_xml(),
        xml.node("Buckets", *entries),
        xml.el("Prefix", prefix),
        xml.el("ContinuationToken", next_token),
    )
    return xml_response(body)


async def create_bucket(s3: S3Context, call: Call) -> Response:
    check_bucket_name(call.bucket)
    ownership, grants = check_create_bucket_acl(call.request)
    endpoint = _endpoint_region(s3, call)
    region = s3.region
    constraint: str | None = None
    body = await read_small_body(call.request)
    if body.strip():
        root = xml.parse(body, "CreateBucketConfiguration")
        constraint = xml.text(root, "LocationConstraint")
        if constraint is not None:
            if constraint in ("", "us-east-1") or not re.fullmatch(r"[a-z0-9-]{1,40}", constraint):
                raise ProtocolError(
                    "InvalidLocationConstraint",
                    "The specified location-constraint is not valid",
                    LocationConstraint=constraint,
                )
            region = constraint
    if endpoint != "us-east-1" and constraint != endpoint:
        # A request signed for us-east-1 (S3's global endpoint) creates a bucket anywhere;
        # one signed for another region creates it there only, and must say so.
        raise ProtocolError(
            "IllegalLocationConstraintException",
            f"The {constraint or 'unspecified'} location constraint is incompatible for the "
            "region specific endpoint this request was sent to.",
        )
    object_lock = _object_lock_enabled(s3, call)
    try:
        await s3.buckets.create(call.bucket, region, object_lock=object_lock)
    except BucketAlreadyOwnedByYou:
        if region == "us-east-1" and s3.buckets.get(call.bucket).region == "us-east-1":
            # S3 in us-east-1 answers a repeated create of one's own bucket with 200 and
            # changes nothing (its legacy behaviour); every other region says 409.
            return Response(status=200, headers=[("location", f"/{call.bucket}")])
        raise
    # Written even when default: clears what a deleted bucket of this name may have left.
    await access_service(s3).put(
        call.bucket,
        BucketAccess(
            ownership=ownership or BucketAccess().ownership,
            grants=grants if grants and any(g != OWNER_GRANT for g in grants) else None,
        ),
    )
    if s3.lifecycle is not None and s3.lifecycle.get(call.bucket) is not None:
        await s3.lifecycle.delete(call.bucket)  # a namesake's rules, left by a crash
    return Response(status=200, headers=[("location", f"/{call.bucket}")])


def _object_lock_enabled(s3: S3Context, call: Call) -> bool:
    """``x-amz-bucket-object-lock-enabled: true``: the bucket gets Object Lock (and so
    versioning), which also takes s3:PutBucketObjectLockConfiguration and
    s3:PutBucketVersioning, as S3 requires."""
    value = call.header("x-amz-bucket-object-lock-enabled")
    if value is None or value.strip().lower() != "true":
        return False
    for action in ("s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"):
        authorize(s3.access, call.request, action, bucket_arn(call.bucket))
    return True


async def head_bucket(s3: S3Context, call: Call) -> Response:
    record = s3.buckets.get(call.bucket)
    return Response(
        status=200,
        headers=[("x-amz-bucket-region", record.region), ("x-amz-access-point-alias", "false")],
    )


async def delete_bucket(s3: S3Context, call: Call) -> Response:
    await MultipartService(s3.objects).delete_bucket(call.bucket)
    await access_service(s3).forget(call.bucket)
    if s3.lifecycle is not None:
        await s3.lifecycle.delete(call.bucket)
    if s3.tiering is not None:
        await s3.tiering.configurations.forget(call.bucket)
    return Response(status=204)


async def key_required(s3: S3Context, call: Call) -> Response:
    """``?uploadId`` at a bucket's path: S3 asks for a key, once the bucket is found."""
    s3.buckets.get(call.bucket)
    raise ProtocolError("InvalidRequest", "A key must be specified")


async def get_bucket_location(s3: S3Context, call: Call) -> Response:
    record = s3.buckets.get(call.bucket)
    region = "" if record.region == "us-east-1" else record.region
    return xml_response(xml.document("LocationConstraint", xml.escape_text(region)))


async def get_bucket_versioning(s3: S3Context, call: Call) -> Response:
    record = s3.buckets.get(call.bucket)
    status = xml.el("Status", record.versioning) if record.versioning else ""
    return xml_response(xml.document("VersioningConfiguration", status))


async def put_bucket_versioning(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    root = xml.parse(
        await read_small_body(call.request, checksum_required=True), "VersioningConfiguration"
    )
    status = xml.text(root, "Status")
    if status not in ("Enabled", "Suspended"):
        raise xml.malformed()
    await s3.buckets.put_versioning(call.bucket, status)
    return Response(status=200)


async def get_bucket_tagging(s3: S3Context, call: Call) -> Response:
    return xml_response(render_tagging(s3.buckets.get_tags(call.bucket)))


async def put_bucket_tagging(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    body = await read_small_body(call.request, checksum_required=True)
    tags = parse_tagging(body, bucket=True)
    await s3.buckets.put_tags(call.bucket, tags)
    return Response(status=204)


async def delete_bucket_tagging(s3: S3Context, call: Call) -> Response:
    await s3.buckets.delete_tags(call.bucket)
    return Response(status=204)
