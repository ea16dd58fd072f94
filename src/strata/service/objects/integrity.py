"""What a payload must hash to, checked once the last byte arrived and before any commit.

The API layer parses the client's digests (Content-MD5, ``x-amz-checksum-*`` headers,
or a trailer announced by ``x-amz-trailer``) into ``PayloadChecks``; the service computes
the digests while streaming and calls ``verify``. A mismatch raises ``BadDigest`` with
AWS's wording and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from strata.errors import ProtocolError
from strata.service.objects.errors import BadDigest

DEFAULT_ALGORITHM = "CRC64NVME"  # what S3 computes when the client sent no checksum
DIGEST_BYTES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


def decode_digest(value: str, algorithm: str, where: str = "header") -> bytes:
    """A base64 digest from the client; ``InvalidRequest`` when it cannot be one."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != DIGEST_BYTES[algorithm]:
        raise ProtocolError(
            "InvalidRequest",
            f"Value for x-amz-checksum-{algorithm.lower()} {where} is invalid.",
        )
    return raw


@dataclass(slots=True)
class PayloadChecks:
    algorithm: str = DEFAULT_ALGORITHM  # the checksum computed and stored with the object
    expected: bytes | None = None  # from an x-amz-checksum-* header
    trailer: Callable[[], str | None] | None = None  # value that arrives after the body
    content_md5: bytes | None = None
    algorithm_given: bool = False  # the client named the algorithm (else default)

    def verify(self, md5: bytes, checksums: dict[str, bytes]) -> None:
        if self.content_md5 is not None and self.content_md5 != md5:
            raise BadDigest("The Content-MD5 you specified did not match what we received.")
        expected = self.expected
        if expected is None and self.trailer is not None:
            value = self.trailer()
            if value is None:
                raise ProtocolError(
                    "InvalidRequest",
                    f"x-amz-checksum-{self.algorithm.lower()} trailer was not received",
                )
            expected = decode_digest(value, self.algorithm, "trailing header")
        if expected is not None and checksums.get(self.algorithm) != expected:
            raise BadDigest(
                f"The {self.algorithm} you specified did not match the calculated checksum."
            )
