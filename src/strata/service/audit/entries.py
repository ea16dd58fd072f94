"""One API call as the audit trail keeps it, and as CloudTrail shows it.

The auth edge builds an ``Entry`` per request from what it already has (principal,
operation, resource, status), which costs a struct, not a JSON document; the CloudTrail
shape (``cloudtrail_event``) is made only when someone reads the trail. An entry holds no
secret (no signature, no secret key, no session token) and no object or item contents:
only names (bucket, key, table) and the caller's identity.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec

EVENT_VERSION: Final = "1.09"

# protocol name at the edge -> CloudTrail's eventSource
EVENT_SOURCES: Final = {
    "s3": "s3.amazonaws.com",
    "dynamodb": "dynamodb.amazonaws.com",
    "streams": "dynamodb.amazonaws.com",  # Streams calls are logged under DynamoDB
    "iam": "iam.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
    "kms": "kms.amazonaws.com",
}

# S3 calls on objects (CloudTrail data events); every other S3 call is a management event.
_S3_DATA: Final = frozenset(
    {
        "GetObject", "HeadObject", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
        "PostObject", "RestoreObject", "GetObjectAttributes", "GetObjectTagging",
        "PutObjectTagging", "DeleteObjectTagging", "GetObjectAcl", "PutObjectAcl",
        "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListParts", "ListMultipartUploads", "ListObjects",
        "ListObjectsV2", "ListObjectVersions", "GetObjectRetention", "PutObjectRetention",
        "GetObjectLegalHold", "PutObjectLegalHold", "SelectObjectContent",
    }
)  # fmt: skip
# DynamoDB calls on items and streams (data events).
_DYNAMODB_DATA: Final = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem",
        "Query", "Scan", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
        "BatchExecuteStatement", "ExecuteTransaction", "GetRecords", "GetShardIterator",
        "DescribeStream", "ListStreams",
    }
)  # fmt: skip
# KMS calls CloudTrail marks readOnly: the cryptographic ones change no key.
_KMS_READ: Final = frozenset(
    {
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "GenerateRandom", "DescribeKey", "ListKeys", "ListAliases", "GetKeyPolicy",
        "GetKeyRotationStatus", "ListKeyRotations", "ListResourceTags",
    }
)  # fmt: skip
_READ_PREFIXES: Final = ("Get", "Head", "List", "Describe", "Query", "Scan", "BatchGet",
                         "TransactGet", "Lookup", "Select")  # fmt: skip


class Entry(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """What the trail stores per call (msgpack, a few hundred bytes). Strings and numbers
    only: not tracked by the GC (``gc=False``), so reading many costs no GC passes."""

    time_ms: int  # store clock
    request_id: str
    source: str  # the edge's protocol name: s3, dynamodb, streams, iam, sts, cloudtrail
    operation: str
    principal_arn: str  # "*" when anonymous
    principal_id: str
    account_id: str
    access_key: str | None
    user_name: str | None
    client_ip: str
    user_agent: str
    resource: str  # bucket/key or table, as the access log names it ("" for none)
    host: str
    status: int
    error_code: str | None = None
    error_message: str | None = None
    query: str = ""  # S3: the query string as sent; signing parameters dropped at reading

    @property
    def read_only(self) -> bool:
        if self.source == "kms":
            return self.operation in _KMS_READ
        return self.operation.startswith(_READ_PREFIXES)

    @property
    def data_event(self) -> bool:
        if self.source == "s3":
            return self.operation in _S3_DATA
        return self.operation in _DYNAMODB_DATA

    @property
    def event_id(self) -> str:
        """Stable, unique: request ids never repeat within a process, and the time
        separates processes."""
        seed = f"{self.request_id}/{self.time_ms}".encode()
        return str(uuid.UUID(bytes=hashlib.md5(seed, usedforsecurity=False).digest(), version=4))


def identity_type(entry: Entry) -> str:
    if entry.principal_arn == "*":
        return "AWSAccount"  # CloudTrail's shape for an anonymous caller
    if entry.principal_arn.endswith(":root"):
        return "Root"
    if entry.principal_arn.endswith(".amazonaws.com"):
        return "AWSService"  # a service's own call: S3 or DynamoDB using a KMS key
    if ":assumed-role/" in entry.principal_arn:
        return "AssumedRole"
    return "IAMUser"


def user_identity(entry: Entry) -> dict[str, Any]:
    kind = identity_type(entry)
    if kind == "AWSAccount":
        return {"type": kind, "principalId": "", "accountId": "anonymous"}
    if kind == "AWSService":
        return {"type": kind, "invokedBy": entry.principal_arn}
    identity: dict[str, Any] = {
        "type": kind,
        "principalId": entry.principal_id,
        "arn": entry.principal_arn,
        "accountId": entry.account_id,
    }
    if entry.access_key:
        identity["accessKeyId"] = entry.access_key
    if entry.user_name:
        identity["userName"] = entry.user_name
    return identity


def resources(entry: Entry, region: str) -> list[dict[str, str]]:
    """The ARNs a call named, with CloudTrail's resource types."""
    if not entry.resource:
        return []
    if entry.source == "s3":
        bucket, _, key = entry.resource.partition("/")
        named = []
        if key:
            named.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
        named.append(
            {
                "type": "AWS::S3::Bucket",
                "ARN": f"arn:aws:s3:::{bucket}",
                "accountId": entry.account_id,
            }
        )
        return named
    if entry.source in ("dynamodb", "streams"):
        arn = f"arn:aws:dynamodb:{region}:{entry.account_id}:table/{entry.resource}"
        return [{"type": "AWS::DynamoDB::Table", "ARN": arn, "accountId": entry.account_id}]
    if entry.source == "kms" and entry.resource.startswith("arn:"):  # the key's ARN
        return [{"type": "AWS::KMS::Key", "ARN": entry.resource, "accountId": entry.account_id}]
    return []


def resource_names(entry: Entry) -> list[tuple[str, str]]:
    """(type, name) pairs as LookupEvents lists them."""
    if not entry.resource:
        return []
    if entry.source == "s3":
        bucket, _, key = entry.resource.partition("/")
        names = [("AWS::S3::Bucket", bucket)]
        if key:
            names.append(("AWS::S3::Object", f"{bucket}/{key}"))
        return names
    if entry.source in ("dynamodb", "streams"):
        return [("AWS::DynamoDB::Table", entry.resource)]
    if entry.source == "kms" and entry.resource.startswith("arn:"):
        return [("AWS::KMS::Key", entry.resource)]
    return []


def request_parameters(entry: Entry) -> dict[str, Any] | None:
    """Names only: never a body, a header value or a query signature."""
    if not entry.resource:
        return None
    if entry.source == "s3":
        bucket, _, key = entry.resource.partition("/")
        params: dict[str, Any] = {"bucketName": bucket, "Host": entry.host}
        if key:
            params["key"] = key
        params.update(_query_parameters(entry.query))
        return params
    if entry.source in ("dynamodb", "streams"):
        return {"tableName": entry.resource}
    if entry.source == "kms":
        return {"keyId": entry.resource}
    return None


# What CloudTrail leaves out of an S3 call's requestParameters: a presigned URL's signing
# parameters (SigV4's X-Amz-*, SigV2's), and botocore's x-id operation hint.
_SIGNING: Final = frozenset({"signature", "awsaccesskeyid", "expires", "x-id"})


def _query_parameters(query: str) -> dict[str, str]:
    """The request's query parameters as CloudTrail records them for S3: ``prefix``,
    ``list-type``, ``versionId``, a subresource such as ``tagging`` with an empty value."""
    if not query:
        return {}
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        folded = name.lower()
        if folded.startswith("x-amz-") or folded in _SIGNING:
            continue
        found.setdefault(name, value)
    return found


def iso_time(time_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time_ms / 1000))


def cloudtrail_event(entry: Entry, region: str) -> dict[str, Any]:
    """The record as CloudTrail writes it (``CloudTrailEvent`` in LookupEvents)."""
    data = entry.data_event
    event: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(entry),
        "eventTime": iso_time(entry.time_ms),
        "eventSource": EVENT_SOURCES.get(entry.source, f"{entry.source}.amazonaws.com"),
        "eventName": entry.operation,
        "awsRegion": region,
        "sourceIPAddress": entry.client_ip,
        "userAgent": entry.user_agent,
    }
    if entry.error_code:
        event["errorCode"] = entry.error_code
        event["errorMessage"] = entry.error_message or ""
    event.update(
        {
            "requestParameters": request_parameters(entry),
            "responseElements": None,
            "requestID": entry.request_id,
            "eventID": entry.event_id,
            "readOnly": entry.read_only,
            "resources": resources(entry, region),
            "eventType": "AwsApiCall",
            "managementEvent": not data,
            "recipientAccountId": entry.account_id,
            "eventCategory": "Data" if data else "Management",
        }
    )
    return event
