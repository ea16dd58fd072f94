"""SSE-KMS: an object's data key wrapped by a KMS key (``aws:kms``, ``aws:kms:dsse``).

The ``KeyProvider`` the objects service seals with (``service/objects/encryption.py``):
the key is the request's ``x-amz-server-side-encryption-aws-kms-key-id`` (id, alias or
ARN), else the bucket default's (for a write that names no encryption), else the AWS
managed ``alias/aws/s3``, made on first use.
The envelope names the key by its ARN, which responses show, as S3 does. The encryption
context is the request's (``x-amz-server-side-encryption-context``, base64 JSON of string
pairs) plus S3's own ``aws:s3:arn`` (the bucket's: Strata's data keys are per object but the
provider is not told the key's name, so the bucket's ARN, which S3 uses with Bucket Keys).
A disabled or pending-deletion key refuses new writes and makes its objects unreadable,
with KMS's error under S3's ``KMS.`` prefix (``KMS.DisabledException``, 400). A caller
(IAM user, role) needs ``kms:GenerateDataKey`` / ``kms:Decrypt`` on a customer managed key,
as on AWS: AccessDenied (403) otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

from strata.errors import ProtocolError
from strata.service.iam.access import AccessControl, acting
from strata.service.kms.errors import KmsError, as_s3_error
from strata.service.kms.keys import KeyService
from strata.service.kms.records import AWS, KeyRecord
from strata.service.objects.encryption import EncryptionRequest, Sealing
from strata.service.objects.records import BucketEncryption, Encryption
from strata.storage.volumes.cipher import new_data_key

DEFAULT_KEY: Final = "alias/aws/s3"
INVOKED_BY: Final = "s3.amazonaws.com"
CONTEXT_HEADER: Final = "x-amz-server-side-encryption-context"


def parse_context(text: str) -> dict[str, str]:
    """The context header: base64 of a JSON object of strings; InvalidArgument otherwise."""
    try:
        value = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProtocolError(
            "InvalidArgument",
            "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded "
            "UTF-8 string holding JSON which represents a string-string map",
            ArgumentName=CONTEXT_HEADER,
            ArgumentValue=text,
        )
    if "aws:s3:arn" in value:
        raise ProtocolError(
            "InvalidArgument",
            "Encryption context keys cannot begin with the reserved prefix aws:s3:",
            ArgumentName=CONTEXT_HEADER,
            ArgumentValue=text,
        )
    return value


class KmsObjectKeys:
    def __init__(self, keys: KeyService, access: AccessControl, algorithm: str = "aws:kms") -> None:
        self.keys = keys
        self.access = access
        self.algorithm = algorithm

    def _authorize(self, action: str, record: KeyRecord) -> None:
        """The caller's own permission on a customer managed key, as S3 requires
        (kms:GenerateDataKey to write, kms:Decrypt to read); the AWS managed aws/s3 key's
        policy lets every caller S3 lets in use it through S3, so it needs none."""
        principal = acting.get()
        if principal is None or record.manager == AWS:
            return  # background work (lifecycle, scrub, moves) is the service's own
        self.access.authorize(principal, action, self.keys.key_arn(record.key_id))

    def _context(self, bucket: str, given: str) -> dict[str, str]:
        context = parse_context(given) if given else {}
        context["aws:s3:arn"] = f"arn:aws:s3:::{bucket}"
        return context

    def new_key(
        self, bucket: str, request: EncryptionRequest, default: BucketEncryption
    ) -> Sealing:
        key_text = request.kms_key_id
        if request.algorithm is None and default.kms_key_id:
            # The bucket default's key serves writes that name no encryption; a write that
            # says aws:kms without a key id gets aws/s3, as S3 documents.
            key_text = default.kms_key_id
        given = request.context or ""
        context = self._context(bucket, given)
        data_key = new_data_key()
        try:
            _, record = self.keys.resolve_now(key_text or DEFAULT_KEY)
            self._authorize("kms:GenerateDataKey", record)
            wrapped = self.keys.encrypt_now(record, data_key, context)
        except KmsError as exc:
            raise as_s3_error(exc) from None
        self.keys.used("GenerateDataKey", record, INVOKED_BY)
        bucket_key = request.bucket_key if request.bucket_key is not None else default.bucket_key
        envelope = Encryption(
            self.algorithm,
            wrapped,
            key_id=self.keys.key_arn(record.key_id),
            context=given,
            bucket_key=bucket_key,
        )
        return Sealing(data_key, envelope)

    def data_key(self, bucket: str, envelope: Encryption) -> bytes:
        named = self.keys.key_named_by(envelope.wrapped_key)
        if named is not None:
            self._authorize("kms:Decrypt", named)
        try:
            data_key, record = self.keys.decrypt(
                envelope.wrapped_key, self._context(bucket, envelope.context)
            )
        except KmsError as exc:
            raise as_s3_error(exc) from None
        self.keys.used("Decrypt", record, INVOKED_BY)
        return data_key
