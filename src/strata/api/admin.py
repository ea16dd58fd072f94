"""Admin endpoints under ``/_strata/``: reset, snapshots, summary. JSON in and out.

Every admin request is SigV4-signed like any other; reset and snapshots want the root
key (anyone else: 403 AccessDenied), the summary any valid key. Replacing the live
store (reset, restore) goes through ``RequestGate``: new requests wait, running ones get
``limits.state_drain_s_max`` to finish, background work stops, the store is swapped in one
synchronous step, caches are rebuilt, and the held requests go on against the new store.
A request still running after the drain gets ServiceUnavailable on its next write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec

from strata import limits
from strata.api.dynamodb.handler import DynamoDbApi
from strata.api.http import Receive, Request, Scope, Send
from strata.api.s3.errors import S3_ERRORS
from strata.api.sigv4 import MissingAuthentication, authenticate
from strata.credentials import KeyRing
from strata.errors import AuthError, StrataError, lookup
from strata.service.objects.buckets import BucketService
from strata.service.objects.listing import bucket_usage
from strata.storage.clock import Clock
from strata.storage.snapshots import (
    InvalidSnapshotName,
    NoSuchSnapshot,
    SnapshotExists,
    Snapshots,
)
from strata.storage.store import LocalStore, request_generation

log = logging.getLogger("strata.admin")

Hook = Callable[[], Awaitable[None]]
Summary = Callable[[], Awaitable[dict[str, Any]]]

NDJSON: Final = b"application/x-ndjson"


class AccessDenied(StrataError):
    default_message = "Only the root access key may do this"


class NotFound(StrataError):
    default_message = "No such admin endpoint"


class MethodNotAllowed(StrataError):
    default_message = "The method is not allowed on this endpoint"


ADMIN_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    AccessDenied: ("AccessDenied", 403),
    NotFound: ("NotFound", 404),
    MethodNotAllowed: ("MethodNotAllowed", 405),
    InvalidSnapshotName: ("InvalidSnapshotName", 400),
    NoSuchSnapshot: ("NoSuchSnapshot", 404),
    SnapshotExists: ("SnapshotAlreadyExists", 409),
    StrataError: ("InternalError", 500),
}


class RequestGate:
    """Counts running requests; holds new ones while the store is being replaced."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.running = 0
        self._reopened: asyncio.Event | None = None  # set while closed
        self._idle: asyncio.Event | None = None  # set while draining

    async def enter(self) -> None:
        while self._reopened is not None:
            await self._reopened.wait()
        self.running += 1
        request_generation.set(self.store.generation)

    def leave(self) -> None:
        self.running -= 1
        if self.running == 0 and self._idle is not None:
            self._idle.set()

    async def close(self, drain_s: float) -> int:
        """Hold new requests; wait up to ``drain_s`` for the running ones. Returns how
        many are still running."""
        assert self._reopened is None, "closed twice"
        self._reopened = asyncio.Event()
        if self.running:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), drain_s)
            except TimeoutError:
                pass
            finally:
                self._idle = None
        return self.running

    def open(self) -> None:
        reopened, self._reopened = self._reopened, None
        if reopened is not None:
            reopened.set()


def _json(data: Any) -> bytes:
    return msgspec.json.encode(data)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AdminApi:
    """``/_strata/reset``, ``/_strata/snapshots[/NAME[/restore]]``, ``/_strata/summary``."""

    def __init__(
        self,
        *,
        snapshots: Snapshots,
        gate: RequestGate,
        keys: KeyRing,
        clock: Clock,
        auth_enabled: bool = True,
        before_swap: list[Hook] | None = None,
        after_swap: list[Hook] | None = None,
        summary: Summary | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.gate = gate
        self.keys = keys
        self.clock = clock
        self.auth_enabled = auth_enabled
        self.before_swap = before_swap or []
        self.after_swap = after_swap or []
        self.summary = summary

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        try:
            await self._route(request, send)
        except StrataError as exc:
            if isinstance(exc, (AuthError, MissingAuthentication)):
                code, status = lookup(S3_ERRORS, exc)
            else:
                code, status = lookup(ADMIN_ERRORS, exc)
            await _respond(send, status, _json({"error": code, "message": exc.message}))

    async def _authorize(self, request: Request, *, root: bool) -> None:
        if not self.auth_enabled:
            return
        await authenticate(request, self.keys, self.clock.now_s())
        if root:
            pair = self.keys.root()
            if pair is None or pair.access_key != request.access_key:
                raise AccessDenied()

    async def _route(self, request: Request, send: Send) -> None:
        parts = request.raw_path.split("/")[2:]  # after "", "_strata"
        method = request.method
        if parts == ["summary"]:
            self._allow(method, "GET")
            await self._authorize(request, root=False)
            if self.summary is None:
                raise NotFound()
            await _respond(send, 200, _json(await self.summary()))
            return
        if parts == ["reset"]:
            self._allow(method, "POST")
            await self._authorize(request, root=True)
            await _respond(send, 200, _json(await self.reset()))
            return
        if not parts or parts[0] != "snapshots" or len(parts) > 3:
            raise NotFound()
        if len(parts) == 1 or parts[1] == "":
            self._allow(method, "GET")
            await self._authorize(request, root=True)
            listed = [msgspec.to_builtins(i) for i in self.snapshots.list_all()]
            await _respond(send, 200, _json({"snapshots": listed}))
            return
        name = parts[1]
        if len(parts) == 3:
            if parts[2] != "restore":
                raise NotFound()
            self._allow(method, "POST")
            await self._authorize(request, root=True)
            await self._restore(name, send)
            return
        self._allow(method, "GET", "POST", "DELETE")
        await self._authorize(request, root=True)
        if method == "GET":
            body = _json(self.snapshots.info(name))
        elif method == "POST":
            replace = request.query.get("replace", "") in ("true", "1")
            async with self.snapshots.lock:
                pending = self.snapshots.capture(name, replace=replace)
                body = _json(await asyncio.to_thread(self.snapshots.finish_save, pending))
        else:
            self.snapshots.delete(name)
            body = _json({"deleted": name})
        await _respond(send, 200, body)

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise MethodNotAllowed()

    async def reset(self) -> dict[str, Any]:
        """Swap in an empty store: buckets, objects, tables, items go; keys stay."""
        started = time.monotonic()
        async with self.snapshots.lock:
            await asyncio.to_thread(self.snapshots.stage, None)
            interrupted = await self._swap()
        return {"reset": True, "interrupted": interrupted, "elapsed_s": _since(started)}

    async def _swap(self) -> int:
        """Replace the live store by the staged one; returns the requests interrupted."""
        still_running = await self.gate.close(limits.state_drain_s_max)
        try:
            for hook in self.before_swap:
                await hook()
            self.snapshots.swap()
            for hook in self.after_swap:
                await hook()
        finally:
            self.gate.open()
        return still_running

    async def _restore(self, name: str, send: Send) -> None:
        """Restore snapshot ``name``, reporting progress as one JSON line per stage."""
        info = self.snapshots.info(name)  # before the 200: a missing one is a 404
        started = time.monotonic()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", NDJSON)],
            }
        )
        connected = True

        async def report(event: dict[str, Any]) -> None:
            nonlocal connected
            if not connected:
                return
            event["elapsed_s"] = _since(started)
            try:
                await send(
                    {"type": "http.response.body", "body": _json(event) + b"\n", "more_body": True}
                )
            except Exception:  # the client left: the restore goes on regardless
                connected = False

        async with self.snapshots.lock:
            await report({"stage": "staging", "snapshot": name, "blobs": info.blobs})
            try:
                await asyncio.to_thread(self.snapshots.stage, name)
                await report({"stage": "swapping", "running_requests": self.gate.running})
                interrupted = await self._swap()
            except StrataError as exc:
                code, _ = lookup(ADMIN_ERRORS, exc)
                await report({"stage": "failed", "error": code, "message": exc.message})
            except Exception:
                log.exception("restore of snapshot %s failed", name)
                await report({"stage": "failed", "error": "InternalError", "message": "see log"})
            else:
                await report({"stage": "done", "snapshot": name, "interrupted": interrupted})
        if connected:
            try:
                await send({"type": "http.response.body", "body": b""})
            except Exception:
                pass


def store_summary(buckets: BucketService, dynamodb: DynamoDbApi) -> Summary:
    """``GET /_strata/summary``: every bucket with its object count and bytes, every table
    with its item count and size (as DescribeTable gives them), in one request."""

    async def summary() -> dict[str, Any]:
        listed_buckets = []
        for record in buckets.list_all():
            objects, size = await bucket_usage(buckets.store, record.name)
            listed_buckets.append(
                {
                    "name": record.name,
                    "created_ms": record.created_ms,
                    "objects": objects,
                    "size_bytes": size,
                }
            )
        listed_tables = []
        if dynamodb.tables is not None:
            service = dynamodb.tables.tables
            for name in sorted(service.tables):
                description = service.describe(service.tables[name])
                listed_tables.append(
                    {
                        "name": name,
                        "status": description["TableStatus"],
                        "items": description["ItemCount"],
                        "size_bytes": description["TableSizeBytes"],
                        "indexes": len(description.get("GlobalSecondaryIndexes", ())),
                    }
                )
        return {"buckets": listed_buckets, "tables": listed_tables}

    return summary


def _since(started: float) -> float:
    return round(time.monotonic() - started, 4)
