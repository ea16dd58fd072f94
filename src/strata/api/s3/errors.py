"""S3's names for Strata's errors, and the XML error document.

One table maps each ``StrataError`` type to S3's (code, HTTP status); it is looked up along
the exception's class hierarchy, so a subclass inherits its parent's mapping unless it has
its own. Service-layer errors are added here as the S3 service grows.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Final
from xml.sax.saxutils import escape

from strata.api.http import Request, Response
from strata.api.s3.routes import MethodNotAllowedHere
from strata.api.sigv4 import MissingAuthentication
from strata.errors import (
    AccessDeniedSignature,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BodyTooLarge,
    ContentSha256Mismatch,
    ExpiredToken,
    HeaderTooLarge,
    InternalFault,
    InvalidAccessKeyId,
    InvalidToken,
    MissingSecurityHeader,
    RequestExpired,
    RequestTimeTooSkewed,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    StoreReplaced,
    StrataError,
    lookup,
)
from strata.service.iam.access import AccessDenied
from strata.service.objects.errors import (
    BadDigest,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    InvalidPartNumber,
    InvalidRange,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchCORSConfiguration,
    NoSuchKey,
    NoSuchTagSet,
    NoSuchVersion,
    NotModified,
    PreconditionFailed,
)
from strata.service.objects.multipart import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    NoSuchUpload,
)

S3_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    AccessDenied: ("AccessDenied", 403),
    InvalidAccessKeyId: ("InvalidAccessKeyId", 403),
    SignatureDoesNotMatch: ("SignatureDoesNotMatch", 403),
    InvalidToken: ("InvalidToken", 400),
    ExpiredToken: ("ExpiredToken", 400),
    ContentSha256Mismatch: ("XAmzContentSHA256Mismatch", 400),
    RequestTimeTooSkewed: ("RequestTimeTooSkewed", 403),
    RequestExpired: ("AccessDenied", 403),
    AccessDeniedSignature: ("AccessDenied", 403),
    MissingSecurityHeader: ("MissingSecurityHeader", 400),
    AuthorizationHeaderMalformed: ("AuthorizationHeaderMalformed", 400),
    AuthorizationQueryParametersError: ("AuthorizationQueryParametersError", 400),
    MissingAuthentication: ("AccessDenied", 403),
    HeaderTooLarge: ("RequestHeaderSectionTooLarge", 400),
    BodyTooLarge: ("EntityTooLarge", 400),
    InternalFault: ("InternalError", 500),
    StoreReplaced: ("ServiceUnavailable", 503),
    ServiceUnavailable: ("ServiceUnavailable", 503),  # a full disk (DiskFull): SDKs retry
    NoSuchBucket: ("NoSuchBucket", 404),
    BucketAlreadyOwnedByYou: ("BucketAlreadyOwnedByYou", 409),
    BucketNotEmpty: ("BucketNotEmpty", 409),
    NoSuchKey: ("NoSuchKey", 404),
    NoSuchVersion: ("NoSuchVersion", 404),
    MethodNotAllowed: ("MethodNotAllowed", 405),
    PreconditionFailed: ("PreconditionFailed", 412),
    ConditionalRequestConflict: ("ConditionalRequestConflict", 409),
    NotModified: ("NotModified", 304),
    BadDigest: ("BadDigest", 400),
    InvalidRange: ("InvalidRange", 416),
    InvalidPartNumber: ("InvalidPartNumber", 416),
    NoSuchTagSet: ("NoSuchTagSet", 404),
    NoSuchCORSConfiguration: ("NoSuchCORSConfiguration", 404),
    NoSuchUpload: ("NoSuchUpload", 404),
    InvalidPart: ("InvalidPart", 400),
    InvalidPartOrder: ("InvalidPartOrder", 400),
    EntityTooSmall: ("EntityTooSmall", 400),
}

# Where S3's wording differs from the message the error was raised with.
S3_MESSAGES: Final[dict[type[StrataError], str]] = {
    MissingAuthentication: "Access Denied",
}


def error_document(code: str, message: str, request_id: str, details: dict[str, str]) -> bytes:
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in details.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    ).encode()


def s3_code(exc: StrataError) -> str:
    """S3's error code for ``exc`` (for per-key errors inside a document)."""
    try:
        return lookup(S3_ERRORS, exc)[0]
    except KeyError:
        return "InternalError"


def error_headers(exc: StrataError) -> list[tuple[str, str]]:
    """Headers some S3 errors carry besides the document."""
    if isinstance(exc, NoSuchKey) and exc.delete_marker_version is not None:
        return [("x-amz-delete-marker", "true"), ("x-amz-version-id", exc.delete_marker_version)]
    if isinstance(exc, MethodNotAllowedHere):
        return [("allow", exc.allow)] if exc.allow else []
    if isinstance(exc, MethodNotAllowed):
        return [
            ("x-amz-delete-marker", "true"),
            ("x-amz-version-id", exc.version_id),
            ("allow", "DELETE"),
        ]
    if isinstance(exc, InvalidRange):
        return [("content-range", f"bytes */{exc.size_bytes}")]
    if isinstance(exc, NotModified):
        return [
            ("etag", f'"{exc.etag}"'),
            ("last-modified", formatdate(exc.last_modified_ms // 1000, usegmt=True)),
        ]
    return []


def render_error(exc: StrataError, request: Request) -> Response:
    try:
        code, status = lookup(S3_ERRORS, exc)
    except KeyError:
        code, status = S3_ERRORS[InternalFault]
        exc = InternalFault()
    message = S3_MESSAGES.get(type(exc), exc.message)
    body = error_document(code, message, request.request_id, exc.details)
    headers = [("content-type", "application/xml"), *error_headers(exc)]
    if request.method == "HEAD" or status == 304:
        body = b""
    return Response(
        status=status, headers=headers, body=body, error_code=code, error_message=message
    )
