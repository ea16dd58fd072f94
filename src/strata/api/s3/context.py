"""What every S3 handler receives: the services, and the routed call."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from strata import limits
from strata.api.http import Request, Response
from strata.errors import BodyTooLarge, ProtocolError
from strata.service.iam.access import AccessControl
from strata.service.iam.principal import KeyLookup
from strata.service.objects.buckets import BucketService
from strata.service.objects.errors import BadDigest
from strata.service.objects.integrity import DIGEST_BYTES, decode_digest
from strata.service.objects.lifecycle.configs import LifecycleConfigs
from strata.service.objects.objects import ObjectService
from strata.service.objects.tiering.service import Tiering
from strata.storage.checksums import new_hasher

OWNER_ID: Final = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
DISCARD_BYTES_MAX: Final = 64 * 1024 * 1024  # read past an oversized body before answering
OWNER_NAME: Final = "strata"  # S3 stopped returning DisplayName (November 2025)


@dataclass(slots=True)
class S3Context:
    buckets: BucketService
    objects: ObjectService
    region: str = "us-east-1"
    keys: KeyLookup | None = None  # POST Object verifies its policy's signature (None: auth off)
    access: AccessControl = field(default_factory=AccessControl)
    lifecycle: LifecycleConfigs | None = None  # buckets' lifecycle rules (None: not served)
    # Intelligent-Tiering and restores (None in apps built without them: tests).
    tiering: Tiering | None = None


@dataclass(slots=True)
class Call:
    request: Request
    bucket: str
    key: str

    def query(self, name: str) -> str | None:
        return self.request.query.get(name)

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)


Handler = Callable[[S3Context, Call], Awaitable[Response]]


def content_md5(request: Request) -> bytes | None:
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise ProtocolError("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return raw


async def read_small_body(
    request: Request, max_bytes: int = limits.xml_body_bytes_max, *, checksum_required: bool = False
) -> bytes:
    """A configuration body (XML), with its Content-MD5 / x-amz-checksum-* verified.

    Past ``max_bytes`` it is ``MaxMessageLengthExceeded`` (S3's code for an oversized
    request document).
    With ``checksum_required`` (the operations S3's model marks so: DeleteObjects and the
    Put*Tagging / Cors / Versioning configurations) a body with neither Content-MD5 nor an
    ``x-amz-checksum-*`` header or trailer is refused, as S3 refuses it.
    """
    md5 = content_md5(request)
    if checksum_required and md5 is None and not _has_checksum(request):
        raise ProtocolError(
            "InvalidRequest", "Missing required header for this request: Content-MD5"
        )
    try:
        body = await request.body.read(max_bytes)
    except BodyTooLarge:
        # Read (and drop) the rest, within reason, so the client gets to read the answer
        # instead of a reset while it is still sending.
        discarded = 0
        async for chunk in request.body:
            discarded += len(chunk)
            if discarded > DISCARD_BYTES_MAX:
                break
        raise ProtocolError("MaxMessageLengthExceeded", "Your request was too big.")
    if md5 is not None and hashlib.md5(body).digest() != md5:
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
    for algorithm in DIGEST_BYTES:
        name = f"x-amz-checksum-{algorithm.lower()}"
        value = request.headers.get(name) or request.body.trailers.get(name)
        if value is None:
            continue
        expected = decode_digest(value, algorithm)
        hasher = new_hasher(algorithm)
        hasher.update(body)
        if hasher.digest() != expected:
            raise BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")
    return body


def owner_xml(tag: str = "Owner") -> str:
    """The owner as S3 now shows it: the canonical ID alone, no DisplayName."""
    return f"<{tag}><ID>{OWNER_ID}</ID></{tag}>"


def _has_checksum(request: Request) -> bool:
    trailer = request.headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        return True
    return any(f"x-amz-checksum-{a.lower()}" in request.headers for a in DIGEST_BYTES)


def xml_response(
    body: bytes, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status=status, headers=[("content-type", "application/xml"), *(headers or [])], body=body
    )
