"""Encryption at rest: which data key seals a write, and opening it again for a read.

Every new version is encrypted (S3 has done so by default since January 2023): its bytes
are sealed with a fresh data key (``storage/volumes/cipher.py``) and the version's record
keeps the envelope (``records.Encryption``): the data key wrapped, the scheme and the key
that wraps it. Schemes are ``KeyProvider``s by algorithm: SSE-S3 (``AES256``, the master
key, ``storage/master_key.py``) is built in; ``aws:kms`` is registered by the KMS service.
SSE-C wraps the data key with the customer's key, which is never stored: only a salted
HMAC of it, so a wrong key is told apart from damage.

A copy that would get the same scheme and key as its source keeps the source's envelope,
so its extents are shared rather than re-encrypted (``ObjectService.copy``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption, ProtocolError
from strata.service.objects.records import BucketEncryption, BucketRecord, Encryption
from strata.storage.master_key import MasterKey
from strata.storage.volumes.cipher import new_data_key

SSE_S3: Final = "AES256"
SSE_C: Final = "SSE-C"  # the BlockedEncryptionTypes name
DEFAULT_BUCKET_ENCRYPTION: Final = BucketEncryption()
_SALT_BYTES: Final = 16
_OPENED_MAX: Final = 4096  # data keys kept opened (SSE-S3)


@dataclass(frozen=True, slots=True)
class CustomerKey:
    """An SSE-C key from a request's headers, already checked against its MD5."""

    key: bytes
    key_md5: str  # base64, as sent: responses echo it

    def __repr__(self) -> str:  # never print the key
        return f"CustomerKey(md5={self.key_md5})"


@dataclass(frozen=True, slots=True)
class EncryptionRequest:
    """What a write asks for in its headers; unset parts come from the bucket default."""

    algorithm: str | None = None  # x-amz-server-side-encryption
    customer: CustomerKey | None = None
    kms_key_id: str | None = None  # x-amz-server-side-encryption-aws-kms-key-id
    context: str | None = None  # x-amz-server-side-encryption-context (base64 JSON)
    bucket_key: bool | None = None  # x-amz-server-side-encryption-bucket-key-enabled


NO_REQUEST: Final = EncryptionRequest()


@dataclass(frozen=True, slots=True)
class Sealing:
    """A write's data key (kept in memory only) and the envelope recorded with it.
    ``PLAIN`` (no key, no envelope) stores bytes as before encryption: nothing seals with
    it but ``benchmarks/sse.py``'s baseline."""

    data_key: bytes | None
    envelope: Encryption | None

    def __repr__(self) -> str:
        return f"Sealing({self.envelope.algorithm if self.envelope else 'plain'})"


PLAIN: Final = Sealing(None, None)


class KeyProvider(Protocol):
    """Wraps new data keys and unwraps recorded ones for one algorithm."""

    def new_key(
        self, bucket: str, request: EncryptionRequest, default: BucketEncryption
    ) -> Sealing: ...

    def data_key(self, bucket: str, envelope: Encryption) -> bytes: ...


class MasterKeyProvider:
    """SSE-S3: data keys wrapped by the server's master key."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master
        self._opened: dict[bytes, bytes] = {}  # wrapped -> data key, for repeated reads

    def new_key(
        self, bucket: str, request: EncryptionRequest, default: BucketEncryption
    ) -> Sealing:
        data_key = new_data_key()
        wrapped = self.master.wrap(data_key, SSE_S3.encode())
        return Sealing(data_key, Encryption(SSE_S3, wrapped, self.master.key_id))

    def data_key(self, bucket: str, envelope: Encryption) -> bytes:
        if envelope.key_id != self.master.key_id:
            raise DataCorruption(
                f"a version in {bucket} is encrypted under master key {envelope.key_id}; this "
                f"server has {self.master.key_id} (see master_key in docs/configuration.md)"
            )
        data_key = self._opened.get(envelope.wrapped_key)
        if data_key is None:
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            data_key = self._opened[envelope.wrapped_key] = self.master.unwrap(
                envelope.wrapped_key, SSE_S3.encode()
            )
        return data_key


def customer_mismatch() -> ProtocolError:
    return ProtocolError(
        "AccessDenied",
        "Requests specifying Server Side Encryption with Customer provided keys must provide "
        "the correct secret key.",
        403,
    )


def customer_key_hmac(salt: bytes, key: bytes) -> bytes:
    return hmac.digest(salt, key, hashlib.sha256)


def seal_for_customer(customer: CustomerKey) -> Sealing:
    """SSE-C: a fresh data key wrapped by the customer's key, and the key's check."""
    data_key, salt, nonce = new_data_key(), os.urandom(_SALT_BYTES), os.urandom(12)
    wrapped = nonce + AESGCM(customer.key).encrypt(nonce, data_key, b"SSE-C")
    envelope = Encryption(
        SSE_S3,
        wrapped,
        customer=True,
        customer_key_hmac=customer_key_hmac(salt, customer.key),
        salt=salt,
    )
    return Sealing(data_key, envelope)


def customer_data_key(envelope: Encryption, customer: CustomerKey) -> bytes:
    """The data key of an SSE-C version; AccessDenied for another key."""
    if not hmac.compare_digest(
        customer_key_hmac(envelope.salt, customer.key), envelope.customer_key_hmac
    ):
        raise customer_mismatch()
    wrapped = envelope.wrapped_key
    try:
        return AESGCM(customer.key).decrypt(wrapped[:12], wrapped[12:], b"SSE-C")
    except InvalidTag:
        raise DataCorruption("an SSE-C version's wrapped data key is damaged") from None


def customer_etag(envelope: Encryption, md5: bytes) -> str:
    """An SSE-C object's ETag is not the MD5 of its content (S3: so the ETag tells nothing
    of the plaintext); stable per version: the MD5 keyed with the version's salt."""
    return hmac.digest(envelope.salt, md5, hashlib.md5).hex()


class Encryptions:
    """The schemes a server can seal with; ``register`` adds one (``aws:kms``)."""

    def __init__(self, master: MasterKey, customer_http_allowed: bool = False) -> None:
        self.providers: dict[str, KeyProvider] = {SSE_S3: MasterKeyProvider(master)}
        self.master_key_id = master.key_id
        self._master = master
        # SSE-C over plain HTTP (``sse_c_http_allowed``): S3 refuses it, the edge asks here.
        self.customer_http_allowed = customer_http_allowed

    def segment_key(self, wrapped: bytes) -> bytes:
        """A shared extent's data key (``Segment.wrapped_key``), wrapped as SSE-S3's are."""
        return self._master.unwrap(wrapped, SSE_S3.encode())

    def shares_sse_s3(self, target: Encryption | None, source: Encryption | None) -> bool:
        """Whether bytes sealed for ``source`` may be shared by a record sealed for
        ``target``: both SSE-S3 under this server's master key, or both plain."""
        if target is None or source is None:
            return target is None and source is None
        return all(
            not e.customer and e.algorithm == SSE_S3 and e.key_id == self.master_key_id
            for e in (target, source)
        )

    def register(self, algorithm: str, provider: KeyProvider) -> None:
        self.providers[algorithm] = provider

    def seal(self, bucket: BucketRecord, request: EncryptionRequest) -> Sealing:
        """A new data key for a write to ``bucket``; AccessDenied for SSE-C where blocked."""
        default = bucket.encryption or DEFAULT_BUCKET_ENCRYPTION
        if request.customer is not None:
            if SSE_C in default.blocked:
                raise ProtocolError("AccessDenied", "Access Denied", 403)
            return seal_for_customer(request.customer)
        algorithm = request.algorithm or default.algorithm
        provider = self.providers.get(algorithm)
        if provider is None:
            raise ProtocolError(
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                501,
                Header="x-amz-server-side-encryption",
            )
        return provider.new_key(bucket.name, request, default)

    def data_key(
        self, bucket: str, envelope: Encryption | None, customer: CustomerKey | None
    ) -> bytes | None:
        """The data key a read of a version needs (None: stored plain), with S3's errors
        for a missing, unneeded or wrong customer key."""
        if envelope is None or not envelope.customer:
            if customer is not None:
                raise ProtocolError(
                    "InvalidRequest", "The encryption parameters are not applicable to this object."
                )
            if envelope is None:
                return None
            provider = self.providers.get(envelope.algorithm)
            if provider is None:
                raise DataCorruption(f"a version in {bucket} uses unknown {envelope.algorithm}")
            return provider.data_key(bucket, envelope)
        if customer is None:
            raise ProtocolError(
                "InvalidRequest",
                "The object was stored using a form of Server Side Encryption. The correct "
                "parameters must be provided to retrieve the object.",
            )
        return customer_data_key(envelope, customer)

    def stored_data_key(self, bucket: str, envelope: Encryption | None) -> bytes | None:
        """For background readers (scrub, moves, compaction checks): the data key when the
        server holds what opens it; None for plain bytes; raises ``CustomerKeyed`` for SSE-C
        (only its owner can read it)."""
        if envelope is not None and envelope.customer:
            raise CustomerKeyed()
        return self.data_key(bucket, envelope, None)


def part_data_key(
    encryptions: Encryptions,
    bucket: str,
    envelope: Encryption | None,
    customer: CustomerKey | None,
) -> bytes | None:
    """The data key an UploadPart (or UploadPartCopy) seals with: the upload's, with S3's
    errors when an SSE-C upload's part lacks the key or brings another one."""
    if envelope is None or not envelope.customer:
        return encryptions.data_key(bucket, envelope, customer)
    if customer is None:
        raise ProtocolError(
            "InvalidRequest",
            "The multipart upload initiate requested encryption. Subsequent part requests "
            "must include the appropriate encryption parameters.",
        )
    if not hmac.compare_digest(
        customer_key_hmac(envelope.salt, customer.key), envelope.customer_key_hmac
    ):
        raise ProtocolError(
            "InvalidRequest",
            "The provided encryption parameters did not match the ones used originally.",
        )
    return customer_data_key(envelope, customer)


class CustomerKeyed(Exception):
    """The bytes need a customer's key the server never kept (SSE-C)."""


def key_md5(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def sealed_etag(sealing: Sealing, md5: bytes) -> str:
    """A new version's ETag: the MD5 of its bytes, but not for SSE-C (``customer_etag``)."""
    if sealing.envelope is not None and sealing.envelope.customer:
        return customer_etag(sealing.envelope, md5)
    return md5.hex()
