"""Bucket configurations Strata does not let you change, answered as S3 answers a new bucket.

Tools read these routinely (the AWS CLI, Terraform, rclone, SDK integration tests), so each
GET gives exactly what S3 gives for a bucket nobody configured: a default document (default
encryption SSE-S3, Block Public Access on, ACLs disabled, requester-pays off) or the
"not configured" 404 with S3's code. Deleting a configuration the bucket does not have is
the 204 S3 sends. Setting one stays ``NotImplemented``: nothing is stored here.
"""

from __future__ import annotations

from typing import Final

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, xml_response
from strata.errors import ProtocolError

# Configurations a new bucket does not have: (S3 code, message), all 404 with BucketName.
_ABSENT: Final = {
    "policy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "lifecycle": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "website": (
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
    ),
    "object-lock": (
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket",
    ),
    "replication": (
        "ReplicationConfigurationNotFoundError",
        "The replication configuration was not found",
    ),
}

ENCRYPTION: Final = xml.document(
    "ServerSideEncryptionConfiguration",
    xml.node(
        "Rule",
        xml.el("BucketKeyEnabled", False),
        xml.node("ApplyServerSideEncryptionByDefault", xml.el("SSEAlgorithm", "AES256")),
        xml.node("BlockedEncryptionTypes", xml.el("EncryptionType", "SSE-C")),
    ),
)
PUBLIC_ACCESS_BLOCK: Final = xml.document(
    "PublicAccessBlockConfiguration",
    xml.el("BlockPublicAcls", True),
    xml.el("IgnorePublicAcls", True),
    xml.el("BlockPublicPolicy", True),
    xml.el("RestrictPublicBuckets", True),
)
OWNERSHIP_CONTROLS: Final = xml.document(
    "OwnershipControls",
    xml.node("Rule", xml.el("ObjectOwnership", "BucketOwnerEnforced")),
)
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
    "intelligent-tiering": "ListIntelligentTieringConfigurationsResult",
}


def _absent(name: str, bucket: str) -> ProtocolError:
    code, message = _ABSENT[name]
    return ProtocolError(code, message, 404, BucketName=bucket)


async def get_bucket_policy(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("policy", call.bucket)


async def get_bucket_lifecycle(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("lifecycle", call.bucket)


async def get_bucket_website(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("website", call.bucket)


async def get_object_lock_configuration(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("object-lock", call.bucket)


async def get_bucket_replication(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("replication", call.bucket)


async def delete_absent(s3: S3Context, call: Call) -> Response:
    """DeleteBucketPolicy / Lifecycle / Website / Encryption: nothing to delete, 204."""
    s3.buckets.get(call.bucket)
    return Response(status=204)


async def get_bucket_encryption(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(ENCRYPTION)


async def get_public_access_block(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(PUBLIC_ACCESS_BLOCK)


async def get_bucket_ownership_controls(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    return xml_response(OWNERSHIP_CONTROLS)


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


async def get_bucket_policy_status(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    raise _absent("policy", call.bucket)


async def list_configurations(s3: S3Context, call: Call) -> Response:
    """analytics / metrics / inventory / intelligent-tiering: none, or NoSuchConfiguration."""
    s3.buckets.get(call.bucket)
    kind = next(name for name in _LISTS if name in call.request.query)
    if call.query("id") is not None:
        raise ProtocolError(
            "NoSuchConfiguration", "The specified configuration does not exist.", 404
        )
    return xml_response(xml.document(_LISTS[kind], xml.el("IsTruncated", False)))
