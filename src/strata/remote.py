"""Talk to a running server: admin endpoints, S3 and DynamoDB, over standard-library HTTP.

A plain install has neither boto3 nor requests, so the commands that talk to a server
(``strata snapshot``, ``strata ls``) and ``strata.testing`` use ``http.client`` and sign
with ``strata.bench``'s SigV4 signer. The server is found as the AWS CLI finds one:
``--endpoint``, else ``AWS_ENDPOINT_URL``; credentials from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, else the root key in a local data directory's credentials.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from strata.bench.sigv4 import Signer, canonical_query, uri_encode_path

DEFAULT_ENDPOINT: Final = "http://127.0.0.1:4566"
DEFAULT_REGION: Final = "us-east-1"
DYNAMODB_CONTENT_TYPE: Final = "application/x-amz-json-1.0"


class RemoteError(Exception):
    """The server answered with an error (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}" if code else message)


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials({self.access_key!r}, ...)"


def find_endpoint(endpoint: str | None, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return endpoint or environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def find_region(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def find_credentials(data_dir: str | None, environ: Mapping[str, str] | None = None) -> Credentials:
    """The variables the AWS CLI reads, else the root key of a local data directory."""
    environ = os.environ if environ is None else environ
    access_key = environ.get("AWS_ACCESS_KEY_ID")
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        return Credentials(access_key, secret_key)
    if data_dir is not None:
        from strata.credentials import FILE_NAME, KeyRing

        if os.path.exists(os.path.join(data_dir, FILE_NAME)):
            root = KeyRing(data_dir).root()
            if root is not None:
                return Credentials(root.access_key, root.secret_key)
    where = f" and {data_dir} has no credentials file" if data_dir else ""
    raise RemoteError(
        0,
        "NoCredentials",
        f"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (they are unset{where})",
    )


class Remote:
    """One server, one access key. Each call opens a connection (admin traffic is light)."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str = DEFAULT_REGION,
        timeout_s: float = 120.0,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(0, "InvalidEndpoint", f"not an http(s) URL: {endpoint}")
        self.endpoint = endpoint
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._host = parts.hostname
        self._port = parts.port
        self._timeout_s = timeout_s
        self._signers = {
            service: Signer(credentials.access_key, credentials.secret_key, region, service)
            for service in ("s3", "dynamodb")
        }

    @contextmanager
    def open(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
        service: str = "s3",
    ) -> Iterator[http.client.HTTPResponse]:
        """Send a signed request; the response is read inside the ``with``."""
        query_text = canonical_query(query)
        payload_hash = hashlib.sha256(body).hexdigest()
        signed = self._signers[service].sign(
            method,
            uri_encode_path(path),
            query_text,
            [("host", self._netloc), *((k.lower(), v) for k, v in headers)],
            payload_hash,
            content_sha256_header=True,
        )
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=self._timeout_s)
        url = uri_encode_path(path) + (f"?{query_text}" if query_text else "")
        try:
            try:
                connection.request(method, url, body=body, headers=dict(signed))
                response = connection.getresponse()
            except OSError as exc:
                raise RemoteError(0, "ConnectionFailed", f"cannot reach {self.endpoint}: {exc}")
            with response:
                yield response
        finally:
            connection.close()

    def call(self, method: str, path: str, **options: Any) -> tuple[int, bytes]:
        with self.open(method, path, **options) as response:
            return response.status, response.read()
        raise AssertionError("unreachable")

    # -- admin ---------------------------------------------------------------------------

    def admin(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        document: Any = None,
    ) -> Any:
        """A ``/_strata/...`` endpoint's JSON answer (``document``: a JSON body to send);
        ``RemoteError`` for an error."""
        body = b"" if document is None else json.dumps(document).encode()
        status, answer = self.call(method, "/_strata/" + path, query=query, body=body)
        return json_or_raise(status, answer)

    def clock(self, change: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The store clock (``{"now", "offset_s"}``), after ``change`` (``{"advance_s": N}``
        or ``{"set": ISO}``) when given."""
        if change is None:
            shown: dict[str, Any] = self.admin("GET", "clock")
        else:
            shown = self.admin("POST", "clock", document=dict(change))
        return shown

    def admin_events(self, method: str, path: str) -> Iterator[dict[str, Any]]:
        """A streamed admin answer (restore): one JSON event per line, as they come."""
        with self.open(method, "/_strata/" + path) as response:
            if response.status >= 300:
                json_or_raise(response.status, response.read())
            for line in response:
                if line.strip():
                    event: dict[str, Any] = json.loads(line)
                    yield event

    # -- protocols -----------------------------------------------------------------------

    def dynamodb(self, operation: str, request: Mapping[str, Any]) -> Any:
        status, body = self.call(
            "POST",
            "/",
            body=json.dumps(request).encode(),
            headers=[
                ("content-type", DYNAMODB_CONTENT_TYPE),
                ("x-amz-target", f"DynamoDB_20120810.{operation}"),
            ],
            service="dynamodb",
        )
        document = json.loads(body) if body else {}
        if status >= 300:
            code = str(document.get("__type", "")).rpartition("#")[2]
            raise RemoteError(status, code, document.get("message", document.get("Message", "")))
        return document

    def s3(self, method: str, path: str, query: Sequence[tuple[str, str]] = ()) -> bytes:
        """An S3 call's XML body; ``RemoteError`` with the error document's code."""
        status, body = self.call(method, path, query=query)
        if status >= 300:
            from defusedxml import ElementTree

            code = message = ""
            try:
                root = ElementTree.fromstring(body)
                code = root.findtext("Code") or ""
                message = root.findtext("Message") or ""
            except Exception:
                message = body[:200].decode(errors="replace")
            raise RemoteError(status, code, message)
        return body


def json_or_raise(status: int, body: bytes) -> Any:
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        raise RemoteError(status, "", body[:200].decode(errors="replace"))
    if status >= 300:
        error = document.get("error", "") if isinstance(document, dict) else ""
        message = document.get("message", "") if isinstance(document, dict) else ""
        raise RemoteError(status, str(error), str(message))
    return document
