"""The DynamoDB protocol entry point: decode JSON, call the tables service, encode."""

from __future__ import annotations

from strata.api.dynamodb.errors import render_error
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError


class DynamoDbApi:
    name = "dynamodb"
    request_id_header = "x-amzn-RequestId"

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        request.operation = target.partition(".")[2] or "unknown"
        raise ProtocolError("UnknownOperationException", "", 400)

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)
