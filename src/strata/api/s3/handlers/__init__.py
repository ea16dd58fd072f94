"""S3 handlers by operation name: the other half of ``routes.ROUTES``.

Each handler is ``async (S3Context, Call) -> Response``; modules group them by concern
(buckets, objects, listing, cors, acl, config; multipart goes in ``multipart.py``).
"""

from __future__ import annotations

from typing import Final

from strata.api.s3.context import Handler
from strata.api.s3.handlers import acl, buckets, config, cors, listing, multipart, objects

HANDLERS: Final[dict[str, Handler]] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "PutBucketVersioning": buckets.put_bucket_versioning,
    "GetBucketTagging": buckets.get_bucket_tagging,
    "PutBucketTagging": buckets.put_bucket_tagging,
    "DeleteBucketTagging": buckets.delete_bucket_tagging,
    "GetBucketCors": cors.get_bucket_cors,
    "PutBucketCors": cors.put_bucket_cors,
    "DeleteBucketCors": cors.delete_bucket_cors,
    "PreflightCors": cors.preflight,
    "GetBucketAcl": acl.get_bucket_acl,
    "PutBucketAcl": acl.put_bucket_acl,
    "GetObjectAcl": acl.get_object_acl,
    "PutObjectAcl": acl.put_object_acl,
    "GetBucketPolicy": config.get_bucket_policy,
    "GetBucketPolicyStatus": config.get_bucket_policy_status,
    "DeleteBucketPolicy": config.delete_absent,
    "GetBucketLifecycleConfiguration": config.get_bucket_lifecycle,
    "DeleteBucketLifecycle": config.delete_absent,
    "GetBucketWebsite": config.get_bucket_website,
    "DeleteBucketWebsite": config.delete_absent,
    "GetBucketEncryption": config.get_bucket_encryption,
    "GetPublicAccessBlock": config.get_public_access_block,
    "GetBucketOwnershipControls": config.get_bucket_ownership_controls,
    "PutBucketOwnershipControls": config.put_bucket_ownership_controls,
    "DeleteBucketOwnershipControls": config.delete_bucket_ownership_controls,
    "PutPublicAccessBlock": config.put_public_access_block,
    "DeletePublicAccessBlock": config.delete_public_access_block,
    "KeyRequired": buckets.key_required,
    "GetBucketLogging": config.get_bucket_logging,
    "GetBucketNotificationConfiguration": config.get_bucket_notification,
    "GetBucketRequestPayment": config.get_bucket_request_payment,
    "GetBucketAccelerateConfiguration": config.get_bucket_accelerate,
    "GetObjectLockConfiguration": config.get_object_lock_configuration,
    "GetBucketReplication": config.get_bucket_replication,
    "ListBucketAnalyticsConfigurations": config.list_configurations,
    "ListBucketMetricsConfigurations": config.list_configurations,
    "ListBucketInventoryConfigurations": config.list_configurations,
    "ListBucketIntelligentTieringConfigurations": config.list_configurations,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "ListObjectVersions": listing.list_object_versions,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "RestoreObject": objects.restore_object,
    "GetObjectTagging": objects.get_object_tagging,
    "PutObjectTagging": objects.put_object_tagging,
    "DeleteObjectTagging": objects.delete_object_tagging,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "GetObjectAttributes": multipart.get_object_attributes,
}
