"""The S3 protocol entry point: route, call the objects service, serialise."""

from __future__ import annotations

from strata.api.http import Request, Response
from strata.api.s3.errors import render_error
from strata.errors import ProtocolError, StrataError


class S3Api:
    name = "s3"
    request_id_header = "x-amz-request-id"

    async def handle(self, request: Request) -> Response:
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)
