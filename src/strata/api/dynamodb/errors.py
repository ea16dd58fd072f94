"""DynamoDB's names for Strata's errors, and the JSON error document (``__type``).

One table maps each ``StrataError`` type to DynamoDB's (code, HTTP status), looked up along
the class hierarchy. Service-layer errors are added here as the tables service grows.
"""

from __future__ import annotations

from typing import Final
from zlib import crc32

import msgspec

from strata.api.http import Request, Response
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
from strata.service.tables.backup_errors import (
    BackupInUse,
    BackupNotFound,
    ExportConflict,
    ExportNotFound,
    ImportConflict,
    ImportNotFound,
    InvalidExportTime,
    PointInTimeRecoveryUnavailable,
    TableAlreadyExists,
    TableInUse,
    TableNotFound,
)
from strata.service.tables.errors import (
    ConditionalCheckFailed,
    SerializationError,
    TablesError,
    ValidationError,
)
from strata.service.tables.resource_policies import PolicyNotFound
from strata.service.tables.service_errors import (
    DuplicateItemExists,
    ExpiredIterator,
    IdempotentParameterMismatch,
    InvalidRestoreTime,
    ItemCollectionSizeLimitExceeded,
    LimitExceeded,
    ResourceInUse,
    ResourceNotFound,
    TransactionCanceled,
    TransactionConflict,
    TrimmedDataAccess,
)

DYNAMODB_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    AccessDenied: ("AccessDeniedException", 400),
    InvalidAccessKeyId: ("UnrecognizedClientException", 400),
    SignatureDoesNotMatch: ("InvalidSignatureException", 400),
    InvalidToken: ("UnrecognizedClientException", 400),
    ExpiredToken: ("ExpiredTokenException", 400),
    ContentSha256Mismatch: ("InvalidSignatureException", 400),
    RequestTimeTooSkewed: ("InvalidSignatureException", 400),
    RequestExpired: ("InvalidSignatureException", 400),
    AccessDeniedSignature: ("IncompleteSignatureException", 400),
    MissingSecurityHeader: ("IncompleteSignatureException", 400),
    AuthorizationHeaderMalformed: ("IncompleteSignatureException", 400),
    AuthorizationQueryParametersError: ("IncompleteSignatureException", 400),
    MissingAuthentication: ("MissingAuthenticationTokenException", 400),
    HeaderTooLarge: ("ValidationException", 400),
    BodyTooLarge: ("RequestEntityTooLarge", 413),
    InternalFault: ("InternalServerError", 500),
    StoreReplaced: ("ServiceUnavailable", 503),
    # A full disk (DiskFull): AWS DynamoDB's documented 503, which the SDKs retry.
    ServiceUnavailable: ("ServiceUnavailable", 503),
    TablesError: ("ValidationException", 400),
    ValidationError: ("ValidationException", 400),
    SerializationError: ("SerializationException", 400),
    ConditionalCheckFailed: ("ConditionalCheckFailedException", 400),
    ResourceNotFound: ("ResourceNotFoundException", 400),
    PolicyNotFound: ("PolicyNotFoundException", 400),
    ResourceInUse: ("ResourceInUseException", 400),
    LimitExceeded: ("LimitExceededException", 400),
    ItemCollectionSizeLimitExceeded: ("ItemCollectionSizeLimitExceededException", 400),
    TransactionCanceled: ("TransactionCanceledException", 400),
    TransactionConflict: ("TransactionConflictException", 400),
    IdempotentParameterMismatch: ("IdempotentParameterMismatchException", 400),
    ExpiredIterator: ("ExpiredIteratorException", 400),
    TrimmedDataAccess: ("TrimmedDataAccessException", 400),
    DuplicateItemExists: ("DuplicateItemException", 400),
    InvalidRestoreTime: ("InvalidRestoreTimeException", 400),
    TableNotFound: ("TableNotFoundException", 400),
    TableInUse: ("TableInUseException", 400),
    TableAlreadyExists: ("TableAlreadyExistsException", 400),
    BackupNotFound: ("BackupNotFoundException", 400),
    BackupInUse: ("BackupInUseException", 400),
    ExportNotFound: ("ExportNotFoundException", 400),
    ExportConflict: ("ExportConflictException", 400),
    ImportNotFound: ("ImportNotFoundException", 400),
    ImportConflict: ("ImportConflictException", 400),
    InvalidExportTime: ("InvalidExportTimeException", 400),
    PointInTimeRecoveryUnavailable: ("PointInTimeRecoveryUnavailableException", 400),
}

DYNAMODB_MESSAGES: Final[dict[type[StrataError], str]] = {
    InvalidAccessKeyId: "The security token included in the request is invalid.",
    InvalidToken: "The security token included in the request is invalid.",
    ExpiredToken: "The security token included in the request is expired",
    SignatureDoesNotMatch: (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    ),
    RequestTimeTooSkewed: "Signature expired: the request time is too far from the server time.",
}

# Errors AWS reports from its front door use the coral namespace, the rest DynamoDB's.
_CORAL: Final = {
    "UnrecognizedClientException",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "RequestEntityTooLarge",
    "SerializationException",
    "ServiceUnavailable",
}

_encoder = msgspec.json.Encoder()


def render_error(exc: StrataError, request: Request) -> Response:
    try:
        code, status = lookup(DYNAMODB_ERRORS, exc)
    except KeyError:
        code, status = DYNAMODB_ERRORS[InternalFault]
        exc = InternalFault()
    if code == "ValidationException":
        namespace = "com.amazon.coral.validate"
    elif code in _CORAL:
        namespace = "com.amazon.coral.service"
    else:
        namespace = "com.amazonaws.dynamodb.v20120810"
    message = DYNAMODB_MESSAGES.get(type(exc), exc.message)
    document: dict[str, object] = {"__type": f"{namespace}#{code}", "message": message}
    extra = getattr(exc, "document_fields", None)
    if callable(extra):
        document.update(extra())
    elif isinstance(exc, ConditionalCheckFailed) and exc.item is not None:
        document["Item"] = exc.item
    body = _encoder.encode(document)
    return Response(
        status=status,
        headers=[("content-type", "application/x-amz-json-1.0"), ("x-amz-crc32", str(crc32(body)))],
        body=body,
        error_code=code,
        error_message=message,
    )
