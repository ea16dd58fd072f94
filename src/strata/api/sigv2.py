"""AWS Signature Version 2 for S3 (HMAC-SHA1): what boto3's ``generate_presigned_url`` makes.

boto3 still presigns S3 URLs with SigV2 query parameters (``AWSAccessKeyId``,
``Signature``, ``Expires``) unless told ``signature_version="s3v4"``, and older tools
sign headers with ``Authorization: AWS <key>:<signature>``. Both carry no payload hash,
so the body is accepted as sent (like ``UNSIGNED-PAYLOAD``).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
from typing import Final
from urllib.parse import unquote

from strata import limits
from strata.api.http import Request
from strata.api.s3.routes import virtual_host_bucket
from strata.errors import (
    AccessDeniedSignature,
    AuthorizationHeaderMalformed,
    InvalidAccessKeyId,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)
from strata.service.iam.principal import KeyLookup, Principal

# Query parameters that are part of the signed resource (AWS's list, as the SDKs use it).
SIGNED_SUBRESOURCES: Final = frozenset(
    {
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
        "policy", "requestPayment", "torrent", "versioning", "versionId", "versions",
        "website", "uploads", "uploadId", "response-content-type", "response-content-language",
        "response-expires", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
        "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
        "select", "select-type", "object-lock",
    }
)  # fmt: skip


def is_sigv2(request: Request) -> bool:
    header = request.headers.get("authorization")
    if header is not None:
        return header.startswith("AWS ")
    return "AWSAccessKeyId" in request.query and "Signature" in request.query


def _resource(request: Request) -> str:
    path = request.raw_path or "/"
    bucket = virtual_host_bucket(request.headers.get("host", ""))
    if bucket is not None:
        path = f"/{bucket}{path}"
    signed = []
    for part in request.query_string.split("&"):
        name, sep, value = part.partition("=")
        if name in SIGNED_SUBRESOURCES:
            signed.append((name, f"{name}={unquote(value)}" if sep else name))
    if signed:
        signed.sort(key=lambda pair: pair[0])
        path += "?" + "&".join(text for _, text in signed)
    return path


def _http_date_s(value: str | None) -> float | None:
    """Seconds since the epoch of an RFC 1123 or RFC 2822 date (``GMT``, ``+0000`` or
    ``-0000``); None if absent, unreadable or before 1970."""
    if not value or not value.strip():
        return None
    parsed = email.utils.parsedate_tz(value)
    if parsed is None or parsed[0] < 1970:
        return None
    try:
        return float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None


def _resources(request: Request) -> list[str]:
    """Candidates for the signed resource: a client may sign a bucket's own path as
    ``/bucket/`` (boto's and s3cmd's HMAC-v1 signers do) where the path is ``/bucket``."""
    resource = _resource(request)
    path, sep, query = resource.partition("?")
    if path.count("/") == 1 and path != "/":
        return [resource, f"{path}/{sep}{query}"]
    return [resource]


def _amz_headers(request: Request) -> str:
    signed = {n: v for n, v in request.headers.items() if n.startswith("x-amz-")}
    token = request.query.get("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed:
        signed["x-amz-security-token"] = token  # a presigned URL's token is signed as a header
    # A value is signed as it is (trimmed): one may hold commas of its own (a date).
    return "".join(f"{n}:{signed[n].strip()}\n" for n in sorted(signed))


def _sign(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authenticate(
    request: Request, keys: KeyLookup, now_s: float, real_s: float | None = None
) -> Principal:
    """Verify a SigV2 header or query signature; returns the principal that signed it.

    Presigned expiry follows the store clock (``now_s``), the skew check the wall clock."""
    real_s = now_s if real_s is None else real_s
    header = request.headers.get("authorization")
    if header is not None:
        access_key, sep, signature = header[4:].strip().rpartition(":")
        if not sep or not access_key:
            raise AuthorizationHeaderMalformed()
        # x-amz-date, when present (even empty), is the date and the Date line is
        # signed empty; an empty, unreadable or pre-1970 date is AccessDenied, a readable
        # one too far from now RequestTimeTooSkewed (observed, as the ceph s3-tests check).
        date_field = "" if "x-amz-date" in request.headers else request.headers.get("date", "")
        stamp = request.headers.get("x-amz-date", request.headers.get("date"))
        sent_s = _http_date_s(stamp)
        if sent_s is None:
            raise AccessDeniedSignature(
                "AWS authentication requires a valid Date or x-amz-date header"
            )
        if abs(real_s - sent_s) > limits.clock_skew_s_max:
            raise RequestTimeTooSkewed()
    else:
        access_key = request.query["AWSAccessKeyId"]
        signature = request.query["Signature"]
        date_field = request.query.get("Expires", "")
        try:
            expires_s = int(date_field)
        except ValueError:
            raise AccessDeniedSignature(
                "Query-string authentication requires the Signature, Expires and "
                "AWSAccessKeyId parameters"
            )
        if now_s > expires_s:
            raise RequestExpired()
    token = request.headers.get("x-amz-security-token") or request.query.get("x-amz-security-token")
    found = keys.lookup(access_key, token)
    if found is None:
        raise InvalidAccessKeyId()
    secret, principal = found
    signed_part = (
        f"{request.method}\n{request.headers.get('content-md5', '')}\n"
        f"{request.headers.get('content-type', '')}\n{date_field}\n{_amz_headers(request)}"
    )
    for resource in _resources(request):
        if hmac.compare_digest(_sign(secret, signed_part + resource), signature):
            break
    else:
        raise SignatureDoesNotMatch()
    request.access_key = access_key
    request.principal = principal
    request.signing_service = "s3"
    return principal
