"""S3's encryption headers: a write's request (SSE-S3, SSE-KMS, SSE-C), the customer keys
of reads and copies, and the headers that answer them, with S3's errors.

SSE-C keys travel in headers, so S3 refuses them over plain HTTP; ``sse_c_http_allowed``
lets them through behind a TLS-terminating proxy (or in local tests). A key is checked
against its MD5 here, once; the service never sees the headers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

from strata.api.s3.context import Call, S3Context
from strata.errors import ProtocolError
from strata.service.objects.encryption import CustomerKey, EncryptionRequest
from strata.service.objects.records import Encryption

SSE: Final = "x-amz-server-side-encryption"
KMS_KEY_ID: Final = "x-amz-server-side-encryption-aws-kms-key-id"
CONTEXT: Final = "x-amz-server-side-encryption-context"
BUCKET_KEY: Final = "x-amz-server-side-encryption-bucket-key-enabled"
CUSTOMER: Final = "x-amz-server-side-encryption-customer-"
COPY_SOURCE_CUSTOMER: Final = "x-amz-copy-source-server-side-encryption-customer-"
ALGORITHMS: Final = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
KMS_ALGORITHMS: Final = frozenset({"aws:kms", "aws:kms:dsse"})
_SECURE_ONLY: Final = (
    "Requests specifying Server Side Encryption with Customer provided keys must be made over "
    "a secure connection."
)


def _invalid(message: str, name: str, value: str | None = None) -> ProtocolError:
    fields = {"ArgumentName": name}
    if value is not None:
        fields["ArgumentValue"] = value
    return ProtocolError("InvalidArgument", message, 400, **fields)


def customer_key(s3: S3Context, call: Call, prefix: str = CUSTOMER) -> CustomerKey | None:
    """The SSE-C key of a request (``prefix``: the copy source's), or None without one."""
    headers = call.request.headers
    algorithm = headers.get(prefix + "algorithm")
    key_text = headers.get(prefix + "key")
    md5_text = headers.get(prefix + "key-md5")
    if algorithm is None and key_text is None and md5_text is None:
        return None
    if not call.request.secure and not s3.objects.encryptions.customer_http_allowed:
        raise ProtocolError("InvalidRequest", _SECURE_ONLY)
    if algorithm is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide a valid encryption algorithm.",
            prefix + "algorithm",
        )
    if algorithm != "AES256":
        raise ProtocolError(
            "InvalidEncryptionAlgorithmError",
            "The Encryption request you specified is not valid. Supported value: AES256.",
            ArgumentName=prefix + "algorithm",
            ArgumentValue=algorithm,
        )
    if key_text is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide an appropriate secret key.",
            prefix + "key",
        )
    try:
        key = base64.b64decode(key_text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise _invalid("The secret key was invalid for the specified algorithm.", prefix + "key")
    if md5_text is None:
        raise _invalid(
            "Requests specifying Server Side Encryption with Customer provided keys must "
            "provide the client calculated MD5 of the secret key.",
            prefix + "key-MD5",
        )
    expected = base64.b64encode(hashlib.md5(key).digest()).decode()
    if not hmac.compare_digest(md5_text.strip(), expected):
        raise _invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            prefix + "key-MD5",
        )
    return CustomerKey(key, expected)


def encryption_request(s3: S3Context, call: Call) -> EncryptionRequest:
    """What a write (PutObject, CreateMultipartUpload, CopyObject's target) asks for."""
    headers = call.request.headers
    algorithm = headers.get(SSE)
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise _invalid("The encryption method specified is not supported", SSE, algorithm)
    customer = customer_key(s3, call)
    if customer is not None and algorithm is not None:
        raise _invalid(
            "Server Side Encryption with Customer provided key is incompatible with the "
            "encryption method specified",
            SSE,
            algorithm,
        )
    kms_key_id = headers.get(KMS_KEY_ID)
    context = headers.get(CONTEXT)
    bucket_key_text = headers.get(BUCKET_KEY)
    if algorithm not in KMS_ALGORITHMS:
        # S3 accepts the KMS headers only with aws:kms (observed: a key id alone is 400).
        for name, value in ((KMS_KEY_ID, kms_key_id), (CONTEXT, context)):
            if value is not None:
                raise _invalid(
                    f"Server Side Encryption with AWS Key Management Service key id is "
                    f"specified but the encryption method is not aws:kms: {name}",
                    name,
                    value,
                )
    bucket_key = None
    if bucket_key_text is not None:
        bucket_key = bucket_key_text.strip().lower() == "true"
    if algorithm is None and customer is None and bucket_key is None:
        return _NONE
    return EncryptionRequest(algorithm, customer, kms_key_id, context, bucket_key)


_NONE: Final = EncryptionRequest()


def encryption_headers(
    envelope: Encryption | None, customer: CustomerKey | None = None
) -> list[tuple[str, str]]:
    """What a write's or a read's response says of the version's encryption (nothing for
    bytes stored before encryption: they are plain, and Strata does not claim otherwise)."""
    if envelope is None:
        return []
    if envelope.customer:
        headers = [(CUSTOMER + "algorithm", "AES256")]
        if customer is not None:
            headers.append((CUSTOMER + "key-MD5", customer.key_md5))
        return headers
    headers = [(SSE, envelope.algorithm)]
    if envelope.algorithm in KMS_ALGORITHMS:
        headers.append((KMS_KEY_ID, envelope.key_id))
        if envelope.bucket_key:
            headers.append((BUCKET_KEY, "true"))
        if envelope.context:  # the context the write gave (base64 JSON), as S3 echoes it
            headers.append((CONTEXT, envelope.context))
    return headers
