"""Opaque continuation tokens for ListObjectsV2 and ListBuckets.

A token carries the marker to resume after, tagged with a keyed hash of the listing kind,
the bucket and the marker: a token forged by hand, cut short, or taken from another
bucket or another listing is refused with ``InvalidArgument`` as S3 refuses it, never
read as a marker. The tag is an integrity check, not a secret (markers are no secret
from the caller who listed them), so the key is fixed and tokens survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

from strata.errors import ProtocolError

_KEY: Final = b"strata/list-token/v1"
_TAG_BYTES: Final = 8
_VERSION: Final = b"\x01"


def _tag(kind: str, scope: str, marker: bytes) -> bytes:
    message = b"\x00".join((kind.encode(), scope.encode(), marker))
    return hashlib.blake2b(message, key=_KEY, digest_size=_TAG_BYTES).digest()


def encode(kind: str, scope: str, marker: str) -> str:
    """A token that resumes after ``marker`` in listing ``kind`` of ``scope``."""
    raw = marker.encode()
    return base64.urlsafe_b64encode(_VERSION + _tag(kind, scope, raw) + raw).decode()


def decode(kind: str, scope: str, token: str, **details: str) -> str:
    """The marker a token names; ``InvalidArgument`` unless this listing issued it."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    head, tag, marker = raw[:1], raw[1 : 1 + _TAG_BYTES], raw[1 + _TAG_BYTES :]
    if head == _VERSION and hmac.compare_digest(tag, _tag(kind, scope, marker)):
        try:
            return marker.decode()
        except UnicodeDecodeError:
            pass
    raise ProtocolError(
        "InvalidArgument",
        "The continuation token provided is incorrect",
        400,
        ArgumentName="continuation-token",
        **details,
    )
