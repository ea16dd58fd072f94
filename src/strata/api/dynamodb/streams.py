"""DynamoDB Streams (X-Amz-Target DynamoDBStreams_20120810.*): dispatched here, same JSON errors.

The stream records themselves come with the Streams issue; until then every operation is
answered with DynamoDB's JSON error for an operation this endpoint does not serve.
"""

from __future__ import annotations

from typing import Final

from strata.api.dynamodb.errors import render_error
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError

STREAMS_OPERATIONS: Final = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")


class StreamsApi:
    name = "streams"
    request_id_header = "x-amzn-RequestId"

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        request.operation = target.partition(".")[2] or "unknown"
        raise ProtocolError(
            "UnknownOperationException", f"Operation {request.operation} is not supported yet."
        )

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)
