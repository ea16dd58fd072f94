"""AWS Signature Version 4: header and presigned-query authentication, payload checks.

``authenticate`` verifies the request signature and then puts a verifying stage in front
of the body, so a handler can only ever read payload bytes that passed:
  - a hex ``x-amz-content-sha256``: the SHA-256 of the whole body, checked at its end;
  - ``UNSIGNED-PAYLOAD``: nothing to check;
  - ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``: aws-chunked framing, every chunk
    signature chained from the seed signature, and the trailer signature;
  - ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: aws-chunked framing with trailing checksums.
A failure raises while the handler reads, before it commits anything.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote

from strata import limits
from strata.api import sigv2
from strata.api.http import Request
from strata.errors import (
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ContentSha256Mismatch,
    InvalidAccessKeyId,
    MissingSecurityHeader,
    ProtocolError,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    StrataError,
)
from strata.service.iam.principal import KeyLookup, Principal

ALGORITHM: Final = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED: Final = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER: Final = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER: Final = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()


class MissingAuthentication(StrataError):
    """The request carries no signature at all (anonymous)."""

    default_message = "Request is missing Authentication Token"


@dataclass(frozen=True, slots=True)
class Credential:
    access_key: str
    date: str  # yyyymmdd
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


_key_cache: dict[tuple[str, str, str, str], bytes] = {}
_mac_cache: dict[bytes, hmac.HMAC] = {}


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key for one day, region and service; cached since it is the same all day."""
    cache_key = (secret, date, region, service)
    key = _key_cache.get(cache_key)
    if key is None:
        k = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
        k = hmac.digest(k, region.encode(), "sha256")
        k = hmac.digest(k, service.encode(), "sha256")
        key = hmac.digest(k, b"aws4_request", "sha256")
        if len(_key_cache) > 1024:
            _key_cache.clear()
            _mac_cache.clear()
        _key_cache[cache_key] = key
    return key


def uri_encode(value: str, safe: str = "") -> str:
    """AWS's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (and ``safe``) as %XX."""
    return quote(value, safe="-_.~" + safe)


def canonical_query(query_string: str, exclude: str | None = None) -> str:
    pairs: list[tuple[str, str]] = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote(name.replace("+", " "))
        if name == exclude:
            continue
        value = unquote(value.replace("+", " "))
        pairs.append((uri_encode(name), uri_encode(value)))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def _canonical_headers(request: Request, signed: list[str]) -> list[str]:
    """Candidates for the canonical headers. Header bytes arrive decoded as latin-1; a
    client that sent a value's UTF-8 bytes (an ``x-amz-meta-*`` value in another script,
    from an SDK that does not RFC 2047-encode it) signed those bytes: the second
    candidate reads such values as UTF-8, so the canonical request has the bytes sent."""
    lines = []
    for name in signed:
        value = request.headers.get(name)
        if value is None:
            raise SignatureDoesNotMatch()
        lines.append(f"{name}:{' '.join(value.split())}\n")
    text = "".join(lines)
    if text.isascii():
        return [text]
    try:
        as_utf8 = text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return [text]
    return [text, as_utf8]


def _canonical_uris(request: Request, service: str) -> list[str]:
    """Candidates for the canonical URI: S3 encodes the path once, others twice."""
    raw = request.raw_path or "/"
    if raw == "/":
        return ["/"]
    decoded = unquote(raw)
    if service == "s3":
        normalized = uri_encode(decoded, safe="/")
        return [normalized] if normalized == raw else [normalized, raw]
    return [uri_encode(raw, safe="/")]


def _string_to_sign(amz_date: str, credential: Credential, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{credential.scope}\n{digest}"


def _signature(key: bytes, string_to_sign: str) -> str:
    """HMAC-SHA256 from a keyed template: copying it skips re-keying, and unlike the
    one-shot ``hmac.digest`` it keeps the GIL, so signing does not hand the GIL to the
    group-commit or HTTP threads on every request."""
    template = _mac_cache.get(key)
    if template is None:
        template = _mac_cache[key] = hmac.new(key, digestmod=hashlib.sha256)
    mac = template.copy()
    mac.update(string_to_sign.encode("utf-8"))
    return mac.hexdigest()


def _parse_credential(value: str, error: type[StrataError]) -> Credential:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise error(
            "The authorization header is malformed; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    return Credential(parts[0], parts[1], parts[2], parts[3])


_last_date: tuple[str, float] = ("", 0.0)


def _parse_amz_date(value: str) -> float:
    """Seconds since the epoch of an ISO 8601 basic date (or, failing that, an RFC 1123 one).

    Requests arriving in the same second carry the same date: the last answer is kept.
    """
    global _last_date
    if value == _last_date[0]:
        return _last_date[1]
    seconds = _parse_date_uncached(value)
    _last_date = (value, seconds)
    return seconds


def _parse_date_uncached(value: str) -> float:
    if len(value) == 16 and value[8] == "T" and value[15] == "Z":
        try:
            return float(
                calendar.timegm(
                    (
                        int(value[0:4]),
                        int(value[4:6]),
                        int(value[6:8]),
                        int(value[9:11]),
                        int(value[11:13]),
                        int(value[13:15]),
                        0,
                        0,
                        0,
                    )
                )
            )
        except ValueError:
            pass
    try:
        return float(calendar.timegm(time.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")))
    except ValueError:
        raise AuthorizationHeaderMalformed(
            "Invalid date format header, expected to be in ISO8601, RFC 2616 format."
        )


@dataclass(frozen=True, slots=True)
class _Parsed:
    credential: Credential
    signed_headers: list[str]
    signature: str
    amz_date: str
    payload_hash: str
    presigned: bool


# A client sends the same credential and signed-header list on every request; only the
# signature changes. Parsed prefixes are kept (bounded) so the common case is one lookup.
_scope_cache: dict[str, tuple[Credential, list[str]]] = {}


def _parse_header_auth(request: Request, header: str) -> _Parsed:
    prefix, marker, signature = header.rpartition(", Signature=")
    cached = _scope_cache.get(prefix) if marker else None
    if cached is not None:
        credential, signed = cached
    else:
        credential, signed, signature = _parse_authorization(header)
        if marker and len(_scope_cache) < 4096:
            _scope_cache[prefix] = (credential, signed)
    amz_date = request.headers.get("x-amz-date") or request.headers.get("date")
    if not amz_date:
        raise MissingSecurityHeader("AWS authentication requires a valid Date or x-amz-date header")
    payload = request.headers.get("x-amz-content-sha256")
    if payload is None:
        if credential.service == "s3":
            raise ProtocolError(
                "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
            )
        payload = ""  # computed from the body below
    return _Parsed(credential, signed, signature, amz_date, payload, presigned=False)


def _parse_authorization(header: str) -> tuple[Credential, list[str], str]:
    if not header.startswith(ALGORITHM + " "):
        raise AuthorizationHeaderMalformed(
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256."
        )
    fields: dict[str, str] = {}
    for item in header[len(ALGORITHM) + 1 :].split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise AuthorizationHeaderMalformed()
        fields[name] = value
    try:
        credential = _parse_credential(fields["Credential"], AuthorizationHeaderMalformed)
        return credential, fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError:
        raise AuthorizationHeaderMalformed()


def _parse_query_auth(request: Request) -> _Parsed:
    q = request.query
    try:
        if q["X-Amz-Algorithm"] != ALGORITHM:
            raise AuthorizationQueryParametersError(
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'
            )
        credential = _parse_credential(q["X-Amz-Credential"], AuthorizationQueryParametersError)
        signed = q["X-Amz-SignedHeaders"].split(";")
        signature = q["X-Amz-Signature"]
        amz_date = q["X-Amz-Date"]
        expires_s = int(q["X-Amz-Expires"])
    except (KeyError, ValueError):
        raise AuthorizationQueryParametersError()
    if expires_s < 0 or expires_s > limits.presign_expiry_s_max:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        )
    payload = q.get("X-Amz-Content-Sha256") or request.headers.get(
        "x-amz-content-sha256", UNSIGNED_PAYLOAD
    )
    return _Parsed(credential, signed, signature, amz_date, payload, presigned=True)


async def authenticate(
    request: Request, keys: KeyLookup, now_s: float, real_s: float | None = None
) -> Principal:
    """Verify the request's signature; arm the body's payload checks; the principal that
    signed it, also left on ``request.principal``. Raises ``AuthError``.

    ``now_s`` is the store clock: presigned URLs expire by it. ``real_s`` (default
    ``now_s``) is the host's wall clock: the signing-skew check compares with it, so
    requests stay valid after a test or an operator moves the store clock ahead.
    """
    real_s = now_s if real_s is None else real_s
    if sigv2.is_sigv2(request):
        return sigv2.authenticate(request, keys, now_s, real_s)
    header = request.headers.get("authorization")
    if header is not None and header.strip():  # an empty one is none: AccessDenied
        parsed = _parse_header_auth(request, header)
    elif "X-Amz-Signature" in request.query or "X-Amz-Algorithm" in request.query:
        parsed = _parse_query_auth(request)
    else:
        raise MissingAuthentication()

    credential = parsed.credential
    token = (
        request.query.get("X-Amz-Security-Token")
        if parsed.presigned
        else request.headers.get("x-amz-security-token")
    )
    found = keys.lookup(credential.access_key, token)
    if found is None:
        raise InvalidAccessKeyId()
    secret, principal = found
    request_s = _parse_amz_date(parsed.amz_date)
    if parsed.presigned:
        expires_s = int(request.query["X-Amz-Expires"])
        if now_s > request_s + expires_s:
            raise RequestExpired()
        if request_s - real_s > limits.clock_skew_s_max:
            raise RequestExpired("Request is not valid yet")
    elif abs(real_s - request_s) > limits.clock_skew_s_max:
        raise RequestTimeTooSkewed()
    if "host" not in parsed.signed_headers:
        raise SignatureDoesNotMatch()

    payload_hash = parsed.payload_hash
    body_hashed_here = not payload_hash
    if body_hashed_here:  # non-S3 header auth without the header: hash the (small) body
        body = await request.body.read(limits.dynamodb_body_bytes_max)
        payload_hash = hashlib.sha256(body).hexdigest()
        request.body.keep(body)

    key = signing_key(secret, credential.date, credential.region, credential.service)
    headers_parts = _canonical_headers(request, parsed.signed_headers)
    signed_part = ";".join(parsed.signed_headers)
    query = canonical_query(
        request.query_string, exclude="X-Amz-Signature" if parsed.presigned else None
    )
    candidates = (
        (uri, headers_part)
        for uri in _canonical_uris(request, credential.service)
        for headers_part in headers_parts
    )
    for uri, headers_part in candidates:
        canonical_request = (
            f"{request.method}\n{uri}\n{query}\n{headers_part}\n{signed_part}\n{payload_hash}"
        )
        string_to_sign = _string_to_sign(parsed.amz_date, credential, canonical_request)
        if hmac.compare_digest(_signature(key, string_to_sign), parsed.signature):
            break
    else:
        raise SignatureDoesNotMatch()

    keys.note_used(credential.access_key, credential.service, credential.region)
    request.access_key = credential.access_key
    request.principal = principal
    request.signing_service = credential.service
    request.content_sha256 = payload_hash
    if not body_hashed_here:  # a body we hashed ourselves is already covered by the signature
        _arm_payload_checks(request, payload_hash, key, parsed, credential)
    return principal


def _arm_payload_checks(
    request: Request, payload_hash: str, key: bytes, parsed: _Parsed, credential: Credential
) -> None:
    if payload_hash == UNSIGNED_PAYLOAD:
        return
    if payload_hash in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER):
        chain = (
            _ChunkSigner(key, parsed.amz_date, credential.scope, parsed.signature)
            if payload_hash != STREAMING_UNSIGNED_TRAILER
            else None
        )
        size = decoded_length(request)
        request.body.wrap(
            lambda source: decode_aws_chunked(source, request.body.trailers, chain, size)
        )
        return
    if len(payload_hash) != 64:
        raise ProtocolError(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        )
    request.body.wrap(lambda source: _check_sha256(source, payload_hash))


async def _check_sha256(source: AsyncIterator[bytes], expected_hex: str) -> AsyncIterator[bytes]:
    digest = hashlib.sha256()
    async for chunk in source:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != expected_hex.lower():
        raise ContentSha256Mismatch()


class _ChunkSigner:
    """The chain of chunk signatures: each one signs its data and the one before it."""

    def __init__(self, key: bytes, amz_date: str, scope: str, seed_signature: str) -> None:
        self.key = key
        self.prefix = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n"
        self.trailer_prefix = f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n"
        self.previous = seed_signature

    def check_chunk(self, data_sha256_hex: str, signature: str | None) -> None:
        to_sign = f"{self.prefix}{self.previous}\n{EMPTY_SHA256}\n{data_sha256_hex}"
        expected = _signature(self.key, to_sign)
        if signature is None or not hmac.compare_digest(expected, signature):
            raise SignatureDoesNotMatch()
        self.previous = expected

    def check_trailer(self, canonical_trailers: str, signature: str | None) -> None:
        digest = hashlib.sha256(canonical_trailers.encode()).hexdigest()
        expected = _signature(self.key, f"{self.trailer_prefix}{self.previous}\n{digest}")
        if signature is None or not hmac.compare_digest(expected, signature):
            raise SignatureDoesNotMatch()


def decoded_length(request: Request) -> int:
    """x-amz-decoded-content-length of an aws-chunked body: S3 refuses one without it (411)."""
    value = request.headers.get("x-amz-decoded-content-length", "")
    if not (value.isascii() and value.isdigit()):
        raise ProtocolError(
            "MissingContentLength", "You must provide the Content-Length HTTP header.", 411
        )
    return int(value)


def _length_mismatch(expected: int, provided: int) -> ProtocolError:
    return ProtocolError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        NumberBytesExpected=str(expected),
        NumberBytesProvided=str(provided),
    )


def _incomplete(detail: str) -> ProtocolError:
    return ProtocolError("IncompleteBody", f"The request body is malformed: {detail}")


class _Reader:
    """Pulls framing lines and data out of an async byte source without re-joining data."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source.__aiter__()
        self._buf = b""
        self._pos = 0

    async def _fill(self) -> bool:
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    async def line(self, limit: int = 4096) -> bytes | None:
        """A CRLF-terminated line without its CRLF; None at a clean end of input."""
        while True:
            end = self._buf.find(b"\r\n", self._pos)
            if end >= 0:
                line = self._buf[self._pos : end]
                self._pos = end + 2
                return line
            if len(self._buf) - self._pos > limit:
                raise _incomplete("framing line too long")
            if not await self._fill():
                if self._pos >= len(self._buf):
                    return None
                raise _incomplete("unexpected end of data")

    async def data(self, size: int) -> AsyncIterator[bytes]:
        remaining = size
        while remaining:
            if self._pos >= len(self._buf) and not await self._fill():
                raise _incomplete("chunk shorter than its declared size")
            take = min(remaining, len(self._buf) - self._pos)
            if self._pos == 0 and take == len(self._buf):
                piece = self._buf
            else:
                piece = self._buf[self._pos : self._pos + take]
            self._pos += take
            remaining -= take
            yield piece


async def decode_aws_chunked(
    source: AsyncIterator[bytes],
    trailers: dict[str, str],
    signer: _ChunkSigner | None,
    decoded_bytes: int,
) -> AsyncIterator[bytes]:
    """Strip aws-chunked framing; check chunk and trailer signatures when signed.

    The data must add up to ``decoded_bytes`` (x-amz-decoded-content-length): a chunk that
    would pass it is refused before its data is passed on, a short body at the final
    chunk; either way before the consumer sees the end of the body, so nothing is stored.
    """
    reader = _Reader(source)
    total = 0
    while True:
        header = await reader.line()
        if header is None:
            raise _incomplete("missing final chunk")
        size_hex, _, extension = header.partition(b";")
        try:
            size = int(size_hex, 16)
        except ValueError:
            raise _incomplete("bad chunk size")
        if size < 0:
            raise _incomplete("bad chunk size")
        total += size
        if total > decoded_bytes:
            raise _length_mismatch(decoded_bytes, total)
        if size == 0 and total != decoded_bytes:
            raise _length_mismatch(decoded_bytes, total)
        signature = None
        if extension.startswith(b"chunk-signature="):
            signature = extension[len(b"chunk-signature=") :].decode("latin-1")
        digest = hashlib.sha256() if signer is not None else None
        async for piece in reader.data(size):
            if digest is not None:
                digest.update(piece)
            yield piece
        if signer is not None:
            assert digest is not None
            signer.check_chunk(digest.hexdigest(), signature)
        if size == 0:
            break
        if await reader.line() != b"":
            raise _incomplete("chunk data not followed by CRLF")
    # Trailers, then an empty line (or the end of input).
    canonical: list[str] = []
    trailer_signature: str | None = None
    while True:
        line = await reader.line()
        if not line:
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _incomplete("malformed trailer")
        name = name.strip().lower()
        value = value.strip()
        if name == "x-amz-trailer-signature":
            trailer_signature = value
        else:
            trailers[name] = value
            canonical.append(f"{name}:{value}\n")
    if signer is not None and (canonical or trailer_signature is not None):
        signer.check_trailer("".join(canonical), trailer_signature)
