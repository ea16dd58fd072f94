"""Admin endpoints under ``/_strata/``: reset, snapshots, summary, clock, audit. JSON in
and out.

Every admin request is SigV4-signed like any other; reset and snapshots want the account
root (any root key; IAM users and roles: 403 AccessDenied), the summary any valid key.
Replacing the live store (reset, restore) goes through ``RequestGate``: new requests wait,
running ones get ``limits.state_drain_s_max`` to finish, background work stops, the store
is swapped in one synchronous step, caches are rebuilt, and the held requests go on
against the new store.
A request still running after the drain gets ServiceUnavailable on its next write.
``/_strata/clock`` shows the store clock (any key) and moves it forward (root), waking
every background engine so work that fell due runs at once.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec

from strata import limits
from strata.api.audit import BadQuery
from strata.api.dynamodb.handler import DynamoDbApi
from strata.api.http import Receive, Request, Scope, Send
from strata.api.s3.errors import S3_ERRORS
from strata.api.sigv4 import MissingAuthentication, authenticate
from strata.errors import AuthError, ProtocolError, StrataError, lookup
from strata.service.background import wake_all
from strata.service.iam.principal import KeyLookup
from strata.service.objects.buckets import BucketService
from strata.service.objects.errors import NoSuchBucket
from strata.service.objects.listing import bucket_usage
from strata.storage import store_clock
from strata.storage.clock import Clock, SystemClock
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
AuditQuery = Callable[[dict[str, str]], Awaitable[dict[str, Any]]]
CostQuery = AuditQuery  # the query's parameters -> the JSON answer

NDJSON: Final = b"application/x-ndjson"


class AccessDenied(StrataError):
    default_message = "Only the root access key may do this"


class NotFound(StrataError):
    default_message = "No such admin endpoint"


class MethodNotAllowed(StrataError):
    default_message = "The method is not allowed on this endpoint"


class InvalidClockChange(StrataError):
    default_message = 'Give {"advance_s": seconds} or {"set": "<ISO 8601 time>"}'


ADMIN_ERRORS: Final[dict[type[StrataError], tuple[str, int]]] = {
    AccessDenied: ("AccessDenied", 403),
    NotFound: ("NotFound", 404),
    MethodNotAllowed: ("MethodNotAllowed", 405),
    InvalidClockChange: ("InvalidArgument", 400),
    InvalidSnapshotName: ("InvalidSnapshotName", 400),
    NoSuchSnapshot: ("NoSuchSnapshot", 404),
    SnapshotExists: ("SnapshotAlreadyExists", 409),
    BadQuery: ("InvalidArgument", 400),
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
        keys: KeyLookup,
        clock: Clock,
        auth_enabled: bool = True,
        before_swap: list[Hook] | None = None,
        after_swap: list[Hook] | None = None,
        summary: Summary | None = None,
        audit: AuditQuery | None = None,
        cost: CostQuery | None = None,
        lifecycle_preview: Callable[[dict[str, str], bytes], Awaitable[dict[str, Any]]]
        | None = None,
        before_clock_move: list[Hook] | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.gate = gate
        self.keys = keys
        self.clock = clock
        self.auth_enabled = auth_enabled
        self.before_swap = before_swap or []
        self.after_swap = after_swap or []
        self.summary = summary
        self.audit = audit  # GET /_strata/audit: the audit trail (strata audit)
        self.cost = cost  # GET /_strata/cost: the month's cost (strata cost)
        self.lifecycle_preview = lifecycle_preview  # POST /_strata/cost/lifecycle
        self.before_clock_move = before_clock_move or []  # the cost ledger's flush

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        try:
            await self._route(request, send)
        except StrataError as exc:
            if isinstance(exc, (AuthError, MissingAuthentication, NoSuchBucket)):
                code, status = lookup(S3_ERRORS, exc)
            elif isinstance(exc, ProtocolError):  # a document's error, in S3's words
                code, status = exc.code, exc.status
            else:
                code, status = lookup(ADMIN_ERRORS, exc)
            await _respond(send, status, _json({"error": code, "message": exc.message}))

    async def _authorize(self, request: Request, *, root: bool) -> None:
        if not self.auth_enabled:
            return
        principal = await authenticate(request, self.keys, self.clock.now_s(), time.time())
        if root and not principal.root:
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
        if parts == ["clock"]:
            self._allow(method, "GET", "POST")
            await self._authorize(request, root=method == "POST")
            if method == "POST":
                await self.move_clock(await request.body.read(limits.admin_body_bytes_max))
            await _respond(send, 200, _json(self.clock_state()))
            return
        if parts == ["audit"]:
            self._allow(method, "GET")
            await self._authorize(request, root=True)
            if self.audit is None:
                raise NotFound()
            await _respond(send, 200, _json(await self.audit(request.query)))
            return
        if parts == ["cost"]:
            self._allow(method, "GET")
            await self._authorize(request, root=True)
            if self.cost is None:
                raise NotFound()
            await _respond(send, 200, _json(await self.cost(request.query)))
            return
        if parts == ["cost", "lifecycle"]:
            self._allow(method, "POST")
            await self._authorize(request, root=True)
            if self.lifecycle_preview is None:
                raise NotFound()
            body = await request.body.read(limits.xml_body_bytes_max)
            await _respond(send, 200, _json(await self.lifecycle_preview(request.query, body)))
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

    def clock_state(self) -> dict[str, Any]:
        now = datetime.datetime.fromtimestamp(self.clock.now_s(), datetime.UTC)
        offset_s = self.clock.offset_s if isinstance(self.clock, SystemClock) else 0.0
        return {"now": now.isoformat(timespec="milliseconds"), "offset_s": offset_s}

    async def move_clock(self, body: bytes) -> None:
        """``{"advance_s": N}`` or ``{"set": ISO}``: forward only, durable, then wake the
        background engines."""
        if not isinstance(self.clock, SystemClock):
            raise InvalidClockChange("This server's clock cannot be moved")
        try:
            change = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError:
            raise InvalidClockChange() from None
        if not isinstance(change, dict) or len(change) != 1:
            raise InvalidClockChange()
        if "advance_s" in change:
            seconds = change["advance_s"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise InvalidClockChange("advance_s must be a number of seconds")
            if not math.isfinite(seconds) or seconds < 0:
                raise InvalidClockChange("The store clock only moves forward: advance_s >= 0")
            offset_s = self.clock.offset_s + seconds
        elif "set" in change:
            target_s = _parse_time(change["set"])
            if target_s < self.clock.now_s():
                raise InvalidClockChange(
                    f"The store clock only moves forward: {change['set']} is before "
                    f"{self.clock_state()['now']}"
                )
            offset_s = max(self.clock.offset_s, target_s - time.time())
        else:
            raise InvalidClockChange()
        if offset_s > limits.clock_offset_s_max:
            raise InvalidClockChange("The store clock moves at most 100 years ahead")
        for hook in self.before_clock_move:
            await hook()
        await store_clock.advance(self.clock, self.gate.store, offset_s)
        log.info("store clock moved to offset %.3f s", offset_s)
        wake_all()

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


def _parse_time(value: Any) -> float:
    """Epoch seconds of an ISO 8601 time (naive means UTC)."""
    if not isinstance(value, str):
        raise InvalidClockChange("set must be an ISO 8601 time")
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidClockChange(f"Not an ISO 8601 time: {value}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _since(started: float) -> float:
    return round(time.monotonic() - started, 4)
