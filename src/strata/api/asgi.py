"""The one ASGI application behind the shared port.

Dispatch: a POST whose ``X-Amz-Target`` starts ``DynamoDB_20120810.`` goes to DynamoDB,
``DynamoDBStreams_20120810.`` to Streams, ``TrentService.`` to KMS, a POST signed for
``iam`` or ``sts`` (the SigV4 credential scope) to IAM or STS, ``/_strata/*`` to health,
metrics and the admin endpoints (``admin.py``), and everything else to S3. Each request is
authenticated (SigV4) before its protocol sees it; every exception becomes that protocol's
error document, never a hung connection.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Final

from strata import __version__
from strata.api.admin import AdminApi, RequestGate
from strata.api.audit import audit_call
from strata.api.cloudtrail import TARGET_PREFIX as CLOUDTRAIL_PREFIX
from strata.api.http import (
    BodyDigest,
    FileRange,
    ProtocolApi,
    Receive,
    Request,
    Response,
    Scope,
    Send,
)
from strata.api.metrics import Metrics
from strata.api.sigv4 import authenticate
from strata.errors import (
    DataCorruption,
    HeaderTooLarge,
    InternalFault,
    StorageFault,
    StrataError,
)
from strata.service.audit.trail import AuditTrail
from strata.service.iam.access import acting
from strata.service.iam.principal import (
    DEFAULT_ACCOUNT_ID,
    KeyLookup,
    Principal,
    root_principal,
)
from strata.storage.checksums import Hasher, etag, new_hasher
from strata.storage.clock import Clock

log = logging.getLogger("strata.api")
access_log = logging.getLogger("strata.access")


def access_fields(
    request: Request, service: str, response: Response, bytes_in: int, bytes_out: int,
    elapsed_s: float,
) -> dict[str, str | int | float]:  # fmt: skip
    """One request for the operator: who, from where, did what to which resource, how it
    went. Text logs print the values in this order; ``JsonFormatter`` prints the dict."""
    principal = request.principal
    fields: dict[str, str | int | float] = {
        "request_id": request.request_id,
        "principal": request.access_key or (principal.arn if principal else "-"),
        "client": request.client_host or "-",
        "service": service,
        "operation": request.operation,
        "resource": request.resource or "-",
        "method": request.method,
        "status": response.status,
        "error_code": response.error_code or "-",
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "duration_ms": round(elapsed_s * 1000, 3),
    }
    return fields


DYNAMODB_PREFIX: Final = "DynamoDB_20120810."
STREAMS_PREFIX: Final = "DynamoDBStreams_20120810."
KMS_PREFIX: Final = "TrentService."
_FILE_CHUNK_BYTES: Final = 1024 * 1024


class StrataApp:
    """ASGI callable: ``await app(scope, receive, send)``."""

    def __init__(
        self,
        *,
        s3: ProtocolApi,
        dynamodb: ProtocolApi,
        streams: ProtocolApi | None,
        keys: KeyLookup,
        clock: Clock,
        metrics: Metrics,
        auth_enabled: bool = True,
        unsigned_principal: Principal | None = None,
        on_startup: list[object] | None = None,
        admin: AdminApi | None = None,
        gate: RequestGate | None = None,
        iam: ProtocolApi | None = None,
        sts: ProtocolApi | None = None,
        cloudtrail: ProtocolApi | None = None,
        audit: AuditTrail | None = None,
        kms: ProtocolApi | None = None,
    ) -> None:
        self.s3 = s3
        self.dynamodb = dynamodb
        self.streams = streams
        self.keys = keys
        self.clock = clock
        self.metrics = metrics
        self.auth_enabled = auth_enabled
        self.admin = admin  # /_strata/ reset, snapshots, summary
        self.gate = gate  # holds requests while the store is replaced
        self.iam = iam  # query-protocol POSTs signed for "iam" / "sts"
        self.sts = sts
        self.cloudtrail = cloudtrail  # LookupEvents over the audit trail
        self.audit = audit  # every API call, as a CloudTrail record
        self.kms = kms  # the key service, X-Amz-Target TrentService.*
        # Who a request is when authentication is off: the root user, allowed everything.
        self.unsigned_principal = unsigned_principal or root_principal(DEFAULT_ACCOUNT_ID)
        self.startup_hooks: list[object] = list(on_startup or [])
        self.shutdown_hooks: list[object] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.startup_hooks:
                        result = hook()  # type: ignore[operator]
                        if hasattr(result, "__await__"):
                            await result
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.shutdown_hooks:
                    try:
                        result = hook()  # type: ignore[operator]
                        if hasattr(result, "__await__"):
                            await result
                    except Exception:
                        log.exception("shutdown hook failed")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _protocol_for(self, headers: dict[str, str], method: str) -> ProtocolApi:
        target = headers.get("x-amz-target")
        if target is not None and method == "POST":
            if target.startswith(DYNAMODB_PREFIX):
                return self.dynamodb
            if target.startswith(STREAMS_PREFIX) and self.streams is not None:
                return self.streams
            if target.startswith(CLOUDTRAIL_PREFIX) and self.cloudtrail is not None:
                return self.cloudtrail
            if target.startswith(KMS_PREFIX) and self.kms is not None:
                return self.kms
        elif method == "POST":
            # IAM and STS share S3's POST / : the credential scope names the service.
            authorization = headers.get("authorization", "")
            if self.iam is not None and "/iam/aws4_request" in authorization:
                return self.iam
            if self.sts is not None and "/sts/aws4_request" in authorization:
                return self.sts
        return self.s3

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/_strata/"):
            await self._internal(scope, receive, send)
            return
        gate = self.gate
        if gate is None:
            await self._serve(scope, receive, send)
            return
        await gate.enter()
        try:
            await self._serve(scope, receive, send)
        finally:
            gate.leave()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        protocol = self.s3
        refused_head = False
        try:
            request = Request.from_scope(scope, receive)
        except HeaderTooLarge as exc:
            raw = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            request = Request.from_scope({**scope, "headers": []}, receive)
            protocol = self._protocol_for(raw, scope["method"])
            response = protocol.error_response(exc, request)
            # Its headers were dropped, so the check below cannot see its body coming.
            refused_head = "content-length" in raw or "transfer-encoding" in raw
        else:
            protocol = self._protocol_for(request.headers, request.method)
            response = await self._answer(protocol, request)
        response.headers.append((protocol.request_id_header, request.request_id))
        if refused_head or (not request.body.consumed and _has_body(request)):
            # The client may still be sending (or, after Expect: 100-continue, waiting to
            # send) a body nobody read: the connection cannot be reused safely.
            response.headers.append(("connection", "close"))
        sent = await self._send(scope, send, response, request.method == "HEAD")
        elapsed = time.perf_counter() - started
        bytes_in = int(request.headers.get("content-length", "0") or 0)
        self.metrics.observe(
            protocol.name,
            request.operation,
            response.status,
            elapsed,
            bytes_in,
            sent,
            response.error_code,
        )
        if self.audit is not None:
            self.audit.add(audit_call(request, protocol.name, response, self.clock.now_s()))
        if access_log.isEnabledFor(logging.INFO):
            fields = access_fields(request, protocol.name, response, bytes_in, sent, elapsed)
            access_log.info(
                " ".join(["%s"] * len(fields)), *fields.values(), extra={"access": fields}
            )

    async def _answer(self, protocol: ProtocolApi, request: Request) -> Response:
        try:
            if not self.auth_enabled:
                request.principal = self.unsigned_principal
            elif not protocol.anonymous(request):
                await authenticate(request, self.keys, self.clock.now_s(), time.time())
            acting.set(request.principal)
            return await protocol.handle(request)
        except StorageFault as exc:
            log.error(
                "request %s (%s %s) failed on damaged or unreadable data: %s",
                request.request_id,
                request.operation,
                request.raw_path,
                exc.detail,
            )
            return protocol.error_response(exc, request)
        except StrataError as exc:
            return protocol.error_response(exc, request)
        except Exception:
            log.exception("request %s failed (%s)", request.request_id, request.operation)
            return protocol.error_response(InternalFault(), request)

    async def _internal(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path == "/_strata/health":
            body = b'{"status":"ok","version":"' + __version__.encode() + b'"}'
            content_type = b"application/json"
            status = 200
        elif path == "/_strata/metrics":
            body = self.metrics.render().encode()
            content_type = b"text/plain; version=0.0.4"
            status = 200
        elif self.admin is not None:
            await self.admin.handle(scope, receive, send)
            return
        else:
            body = b'{"error":"not found"}'
            content_type = b"application/json"
            status = 404
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _send(self, scope: Scope, send: Send, response: Response, head: bool) -> int:
        """Send the response; returns body bytes sent."""
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.stream is None and response.files is None:
            length = len(response.body)
        else:
            length = response.length if response.length is not None else -1
        if length >= 0 and not any(k == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(length).encode()))
        files = response.files
        pathsend = (
            files is not None
            and not head
            and len(files) == 1
            and files[0].whole_file
            and response.digest is None  # zero-copy sends what the file holds, unchecked
            and "http.response.pathsend" in (scope.get("extensions") or {})
        )
        fds: list[int] = []
        if files is not None and not head and not pathsend:
            # Open every blob before the first await: the handler read the record on this
            # same loop turn, so no concurrent delete can unlink a blob in between.
            fds = [os.open(part.path, os.O_RDONLY) for part in files]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if head or response.status == 304 or response.status == 204:
            for fd in fds:
                os.close(fd)
            await send({"type": "http.response.body", "body": b""})
            await _close_stream(response)
            return 0
        if files is not None and pathsend:
            await send({"type": "http.response.pathsend", "path": files[0].path})
            return files[0].length
        if files is not None:
            return await self._send_files(send, response, fds)
        if response.stream is not None:
            try:
                if response.digest is not None:
                    return await self._send_checked_stream(send, response, response.digest)
                sent = 0
                async for chunk in response.stream:
                    sent += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except StorageFault as exc:  # damaged stored bytes found while decoding
                log.error("response body aborted: %s", exc.detail)
                raise
            await send({"type": "http.response.body", "body": b""})
            return sent
        await send({"type": "http.response.body", "body": response.body})
        return len(response.body)

    async def _send_checked_stream(self, send: Send, response: Response, digest: BodyDigest) -> int:
        """A streamed whole object (decoded from compressed frames) hashed as it is sent;
        the last chunk is held back until the digest matches, so damage breaks the
        connection short of Content-Length instead of delivering wrong bytes."""
        assert response.stream is not None
        check = _DigestCheck(digest, 1)
        sent = 0
        held: bytes | bytearray | None = None
        async for chunk in response.stream:
            check.update(0, chunk)
            if held is not None:
                sent += len(held)
                await send({"type": "http.response.body", "body": held, "more_body": True})
            held = chunk
        check.verify([])
        if held is not None:
            sent += len(held)
            await send({"type": "http.response.body", "body": held, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return sent

    async def _send_files(self, send: Send, response: Response, fds: list[int]) -> int:
        """Stream file ranges through descriptors opened before the headers went out.

        With a ``digest`` the bytes are hashed as they go and the last chunk is held back
        until they match: on a mismatch the response ends short of its Content-Length and
        the connection breaks, so no client takes damaged bytes for a whole object."""
        files = response.files
        assert files is not None
        check = _DigestCheck(response.digest, len(files)) if response.digest else None
        sent = 0
        try:
            for index, (part, fd) in enumerate(zip(files, fds, strict=True)):
                position = part.offset
                end = part.offset + part.length
                while position < end:
                    chunk = os.pread(fd, min(_FILE_CHUNK_BYTES, end - position), position)
                    if not chunk:
                        raise DataCorruption(f"{part.path} is shorter than its record says")
                    position += len(chunk)
                    if check is not None:
                        # On the loop: a thread hop per chunk measured slower, even for MD5.
                        check.update(index, chunk)
                        if position == end and index == len(files) - 1:
                            check.verify(files)  # before the last chunk goes out
                    sent += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except StorageFault as exc:
            log.error("response body aborted: %s", exc.detail)
            raise
        finally:
            for fd in fds:
                os.close(fd)
        await send({"type": "http.response.body", "body": b""})
        return sent


class _DigestCheck:
    """The digest of a body sent from files: of the whole, or one per file (parts)."""

    def __init__(self, digest: BodyDigest, files: int) -> None:
        self.digest = digest
        self.md5 = digest.algorithm == "MD5"
        count = files if digest.per_file else 1
        self.hashers: list[Hasher] = [
            hashlib.md5() if self.md5 else new_hasher(digest.algorithm) for _ in range(count)
        ]

    def update(self, index: int, chunk: bytes | bytearray) -> None:
        self.hashers[index if self.digest.per_file else 0].update(chunk)

    def verify(self, files: list[FileRange]) -> None:
        digests = [h.digest() for h in self.hashers]
        parts = len(digests) if self.digest.per_file else 0
        computed = etag(digests, parts) if self.md5 else b"".join(digests).hex()
        if computed != self.digest.expected:
            blobs = ", ".join(os.path.basename(f.path) for f in files) or "(decoded)"
            raise DataCorruption(
                f"{self.digest.name}: bytes of blob {blobs} give {self.digest.algorithm} "
                f"{computed}, the record says {self.digest.expected}"
            )


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "0").strip()
    return length not in ("", "0") or "transfer-encoding" in request.headers


async def _close_stream(response: Response) -> None:
    stream = response.stream
    if stream is not None and hasattr(stream, "aclose"):
        await stream.aclose()
