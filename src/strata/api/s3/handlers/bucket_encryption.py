"""Put/Get/DeleteBucketEncryption: a bucket's default encryption, kept in its record.

A bucket nobody configured answers S3's default: SSE-S3, and SSE-C blocked (new buckets
since April 2026: SSE-C writes are 403 AccessDenied until ``BlockedEncryptionTypes`` says
``NONE``). A configuration without ``BlockedEncryptionTypes`` keeps the bucket's current
setting (S3 does not document this case; keeping the block is the safe reading).
DeleteBucketEncryption goes back to the default. ``aws:kms`` is taken only once a KMS
provider is registered (``Encryptions.register``); until then it is 501, as any write
asking for it would be.
"""

from __future__ import annotations

from typing import Final

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.errors import ProtocolError
from strata.service.objects.encryption import DEFAULT_BUCKET_ENCRYPTION, SSE_C
from strata.service.objects.records import BucketEncryption

_ALGORITHMS: Final = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
_KMS: Final = frozenset({"aws:kms", "aws:kms:dsse"})
_BLOCKABLE: Final = frozenset({"NONE", SSE_C})


def render(config: BucketEncryption) -> bytes:
    default = [xml.el("SSEAlgorithm", config.algorithm)]
    if config.kms_key_id:
        default.append(xml.el("KMSMasterKeyID", config.kms_key_id))
    blocked = list(config.blocked) or ["NONE"]
    rule = xml.node(
        "Rule",
        xml.node("ApplyServerSideEncryptionByDefault", *default),
        xml.el("BucketKeyEnabled", config.bucket_key),
        xml.node("BlockedEncryptionTypes", *(xml.el("EncryptionType", t) for t in blocked)),
    )
    return xml.document("ServerSideEncryptionConfiguration", rule)


async def get_bucket_encryption(s3: S3Context, call: Call) -> Response:
    record = s3.buckets.get(call.bucket)
    return xml_response(render(record.encryption or DEFAULT_BUCKET_ENCRYPTION))


async def delete_bucket_encryption(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    await s3.buckets.update(call.bucket, encryption=None)
    return Response(status=204)


def _flag(text: str | None) -> bool:
    value = (text or "false").strip().lower()
    if value not in ("true", "false"):
        raise xml.malformed()
    return value == "true"


async def put_bucket_encryption(s3: S3Context, call: Call) -> Response:
    current = s3.buckets.get(call.bucket).encryption or DEFAULT_BUCKET_ENCRYPTION
    body = await read_small_body(call.request, checksum_required=True)
    root = xml.parse(body, "ServerSideEncryptionConfiguration")
    rules = root.findall("Rule")
    if len(rules) != 1:
        raise xml.malformed()
    [rule] = rules
    algorithm, kms_key_id = "AES256", ""
    default = rule.find("ApplyServerSideEncryptionByDefault")
    if default is not None:
        algorithm = (xml.text(default, "SSEAlgorithm") or "").strip()
        if algorithm not in _ALGORITHMS:
            raise xml.malformed()
        kms_key_id = (xml.text(default, "KMSMasterKeyID") or "").strip()
        if kms_key_id and algorithm not in _KMS:
            raise ProtocolError(
                "InvalidArgument",
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                "aws:kms or aws:kms:dsse",
                ArgumentName="ApplyServerSideEncryptionByDefault",
            )
    bucket_key = _flag(xml.text(rule, "BucketKeyEnabled"))
    blocked = current.blocked
    types = rule.find("BlockedEncryptionTypes")
    if types is not None:
        names = [(t.text or "").strip() for t in types.findall("EncryptionType")]
        if not names or any(n not in _BLOCKABLE for n in names):
            raise xml.malformed()
        if "NONE" in names and len(set(names)) > 1:
            raise xml.malformed()
        blocked = tuple(n for n in names if n != "NONE")
    if algorithm not in s3.objects.encryptions.providers:
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            Header="x-amz-server-side-encryption",
        )
    config = BucketEncryption(algorithm, kms_key_id, bucket_key, blocked)
    await s3.buckets.update(call.bucket, encryption=config)
    return Response(status=200)
