"""Bad input over raw HTTP: oversized uploads are refused before a byte is stored."""

from __future__ import annotations

import http.client
from typing import Any

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import RunningServer


def test_entity_too_large(server: RunningServer, s3: Any, bucket: str) -> None:
    size = 5 * 1024**3 + 1
    url = f"{server.endpoint}/{bucket}/huge"
    request = AWSRequest(
        method="PUT",
        url=url,
        headers={"Content-Length": str(size), "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(
        request
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("PUT", f"/{bucket}/huge", skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(b"x" * 1024)  # a start, never the whole body
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 400
    assert b"<Code>EntityTooLarge</Code>" in body
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
