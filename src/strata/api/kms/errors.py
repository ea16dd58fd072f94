"""KMS's names for Strata's errors, and the JSON 1.1 error document.

The key service's errors by AWS code; authentication, denials, a full disk and internal
faults as the shared JSON protocol names them (KMS uses the same codes). KMS answers
every client error with 400, ``{"__type": code, "message": ...}``.
"""

from __future__ import annotations

from typing import Final

import msgspec

from strata.api.dynamodb.errors import DYNAMODB_ERRORS, DYNAMODB_MESSAGES
from strata.api.http import Request, Response
from strata.errors import InternalFault, ProtocolError, StrataError, lookup
from strata.service.kms.errors import AWS_CODES
from strata.service.tables.errors import SerializationError, ValidationError

CONTENT_TYPE: Final = "application/x-amz-json-1.1"

KMS_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    **DYNAMODB_ERRORS,
    ValidationError: ("ValidationException", 400),
    SerializationError: ("SerializationException", 400),
    **{kind: (code, 400) for kind, code in AWS_CODES.items()},
}

_encode = msgspec.json.Encoder().encode


def render_error(exc: StrataError, request: Request) -> Response:
    if isinstance(exc, ProtocolError):
        code, status = exc.code, exc.status
    else:
        try:
            code, status = lookup(KMS_ERRORS, exc)
        except KeyError:
            code, status = KMS_ERRORS[InternalFault]
            exc = InternalFault()
    if code == "InternalServerError":
        code = "KMSInternalException"
    message = DYNAMODB_MESSAGES.get(type(exc), exc.message)
    body = _encode({"__type": code, "message": message})
    return Response(
        status=status,
        headers=[("content-type", CONTENT_TYPE)],
        body=body,
        error_code=code,
        error_message=message,
    )
