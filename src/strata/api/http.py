"""The protocol layer's vocabulary: one request in, one response out, over plain ASGI.

``Request`` holds what every protocol needs already parsed (method, raw path, query,
lower-cased headers) and a ``Body`` that streams the payload. After authentication the
body yields only verified payload bytes: aws-chunked framing removed, every chunk
signature or the payload hash checked; trailing checksums land in ``Body.trailers``.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from strata import limits
from strata.errors import BodyTooLarge, HeaderTooLarge, ProtocolError, StrataError
from strata.service.iam.principal import Principal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


_REQUEST_ID_PREFIX = secrets.token_hex(4).upper()  # this process
_request_ids = itertools.count(1)


def new_request_id() -> str:
    """Unique per request: a random per-process prefix and a counter (no syscall)."""
    return f"{_REQUEST_ID_PREFIX}{next(_request_ids):08X}"


class Body:
    """The request payload as an async stream of chunks; read at most once."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._source: AsyncIterator[bytes] = self._from_asgi()
        self.trailers: dict[str, str] = {}
        self.consumed = False
        self._kept: bytes | None = None

    def keep(self, data: bytes) -> None:
        """The whole body was read (to hash it): serve it again from memory, once."""
        self._kept = data
        self._source = _replay(data)

    async def _from_asgi(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ProtocolError("IncompleteBody", "The client closed the connection.")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def wrap(self, transform: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]) -> None:
        """Put a decoding/verifying stage in front of the consumer (used by SigV4)."""
        self._source = transform(self._source)

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.consumed = True
        return self._source

    async def read(self, max_bytes: int) -> bytes:
        """The whole payload; ``BodyTooLarge`` past ``max_bytes``."""
        if self._kept is not None:
            data, self._kept = self._kept, None
            self.consumed = True
            if len(data) > max_bytes:
                raise BodyTooLarge()
            return data
        parts: list[bytes] = []
        size = 0
        async for chunk in self:
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge()
            parts.append(chunk)
        return b"".join(parts)

    async def drain(self) -> None:
        """Discard what the client still sends, so the connection can be reused."""
        if not self.consumed:
            try:
                async for _ in self:
                    pass
            except Exception:
                pass


async def _replay(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


@dataclass(slots=True)
class Request:
    method: str
    raw_path: str  # path exactly as sent, still percent-encoded
    query_string: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: Body
    request_id: str
    client_host: str = ""
    query: dict[str, str] = field(default_factory=dict)  # decoded; first value of each name
    access_key: str | None = None  # set once SigV4 verified the request
    principal: Principal | None = None  # who signed it (None: not authenticated, anonymous)
    signing_service: str = ""  # the credential scope's service ("s3", "dynamodb", "iam", ...)
    content_sha256: str | None = None
    operation: str = "unknown"  # set by the protocol's router, for metrics and logs
    resource: str = ""  # bucket/key or table the request names, for the access log
    secure: bool = False  # came over TLS (the connection's scheme, never a header)

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive) -> Request:
        raw_headers = scope["headers"]
        if len(raw_headers) > limits.header_count_max:
            raise HeaderTooLarge()
        # ASGI servers lower-case header names (the spec requires it): decode in one pass,
        # and merge repeated headers only when there are some.
        headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in raw_headers}
        if len(headers) != len(raw_headers):
            headers = _merge_headers(raw_headers)
        if sum(map(len, headers)) + sum(map(len, headers.values())) > limits.header_bytes_max:
            raise HeaderTooLarge()
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        if "?" in path:
            path = path.split("?", 1)[0]
        query_string = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        if query_string:
            for name, value in parse_qsl(query_string, keep_blank_values=True):
                query.setdefault(name, value)
        client = scope.get("client")
        return cls(
            method=scope["method"],
            raw_path=path,
            query_string=query_string,
            headers=headers,
            body=Body(receive),
            request_id=new_request_id(),
            client_host=client[0] if client else "",
            query=query,
            secure=scope.get("scheme") == "https",
        )


def _merge_headers(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with "," (as SigV4 expects)."""
    headers: dict[str, str] = {}
    for name_b, value_b in raw_headers:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


@dataclass(slots=True)
class FileRange:
    """Bytes of a file to send as they are: the server may use zero-copy sendfile."""

    path: str
    offset: int
    length: int
    whole_file: bool = False  # the range is the entire file: eligible for pathsend


@dataclass(frozen=True, slots=True)
class BodyDigest:
    """What a whole object's file body must hash to, checked as it is sent.

    ``algorithm`` is "MD5" (``expected`` is then the ETag: with ``per_file``, of a
    multipart object whose files are its parts) or a checksum algorithm (``expected`` is
    the hex of the digest, or with ``per_file`` of the files' digests joined). ``name``
    says which object, for the log."""

    algorithm: str
    per_file: bool
    expected: str
    name: str


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes | bytearray] | None = None  # when set, sent chunk by chunk
    files: list[FileRange] | None = None  # when set, sent from disk
    length: int | None = None  # Content-Length for stream/files bodies
    digest: BodyDigest | None = None  # files or stream: verified while sent (whole objects)
    error_code: str | None = None  # for metrics and the access log
    error_message: str | None = None  # for the audit trail


class ProtocolApi(Protocol):
    """One protocol (S3, DynamoDB, DynamoDB Streams) behind the shared port."""

    name: str  # "s3", "dynamodb", "streams": the metrics label
    request_id_header: str  # "x-amz-request-id" or "x-amzn-RequestId"

    def anonymous(self, request: Request) -> bool:
        """Requests this protocol authenticates itself, or not at all (S3: CORS preflight,
        POST Object forms, which sign their policy field instead)."""
        ...

    async def handle(self, request: Request) -> Response:
        """Answer an authenticated request; raise ``StrataError`` for client errors."""
        ...

    def error_response(self, exc: StrataError, request: Request) -> Response:
        """Render an error in the protocol's format (XML for S3, JSON for DynamoDB)."""
        ...
