"""Bucket configurations, most answered as S3 answers a new bucket nobody configured.

Tools read these routinely (the AWS CLI, Terraform, rclone, SDK integration tests), so each
GET gives exactly what S3 gives for a bucket nobody configured: a default document (Block
Public Access on, ACLs disabled, requester-pays off) or the
"not configured" 404 with S3's code. Deleting a configuration the bucket does not have is
the 204 S3 sends. Setting one stays ``NotImplemented``, except Object Ownership and Block
Public Access, which are kept in the bucket's access record (``service/objects/ownership.py``)
because ACL checks follow them.
"""

from __future__ import annotations

from typing import Final

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, Handler, S3Context, read_small_body, xml_response
from strata.api.s3.handlers.acl import OWNER_GRANT, access_service
from strata.errors import ProtocolError
from strata.service.objects.ownership import (
    BUCKET_OWNER_ENFORCED,
    OBJECT_OWNERSHIPS,
    PUBLIC_ACCESS_BLOCK_FIELDS,
)

# Configurations a new bucket does not have: (S3 code, message), all 404 with BucketName.
_ABSENT: Final = {
    "website": (
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
    ),
    "replication": (
        "ReplicationConfigurationNotFoundError",
        "The replication configuration was not found",
    ),
}

REQUEST_PAYMENT: Final = xml.document("RequestPaymentConfiguration", xml.el("Payer", "BucketOwner"))
_EMPTY: Final = {
    "logging": "BucketLoggingStatus",
    "notification": "NotificationConfiguration",
    "accelerate": "AccelerateConfiguration",
}
# Per-id configurations listed empty: (list root element).
_LISTS: Final = {
    "analytics": "ListBucketAnalyticsConfigurationsResult",
    "metrics": "ListMetricsConfigurationsResult",
    "inventory": "ListInventoryConfigurationsResult",
}


def _absent(name: str, bucket: str) -> ProtocolError:
    code, message = _ABSENT[name]
    return ProtocolError(code, message, 404, BucketName=bucket)


def _absent_handler(name: str) -> Handler:
    """A GET for a configuration a bucket never has: its 404, once the bucket is found."""

    async def handler(s3: S3Context, call: Call) -> Response:
        s3.buckets.get(call.bucket)
        raise _absent(name, call.bucket)

    return handler


get_bucket_website = _absent_handler("website")
get_bucket_replication = _absent_handler("replication")


async def delete_absent(s3: S3Context, call: Call) -> Response:
    """DeleteBucketPolicy / Website: nothing to delete, 204."""
    s3.buckets.get(call.bucket)
    return Response(status=204)


async def get_public_access_block(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    settings = access_service(s3).get(call.bucket).public_access_block
    if settings is None:
        raise ProtocolError(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
            404,
            BucketName=call.bucket,
        )
    fields = [
        xml.el(name, value)
        for name, value in zip(PUBLIC_ACCESS_BLOCK_FIELDS, settings, strict=True)
    ]
    return xml_response(xml.document("PublicAccessBlockConfiguration", *fields))


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    if value.strip().lower() not in ("true", "false"):
        raise xml.malformed()
    return value.strip().lower() == "true"


async def put_public_access_block(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    body = await read_small_body(call.request, checksum_required=True)
    root = xml.parse(body, "PublicAccessBlockConfiguration")
    flags = tuple(_flag(xml.text(root, name)) for name in PUBLIC_ACCESS_BLOCK_FIELDS)
    assert len(flags) == 4
    await access_service(s3).update(call.bucket, public_access_block=flags)
    return Response(status=200)


async def delete_public_access_block(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await access_service(s3).update(call.bucket, public_access_block=None)
    return Response(status=204)


async def get_bucket_ownership_controls(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    ownership = access_service(s3).get(call.bucket).ownership
    if ownership is None:
        raise ProtocolError(
            "OwnershipControlsNotFoundError",
            "The bucket ownership controls were not found",
            404,
            BucketName=call.bucket,
        )
    rule = xml.node("Rule", xml.el("ObjectOwnership", ownership))
    return xml_response(xml.document("OwnershipControls", rule))


async def put_bucket_ownership_controls(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    body = await read_small_body(call.request, checksum_required=True)
    root = xml.parse(body, "OwnershipControls")
    rules = root.findall("Rule")
    if len(rules) != 1:
        raise xml.malformed()
    ownership = xml.text(rules[0], "ObjectOwnership")
    if ownership not in OBJECT_OWNERSHIPS:
        raise xml.malformed()
    service = access_service(s3)
    grants = service.get(call.bucket).grants
    # No await between this check and the write.
    if ownership == BUCKET_OWNER_ENFORCED and grants and any(g != OWNER_GRANT for g in grants):
        raise ProtocolError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        )
    await service.update(call.bucket, ownership=ownership)
    return Response(status=200)


async def delete_bucket_ownership_controls(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await access_service(s3).update(call.bucket, ownership=None)
    return Response(status=204)


async def get_bucket_request_payment(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(REQUEST_PAYMENT)


async def get_bucket_logging(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(xml.document(_EMPTY["logging"]))


async def get_bucket_notification(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(xml.document(_EMPTY["notification"]))


async def get_bucket_accelerate(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(xml.document(_EMPTY["accelerate"]))


async def list_configurations(s3: S3Context, call: Call) -> Response:
    """analytics / metrics / inventory: none, or NoSuchConfiguration."""
    s3.buckets.get(call.bucket)
    kind = next(name for name in _LISTS if name in call.request.query)
    if call.query("id") is not None:
        raise ProtocolError(
            "NoSuchConfiguration", "The specified configuration does not exist.", 404
        )
    return xml_response(xml.document(_LISTS[kind], xml.el("IsTruncated", False)))
