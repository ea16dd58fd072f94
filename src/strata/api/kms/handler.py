"""KMS on the shared port: ``X-Amz-Target: TrentService.<Operation>``, JSON 1.1.

The target names the operation; the body is checked against botocore's model
(``checks.py``), then one function of ``operations.py`` answers it. KMS operations Strata
does not build (grants, asymmetric keys, custom key stores, ...) answer 501; a target
that is no KMS operation is UnknownOperationException, as AWS.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from strata import limits
from strata.api.http import Request, Response
from strata.api.kms.checks import check_request
from strata.api.kms.errors import CONTENT_TYPE, render_error
from strata.api.kms.model import OPERATIONS as KMS_OPERATIONS
from strata.api.kms.operations import OPERATIONS, KmsContext
from strata.errors import ProtocolError, StrataError
from strata.service.iam.access import AccessControl
from strata.service.kms.keys import KeyService
from strata.service.tables.errors import SerializationError

TARGET_PREFIX: Final = "TrentService."
REQUEST_BYTES_MAX: Final = 1024 * 1024  # a KMS request is small: 4 KiB plaintext, 6 KiB blobs
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


class KmsApi:
    name = "kms"
    request_id_header = "x-amzn-RequestId"

    def __init__(self, keys: KeyService, access: AccessControl) -> None:
        self.keys = keys
        self.access = access

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        operation = request.headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
        run = OPERATIONS.get(operation)
        if run is None:
            if operation in KMS_OPERATIONS:
                request.operation = operation
                raise ProtocolError(
                    "NotImplemented", f"Strata does not implement KMS {operation}.", 501
                )
            raise ProtocolError("UnknownOperationException", "")
        request.operation = operation
        body = await request.body.read(min(REQUEST_BYTES_MAX, limits.dynamodb_body_bytes_max))
        try:
            req = _decode(body) if body.strip() else {}
        except (msgspec.DecodeError, RecursionError):
            raise SerializationError("Malformed JSON body.") from None
        checked = check_request(operation, req)
        ctx = KmsContext(self.keys, self.access, request)
        result = await run(ctx, checked)
        return Response(status=200, headers=[("content-type", CONTENT_TYPE)], body=_encode(result))

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)
