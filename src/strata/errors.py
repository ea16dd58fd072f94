"""Errors raised on purpose, and how each protocol names them.

Tree::

    StrataError                      base; carries a human message
      AuthError                      authentication failed (protocol picks the code)
        InvalidAccessKeyId           access key unknown
        SignatureDoesNotMatch        signature, or a chunk signature, is wrong
        ContentSha256Mismatch        x-amz-content-sha256 does not match the body
        RequestTimeTooSkewed         more than 15 minutes between client and server clocks
        RequestExpired               presigned URL past its expiry
        AccessDeniedSignature        SigV2 request without a usable date or expiry
        MissingSecurityHeader        no credentials at all / required header missing
        AuthorizationHeaderMalformed header or credential scope cannot be parsed
        AuthorizationQueryParametersError  presigned query parameters malformed
      RequestLimitExceeded           a limit in `strata.limits` was passed
        HeaderTooLarge               request headers over the cap
        BodyTooLarge                 request body over the cap for the operation
      ServiceUnavailable             the server cannot take the request now; a retry may work
        DiskFull                     the data directory's disk is full: writes refused
      ProtocolError                  an error already named by its protocol (code, status)
      InternalFault                  our own bug, surfaced as InternalError
        StorageFault                 the storage engine failed a read (logged at ERROR)
          DataCorruption             stored bytes fail their checksum, or are missing/short

Services raise domain errors; each protocol renders them through one table keyed by
exception type (looked up along ``type(exc).__mro__``), see ``api/s3/errors.py`` and
``api/dynamodb/errors.py``. ``ProtocolError`` is for errors that only exist in one
protocol's vocabulary (for example S3 ``InvalidArgument``) and carries its own code and
status so it needs no table entry.
"""

from __future__ import annotations

import errno


class StrataError(Exception):
    """Base of errors raised on purpose. The message is safe to show to the client."""

    default_message = "An error occurred"

    def __init__(self, message: str | None = None, **details: str) -> None:
        self.message = message if message is not None else self.default_message
        # Extra fields a protocol may show (S3 puts them in <Error>: BucketName, Key, ...).
        self.details = details
        super().__init__(self.message)


class AuthError(StrataError):
    """Authentication failed; each protocol maps the subclass to its own code."""


class InvalidAccessKeyId(AuthError):
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(AuthError):
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )


class ContentSha256Mismatch(AuthError):
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class AccessDeniedSignature(AuthError):
    """A signature that cannot be checked (SigV2 without a usable date or expiry)."""

    default_message = "Access Denied"


class RequestTimeTooSkewed(AuthError):
    default_message = "The difference between the request time and the current time is too large."


class RequestExpired(AuthError):
    default_message = "Request has expired"


class MissingSecurityHeader(AuthError):
    default_message = "Your request was missing a required header"


class AuthorizationHeaderMalformed(AuthError):
    default_message = "The authorization header is malformed."


class AuthorizationQueryParametersError(AuthError):
    default_message = (
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
    )


class InvalidToken(AuthError):
    """The session token is not the one issued with the temporary access key (or a
    permanent key came with a token)."""

    default_message = "The provided token is malformed or otherwise invalid."


class ExpiredToken(AuthError):
    """Temporary credentials past their expiration, by the store clock."""

    default_message = "The provided token has expired."


class RequestLimitExceeded(StrataError):
    """A bound from ``strata.limits`` was passed by the client."""


class HeaderTooLarge(RequestLimitExceeded):
    default_message = "Your HTTP headers exceed the maximum allowed size."


class BodyTooLarge(RequestLimitExceeded):
    default_message = "Your proposed upload exceeds the maximum allowed size"


class ServiceUnavailable(StrataError):
    """A temporary condition of the server, not of the request: clients retry (503)."""

    default_message = "Service is unable to handle request."


class DiskFull(ServiceUnavailable):
    """The data directory's filesystem is full: nothing new is written until space is freed.

    Raised before a write touches a file when the free space is below the minimum, and in
    place of any ENOSPC; the failed write leaves nothing behind."""

    default_message = (
        "Service is unable to handle request: the server's disk is full. "
        "Retry after space is freed."
    )

    @staticmethod
    def is_cause(exc: OSError) -> bool:
        """Whether an OS error means "no space" (ENOSPC, or a quota: EDQUOT)."""
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class ProtocolError(StrataError):
    """An error that exists only in one protocol's vocabulary: carries code and status."""

    def __init__(self, code: str, message: str, status: int = 400, **details: str) -> None:
        self.code = code
        self.status = status
        super().__init__(message, **details)


class InternalFault(StrataError):
    """Our bug, not the client's; rendered as InternalError / InternalServerError."""

    default_message = "We encountered an internal error. Please try again."


class StorageFault(InternalFault):
    """RocksDB (or a blob file) could not give back what was stored.

    ``detail`` is for the log (file names, offsets); the client sees only the protocol's
    internal error, never a short listing or a NoSuchKey in place of the damage."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__()


class DataCorruption(StorageFault):
    """Stored bytes fail their checksum, or a file is missing or shorter than recorded."""


class StoreReplaced(StrataError):
    """The store was replaced (snapshot restore, reset) while this request ran: its write
    would land in a store it never read. Rendered as ServiceUnavailable 503 (retryable)."""

    default_message = "The store was restored or reset while this request ran; retry it."


def lookup(table: dict[type[StrataError], tuple[str, int]], exc: StrataError) -> tuple[str, int]:
    """Find the protocol's (code, status) for ``exc`` along its class hierarchy."""
    if isinstance(exc, ProtocolError):
        return exc.code, exc.status
    for cls in type(exc).__mro__:
        hit = table.get(cls)  # type: ignore[arg-type]
        if hit is not None:
            return hit
    raise KeyError(type(exc).__name__)
