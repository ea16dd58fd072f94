"""SSE-KMS: an object's data key wrapped by a KMS key (``aws:kms``, ``aws:kms:dsse``).

The ``KeyProvider`` the objects service seals with (``service/objects/encryption.py``):
the key is the request's ``x-amz-server-side-encryption-aws-kms-key-id`` (id, alias or
ARN), else the bucket default's (for a write that names no encryption), else the AWS
managed ``alias/aws/s3``, made on first use.
The envelope names the key by its ARN, which responses show, as S3 does. The encryption
context is the request's (``x-amz-server-side-encryption-context``, base64 JSON of string
pairs) plus S3's own ``aws:s3:arn`` (the bucket's: Strata's data keys are per object but the
provider is not told the key's name, so the bucket's ARN, which S3 uses with Bucket Keys).
With Bucket Keys (and no context of the caller's) each object's data key is sealed by a
bucket key that KMS wraps once an hour per bucket and key, as S3 does to spare KMS calls.
A disabled or pending-deletion key refuses new writes and makes its objects unreadable,
with KMS's error under S3's ``KMS.`` prefix (``KMS.DisabledException``, 400). A caller
(IAM user, role) needs ``kms:GenerateDataKey`` / ``kms:Decrypt`` on a customer managed key,
as on AWS: AccessDenied (403) otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption, ProtocolError
from strata.service.iam.access import AccessControl, acting
from strata.service.kms.errors import KmsError, as_s3_error
from strata.service.kms.keys import KeyService
from strata.service.kms.records import AWS, KeyRecord
from strata.service.objects.encryption import EncryptionRequest, Sealing
from strata.service.objects.records import BucketEncryption, Encryption
from strata.storage.volumes.cipher import new_data_key

DEFAULT_KEY: Final = "alias/aws/s3"
BUCKET_KEY_FORMAT: Final = 0xB1  # an envelope sealed under a bucket key (a KMS blob is 0x01)
BUCKET_KEY_S: Final = 3600.0
OPENED_BUCKET_KEYS_MAX: Final = 1024
_BUCKET_KEY_AAD: Final = b"strata s3 bucket key"
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
        # (bucket, KMS key id) -> (sealing until, bucket key, its KMS blob): Bucket Keys
        self._sealing: dict[tuple[str, str], tuple[float, bytes, bytes]] = {}
        self._opened: dict[bytes, bytes] = {}  # KMS blob -> bucket key, for reads

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
        bucket_key = request.bucket_key if request.bucket_key is not None else default.bucket_key
        data_key = new_data_key()
        try:
            _, record = self.keys.resolve_now(key_text or DEFAULT_KEY)
            self._authorize("kms:GenerateDataKey", record)
            if bucket_key and not given:
                wrapped = self._under_bucket_key(bucket, record, context, data_key)
            else:
                wrapped = self.keys.encrypt_now(record, data_key, context)
                self.keys.used("GenerateDataKey", record, INVOKED_BY)
        except KmsError as exc:
            raise as_s3_error(exc) from None
        envelope = Encryption(
            self.algorithm,
            wrapped,
            key_id=self.keys.key_arn(record.key_id),
            context=given,
            bucket_key=bucket_key,
        )
        return Sealing(data_key, envelope)

    def _under_bucket_key(
        self, bucket: str, record: KeyRecord, context: dict[str, str], data_key: bytes
    ) -> bytes:
        """S3 Bucket Keys: the object's data key sealed by a bucket key, itself wrapped by
        the KMS key and reused for ``BUCKET_KEY_S`` of store clock, so KMS is asked once
        per bucket and key in that time rather than once per object."""
        self.keys.usable(record)  # a disabled key refuses writes, bucket key or not
        now = self.keys.now_s()
        found = self._sealing.get((bucket, record.key_id))
        if found is None or found[0] <= now:
            plain = new_data_key()
            blob = self.keys.encrypt_now(record, plain, context)
            self.keys.used("GenerateDataKey", record, INVOKED_BY)
            found = (now + BUCKET_KEY_S, plain, blob)
            self._sealing[(bucket, record.key_id)] = found
        _, plain, blob = found
        nonce = os.urandom(12)
        inner = nonce + AESGCM(plain).encrypt(nonce, data_key, _BUCKET_KEY_AAD)
        return bytes([BUCKET_KEY_FORMAT]) + len(blob).to_bytes(2, "big") + blob + inner

    def data_key(self, bucket: str, envelope: Encryption) -> bytes:
        wrapped = envelope.wrapped_key
        inner = b""
        if wrapped[:1] == bytes([BUCKET_KEY_FORMAT]):
            size = int.from_bytes(wrapped[1:3], "big")
            wrapped, inner = wrapped[3 : 3 + size], wrapped[3 + size :]
        named = self.keys.key_named_by(wrapped)
        if named is not None:
            self._authorize("kms:Decrypt", named)
        try:
            opened = self._opened.get(wrapped) if named is not None else None
            if opened is not None and named is not None:
                self.keys.usable(named)  # a cached bucket key still needs a usable key
            else:
                opened, record = self.keys.decrypt(wrapped, self._context(bucket, envelope.context))
                self.keys.used("Decrypt", record, INVOKED_BY)
                if inner:
                    if len(self._opened) >= OPENED_BUCKET_KEYS_MAX:
                        self._opened.clear()
                    self._opened[wrapped] = opened
        except KmsError as exc:
            raise as_s3_error(exc) from None
        if not inner:
            return opened
        try:
            return AESGCM(opened).decrypt(inner[:12], inner[12:], _BUCKET_KEY_AAD)
        except InvalidTag:
            raise DataCorruption(f"a version in {bucket}: its bucket-keyed data key is damaged")
