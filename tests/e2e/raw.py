"""Hand-made requests, signed with botocore's SigV4 so they reach the handlers.

boto3 refuses to send what its model forbids (wrong types, unknown subresources); hostile
tests need to send exactly that. One keep-alive connection, a timeout on every request.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import RunningServer

TIMEOUT_S = 10.0


class RawClient:
    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.credentials = Credentials(server.access_key, server.secret_key)
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT_S)

    def close(self) -> None:
        self.connection.close()

    def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send as is (already signed); (status, lower-case headers, body)."""
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                reply = self.connection.getresponse()
                data = reply.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close a connection after an error answer; reconnect once.
                self.connection.close()
                if attempt == 2:
                    raise
                continue
            if reply.getheader("connection", "").lower() == "close":
                self.connection.close()
            return reply.status, {k.lower(): v for k, v in reply.getheaders()}, data
        raise AssertionError("unreachable")

    def dynamodb(self, operation: str, body: bytes | dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST one DynamoDB call; (status, decoded JSON answer)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, _, answer = self.dynamodb_bytes(operation, data)
        return status, json.loads(answer) if answer else {}

    def dynamodb_bytes(
        self, operation: str, data: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """POST ``data`` as is, with extra ``headers``, signed; (status, headers, body)."""
        request = AWSRequest(
            method="POST",
            url=f"{self.server.endpoint}/",
            data=data,
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                **(headers or {}),
            },
        )
        SigV4Auth(self.credentials, "dynamodb", "us-east-1").add_auth(request)
        return self.send("POST", "/", dict(request.headers.items()), data)

    def s3(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        sign_body: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """One S3 request to ``path`` (with its query), signed; (status, headers, body)."""
        request = AWSRequest(
            method=method, url=f"{self.server.endpoint}{path}", data=body, headers=headers or {}
        )
        if not sign_body:
            request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(self.credentials, "s3", "us-east-1").add_auth(request)
        return self.send(method, path, dict(request.headers.items()), body)


class S3SigV4AuthPayload(S3SigV4Auth):
    """botocore's S3 signer (no path normalisation) with the x-amz-content-sha256 given."""

    def __init__(self, credentials: Credentials, payload_hash: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self.payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        return self.payload_hash
