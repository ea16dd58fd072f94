"""StrataApp dispatch and error handling, driven through the ASGI interface directly."""

from __future__ import annotations

import asyncio
from typing import Any

from strata.api.asgi import StrataApp
from strata.api.http import Request, Response
from strata.api.metrics import Metrics
from strata.errors import ProtocolError, StrataError
from strata.service.iam.principal import Principal
from strata.storage.clock import ManualClock


class Recorder:
    """A protocol that answers with its own name, or raises what it is told to."""

    request_id_header = "x-test-request-id"

    def __init__(self, name: str, raises: Exception | None = None) -> None:
        self.name = name
        self.raises = raises

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        request.operation = "Op"
        if self.raises is not None:
            raise self.raises
        return Response(200, [("content-type", "text/plain")], self.name.encode())

    def error_response(self, exc: StrataError, request: Request) -> Response:
        code = exc.code if isinstance(exc, ProtocolError) else type(exc).__name__
        return Response(500 if code == "InternalFault" else 400, [], code.encode(), error_code=code)


def call(
    app: StrataApp, method: str, path: str, headers: dict[str, str]
) -> tuple[int, bytes, dict[str, str]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], body, {k.decode(): v.decode() for k, v in start["headers"]}


def make_app(**protocols: Recorder) -> StrataApp:
    return StrataApp(
        s3=protocols.get("s3", Recorder("s3")),
        dynamodb=protocols.get("dynamodb", Recorder("dynamodb")),
        streams=protocols.get("streams", Recorder("streams")),
        keys=_NoKeys(),
        clock=ManualClock(),
        metrics=Metrics(),
        auth_enabled=False,
    )


class _NoKeys:
    def lookup(
        self, access_key: str, session_token: str | None = None
    ) -> tuple[str, Principal] | None:
        return None

    def note_used(self, access_key: str, service: str, region: str) -> None:
        pass


def test_dispatch_by_target_header() -> None:
    app = make_app()
    assert call(app, "POST", "/", {"x-amz-target": "DynamoDB_20120810.GetItem"})[1] == b"dynamodb"
    assert (
        call(app, "POST", "/", {"x-amz-target": "DynamoDBStreams_20120810.ListStreams"})[1]
        == b"streams"
    )
    assert call(app, "GET", "/bucket/key", {})[1] == b"s3"
    # A GET with a DynamoDB target is still S3: only POSTs carry the JSON protocols.
    assert call(app, "GET", "/", {"x-amz-target": "DynamoDB_20120810.GetItem"})[1] == b"s3"


def test_unexpected_exception_becomes_internal_error_with_request_id() -> None:
    app = make_app(s3=Recorder("s3", RuntimeError("boom")))
    status, body, headers = call(app, "GET", "/bucket", {})
    assert status == 500
    assert body == b"InternalFault"
    assert headers["x-test-request-id"]


def test_oversized_headers_are_refused() -> None:
    app = make_app()
    status, body, _ = call(app, "GET", "/bucket", {"x-amz-meta-big": "x" * 20000})
    assert (status, body) == (400, b"HeaderTooLarge")


def test_metrics_count_requests_and_errors() -> None:
    app = make_app(s3=Recorder("s3", ProtocolError("NoSuchKey", "missing", 404)))
    call(app, "GET", "/bucket/key", {})
    text = app.metrics.render()
    assert 'strata_requests_total{service="s3",operation="Op",status="400"} 1' in text
    assert 'strata_errors_total{service="s3",code="NoSuchKey"} 1' in text


def test_health_endpoint() -> None:
    status, body, _ = call(make_app(), "GET", "/_strata/health", {})
    assert status == 200
    assert b'"ok"' in body
