"""DynamoDB Streams (X-Amz-Target DynamoDBStreams_20120810.*): the same JSON protocol and
error table as DynamoDB, over ``service.tables.streams``.

It answers through the DynamoDB API's current ``TableOperations`` (looked up per request),
so a store replaced by a restore or reset is seen at once.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

import msgspec

from strata import limits
from strata.api.dynamodb.errors import render_error
from strata.api.dynamodb.handler import CONTENT_TYPE, DynamoDbApi
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.streams import iterator_stream_arn

STREAMS_OPERATIONS: Final = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


class StreamsApi:
    name = "streams"
    request_id_header = "x-amzn-RequestId"

    def __init__(self, dynamodb: DynamoDbApi | None = None) -> None:
        self.dynamodb = dynamodb

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.partition(".")[2]
        request.operation = operation or "unknown"
        tables = self.dynamodb.tables if self.dynamodb is not None else None
        if tables is None or operation not in STREAMS_OPERATIONS:
            raise ProtocolError("UnknownOperationException", "", 400)
        body = await request.body.read(limits.dynamodb_body_bytes_max)
        try:
            req = _decode(body) if body else {}
        except (msgspec.DecodeError, RecursionError):
            raise SerializationError("Start of structure or map found where not expected.")
        for name in _REQUIRED[operation]:
            if req.get(name) is None:
                raise ValidationError(
                    f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' "
                    "failed to satisfy constraint: Member must not be null"
                )
        self._authorize(request, operation, req)
        result = tables.stream_routes()[operation](req)
        out = _encode(result)
        return Response(
            status=200,
            headers=[("content-type", CONTENT_TYPE), ("x-amz-crc32", str(zlib.crc32(out)))],
            body=out,
        )

    def _authorize(self, request: Request, operation: str, req: dict[str, Any]) -> None:
        """``dynamodb:<Operation>`` on the stream's ARN (ListStreams: on ``*``), as IAM's
        reference for DynamoDB Streams lists them; the root's fast path first."""
        principal = request.principal
        if (principal is not None and principal.root) or self.dynamodb is None:
            return
        if operation == "ListStreams":
            resource = "*"
        elif operation == "GetRecords":
            resource = iterator_stream_arn(req.get("ShardIterator"))
        else:
            arn = req.get("StreamArn")
            resource = arn if isinstance(arn, str) else ""
        self.dynamodb.access.authorize(
            principal, f"dynamodb:{operation}", resource, {"aws:SourceIp": request.client_host}
        )

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)


_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "ListStreams": (),
    "DescribeStream": ("StreamArn",),
    "GetShardIterator": ("StreamArn", "ShardId", "ShardIteratorType"),
    "GetRecords": ("ShardIterator",),
}
