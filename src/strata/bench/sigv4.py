"""AWS Signature Version 4, header form, written for a load generator.

Per request it costs one SHA-256 of the canonical request and two HMACs: the signing key
(four HMACs over date, region, service) is derived once per UTC day, and the timestamp
string once per second. Payloads are hashed by the caller, which can pass
UNSIGNED_PAYLOAD (S3) or a precomputed digest for a body it sends many times.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def uri_encode_path(path: str) -> str:
    """Canonical URI of an S3 path: every byte but unreserved ones and '/' percent-encoded."""
    return quote(path, safe="/-_.~")


def canonical_query(params: Sequence[tuple[str, str]]) -> str:
    """Canonical query string: names and values encoded, sorted by name then value."""
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def derive_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")."""
    key = hmac.digest(("AWS4" + secret_key).encode(), date.encode(), "sha256")
    key = hmac.digest(key, region.encode(), "sha256")
    key = hmac.digest(key, service.encode(), "sha256")
    return hmac.digest(key, b"aws4_request", "sha256")


class Signer:
    """Signs requests for one access key, region and service."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        region: str,
        service: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.service = service
        self._clock = clock
        self._second = -1
        self._amz_date = ""
        self._date = ""
        self._scope = ""
        self._key = b""

    def _refresh(self) -> None:
        now = int(self._clock())
        if now == self._second:
            return
        self._second = now
        self._amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        date = self._amz_date[:8]
        if date != self._date:
            self._date = date
            self._scope = f"{date}/{self.region}/{self.service}/aws4_request"
            self._key = derive_signing_key(self.secret_key, date, self.region, self.service)

    def sign(
        self,
        method: str,
        canonical_uri: str,
        query: str,
        headers: list[tuple[str, str]],
        payload_hash: str,
        *,
        content_sha256_header: bool,
    ) -> list[tuple[str, str]]:
        """Return `headers` plus x-amz-date, [x-amz-content-sha256] and Authorization.

        `headers` are (lowercase name, value) pairs, all of them signed, and must include
        `host`. `canonical_uri` and `query` are already in canonical form.
        """
        self._refresh()
        signed = [*headers, ("x-amz-date", self._amz_date)]
        if content_sha256_header:
            signed.append(("x-amz-content-sha256", payload_hash))
        signed.sort()
        canonical_headers = "".join(f"{name}:{value.strip()}\n" for name, value in signed)
        signed_names = ";".join(name for name, _ in signed)
        canonical_request = (
            f"{method}\n{canonical_uri}\n{query}\n{canonical_headers}\n"
            f"{signed_names}\n{payload_hash}"
        )
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{self._amz_date}\n{self._scope}\n"
            + hashlib.sha256(canonical_request.encode()).hexdigest()
        )
        signature = hmac.new(self._key, string_to_sign.encode(), "sha256").hexdigest()
        signed.append(
            (
                "authorization",
                f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self._scope}, "
                f"SignedHeaders={signed_names}, Signature={signature}",
            )
        )
        return signed
