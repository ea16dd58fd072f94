"""IAM's and STS's names for Strata's errors (one table, looked up along the MRO), and
the ``<ErrorResponse>`` document."""

from __future__ import annotations

from typing import Final

from strata.api.http import Request, Response
from strata.api.query import CONTENT_TYPE, render_error
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
from strata.service.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    IamValidationError,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    NotModifiable,
    PackedPolicyTooLarge,
    StsAccessDenied,
    StsInvalidParameter,
)

_INVALID_TOKEN: Final = "The security token included in the request is invalid."

QUERY_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    NoSuchEntity: ("NoSuchEntity", 404),
    EntityAlreadyExists: ("EntityAlreadyExists", 409),
    DeleteConflict: ("DeleteConflict", 409),
    LimitExceeded: ("LimitExceeded", 409),
    MalformedPolicyDocument: ("MalformedPolicyDocument", 400),
    InvalidInput: ("InvalidInput", 400),
    IamValidationError: ("ValidationError", 400),
    AccessDenied: ("AccessDenied", 403),
    StsAccessDenied: ("AccessDenied", 403),
    StsInvalidParameter: ("InvalidParameterValue", 400),
    PackedPolicyTooLarge: ("PackedPolicyTooLarge", 400),
    NotModifiable: ("AccessDenied", 403),
    InvalidAccessKeyId: ("InvalidClientTokenId", 403),
    InvalidToken: ("InvalidClientTokenId", 403),
    ExpiredToken: ("ExpiredToken", 403),
    SignatureDoesNotMatch: ("SignatureDoesNotMatch", 403),
    ContentSha256Mismatch: ("SignatureDoesNotMatch", 403),
    RequestTimeTooSkewed: ("SignatureDoesNotMatch", 403),
    RequestExpired: ("SignatureDoesNotMatch", 403),
    AccessDeniedSignature: ("IncompleteSignature", 400),
    MissingSecurityHeader: ("IncompleteSignature", 400),
    AuthorizationHeaderMalformed: ("IncompleteSignature", 400),
    AuthorizationQueryParametersError: ("IncompleteSignature", 400),
    MissingAuthentication: ("MissingAuthenticationToken", 403),
    HeaderTooLarge: ("ValidationError", 400),
    BodyTooLarge: ("RequestEntityTooLarge", 413),
    StoreReplaced: ("ServiceUnavailable", 503),
    ServiceUnavailable: ("ServiceUnavailable", 503),
    InternalFault: ("ServiceFailure", 500),
}

_MESSAGES: Final[dict[type[StrataError], str]] = {
    InvalidAccessKeyId: _INVALID_TOKEN,
    InvalidToken: _INVALID_TOKEN,
    ExpiredToken: "The security token included in the request is expired",
}


def error_response(exc: StrataError, request: Request, namespace: str) -> Response:
    try:
        code, status = lookup(QUERY_ERRORS, exc)
    except KeyError:
        exc = InternalFault()
        code, status = QUERY_ERRORS[InternalFault]
    message = _MESSAGES.get(type(exc), exc.message)
    body = render_error(code, message, request.request_id, namespace, sender=status < 500)
    return Response(
        status=status, headers=[("content-type", CONTENT_TYPE)], body=body, error_code=code
    )
