"""The DynamoDB protocol entry point: decode JSON, check the model, call the service, encode.

Routing is one dict lookup on the operation name. Each request is checked against the
botocore model before the service sees it: every member's JSON type at any depth
(``serialization.py``, SerializationException), then the top-level constraints (required
members, enums, lengths, ranges) with AWS's "N validation errors detected" message; the
service checks the semantics. Responses are encoded with msgspec; stored items are spliced in as
raw JSON (``msgspec.Raw``) without being decoded.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec

from strata import limits
from strata.api.dynamodb.actions import authorize
from strata.api.dynamodb.encoding import (
    COMPRESS_FROM_BYTES,
    accepts_gzip,
    compress,
    decode_body,
)
from strata.api.dynamodb.errors import render_error
from strata.api.dynamodb.model import MEMBERS, Member
from strata.api.dynamodb.serialization import check_types
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError
from strata.service.iam.access import AccessControl
from strata.service.tables.catalogue import Catalogue
from strata.service.tables.constraints import TABLE_NAME_RE, Constraints
from strata.service.tables.encryption import TableKeyProvider
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.expiry import SWEEP_INTERVAL_S
from strata.service.tables.exports import Documents
from strata.service.tables.resource_policies import TablePolicies
from strata.service.tables.service import SyncHandler, TableOperations
from strata.storage.store import Store

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

CONTENT_TYPE: Final = "application/x-amz-json-1.0"
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode

_JAVA_SHAPES: Final = {
    ("TransactWriteItems", "TransactItems"): "com.amazonaws.dynamodb.v20120810.TransactWriteItem",
    ("TransactGetItems", "TransactItems"): "com.amazonaws.dynamodb.v20120810.TransactGetItem",
}


_BY_NAME: Final = {
    operation: ({m[0]: m for m in members}, tuple(m for m in members if m[2]))
    for operation, members in MEMBERS.items()
}


# Operations whose service checks nested members too: it words every model error of the
# request in one message, top-level ones included (the model check only refuses bad types).
_NESTED_CHECKS: Final = frozenset({"CreateTable", "UpdateTable"})

Accept = Callable[[Any], bool]


def _acceptor(member: Member) -> tuple[type, Accept | None] | None:
    """A quick test that passes only values ``check_model`` finds no fault with.

    None: no quick test (the member always takes the full check).
    """
    name, _, _, kind, enum, low, high = member
    python_type = _FAST_TYPES.get(kind)
    if python_type is None:
        return None
    if name in ("TableName", "IndexName"):
        return python_type, _is_plain_name
    if enum is not None:
        allowed = frozenset(enum)
        return python_type, allowed.__contains__
    if low is None and high is None:
        return python_type, None
    lowest = -(2**63) if low is None else low
    highest = 2**63 if high is None else high
    if kind in ("integer", "long"):
        return python_type, lambda value: lowest <= value <= highest
    if kind in ("string", "list", "map"):
        return python_type, lambda value: lowest <= len(value) <= highest
    return None


def _is_plain_name(value: str) -> bool:
    return 3 <= len(value) <= 255 and TABLE_NAME_RE.fullmatch(value) is not None


# The exact Python type of each JSON kind (``type(v) is t``: a bool is not an integer).
_FAST_TYPES: Final[dict[str, type]] = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "list": list,
    "map": dict,
    "structure": dict,
    "blob": str,
}

_FAST: Final = {
    operation: (
        tuple(m[0] for m in members if m[2]),
        {m[0]: _acceptor(m) for m in members},
    )
    for operation, members in MEMBERS.items()
}


def _well_formed(operation: str, req: dict[str, Any]) -> bool:
    """True when ``check_model`` would find nothing wrong (False: let it look closely)."""
    spec = _FAST.get(operation)
    if spec is None:
        return False
    required, acceptors = spec
    for name in required:
        if req.get(name) is None:
            return False
    for key, value in req.items():
        if value is None or key not in acceptors:
            continue
        acceptor = acceptors[key]
        if acceptor is None or type(value) is not acceptor[0]:
            return False
        accept = acceptor[1]
        if accept is not None and not accept(value):
            return False
    return True


def check_model(operation: str, req: dict[str, Any]) -> None:
    """AWS's checks before the service: every member's JSON type, then top-level constraints."""
    check_types(operation, req)
    if not _well_formed(operation, req):
        _check_constraints(operation, req)


def check_model_fully(operation: str, req: dict[str, Any]) -> None:
    """``check_model`` without the quick test: every member checked, every error worded."""
    check_types(operation, req)
    _check_constraints(operation, req)


def _check_constraints(operation: str, req: dict[str, Any]) -> None:
    """The model's constraints on top-level members (their types are already checked).

    Every member in the model's order, as AWS lists the errors: a missing required member
    is "Value null ... Member must not be null"; a table name is checked against the
    pattern, then its length (3 to 255 on table operations, 1 to 255 on item operations).
    """
    spec = _BY_NAME.get(operation)
    if spec is None:
        return
    by_name, _ = spec
    if "ResourceArn" in by_name and req.get("ResourceArn") is None:
        raise ValidationError("Invalid TableArn")
    if operation in _BATCHES and req.get("RequestItems") == {}:
        raise ValidationError(f"The requestItems parameter is required for {operation}")
    checks: Constraints | None = None
    for name, found in by_name.items():
        value = req.get(name)
        _, path, required, kind, enum, low, high = found
        if value is None:
            if required:
                checks = checks or Constraints()
                checks.not_null(None, path)
            continue
        if name == "TableName":
            if not value.startswith("arn:"):
                checks = checks or Constraints()
                checks.table_name(value, path, shortest=_TABLE_NAME_SHORTEST.get(operation, 3))
        elif name == "IndexName":
            checks = checks or Constraints()
            checks.index_name(value, path)
        elif enum is not None:
            if value not in enum:
                checks = checks or Constraints()
                checks.enum(value, path, _AWS_ENUM_ORDER.get(frozenset(enum), enum))
        elif kind in ("integer", "long"):
            checks = checks or Constraints()
            checks.range(value, path, low, high)
        elif kind in ("string", "list", "map") and (low is not None or high is not None):
            checks = checks or Constraints()
            shape = _JAVA_SHAPES.get((operation, name))
            shown: str | None = None
            if shape is not None:
                # AWS prints a list of structures with Java's toString: Class@hash
                text = ", ".join(f"{shape}@{zlib.crc32(repr(v).encode()):x}" for v in value)
                shown = f"'[{text}]'"
            checks.length(value, path, low, high, shown)
    if checks is not None and operation not in _NESTED_CHECKS:
        checks.raise_if_any()


_BATCHES: Final = frozenset({"BatchGetItem", "BatchWriteItem"})

# AWS lists some enums' values in an order of its own (a Java set's), not the model's.
_AWS_ENUM_ORDER: Final[dict[frozenset[str], tuple[str, ...]]] = {
    frozenset(order): order
    for order in (
        ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"),
        ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"),
    )
}

# Item operations take table names from 1 character (an ARN is longer); table operations
# from 3, as CreateTable does.
_TABLE_NAME_SHORTEST: Final = {
    operation: 1
    for operation in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
    )
}


class DynamoDbApi:
    name = "dynamodb"
    request_id_header = "x-amzn-RequestId"

    def __init__(
        self,
        store: Store | None = None,
        region: str = "us-east-1",
        ttl_sweep_interval_s: float = SWEEP_INTERVAL_S,
        access: AccessControl | None = None,
        documents: Documents | None = None,
        table_keys: TableKeyProvider | None = None,
    ) -> None:
        self.region = region
        self.access = access or AccessControl()
        self.tables = (
            TableOperations(
                store,
                region,
                ttl_sweep_interval_s=ttl_sweep_interval_s,
                documents=documents,
                table_keys=table_keys,
            )
            if store is not None
            else None
        )
        self.policies = TablePolicies(self._catalogue)
        self.routes: dict[str, Handler] = {}
        self.sync_routes: dict[str, SyncHandler] = {}
        self._route()

    def _hash_key(self, table: str) -> str | None:
        """The partition key's name of ``table`` (for ``dynamodb:LeadingKeys``)."""
        found = self.tables.tables.tables.get(table) if self.tables is not None else None
        return found.record.hash.name if found is not None else None

    def _catalogue(self) -> Catalogue:
        assert self.tables is not None
        return self.tables.tables

    def _route(self) -> None:
        if self.tables is None:
            return
        self.routes = self.tables.routes()
        # Operations that never wait are called directly, without a coroutine around them.
        self.sync_routes = self.tables.sync_routes()
        self.sync_routes["GetResourcePolicy"] = self.policies.get
        self.routes["GetResourcePolicy"] = self._get_resource_policy
        self.routes["PutResourcePolicy"] = self.policies.put
        self.routes["DeleteResourcePolicy"] = self.policies.delete

    async def _get_resource_policy(self, req: dict[str, Any]) -> dict[str, Any]:
        return self.policies.get(req)

    async def start(self) -> None:
        if self.tables is not None:
            await self.tables.start()

    async def stop(self) -> None:
        if self.tables is not None:
            await self.tables.stop()

    async def reload(self) -> None:
        """The store was replaced (restore, reset): drop every compiled table, cached
        count and route bound to them, read the catalogue again, restart background work.
        Call ``stop`` before the store is replaced."""
        old = self.tables
        if old is None:
            return
        self.tables = TableOperations(
            old.store,
            old.region,
            old.host,
            ttl_sweep_interval_s=old.expiry.interval_s,
            documents=old.documents,
            table_keys=old.table_keys,
        )
        self._route()
        await self.tables.start()

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.partition(".")[2]
        request.operation = operation or "unknown"
        route = self.routes.get(operation)
        if route is None:
            raise ProtocolError("UnknownOperationException", "", 400)
        body = await request.body.read(limits.dynamodb_body_bytes_max)
        coding = request.headers.get("content-encoding")
        if coding is not None:
            body = decode_body(body, coding, limits.dynamodb_body_bytes_max)
        try:
            req = _decode(body) if body else {}
        except (msgspec.DecodeError, RecursionError):  # RecursionError: nested too deep
            raise SerializationError("Start of structure or map found where not expected.")
        check_model(operation, req)
        table_name = req.get("TableName")
        if isinstance(table_name, str):
            request.resource = table_name
        full_scan = self.tables.partiql.full_scan if self.tables is not None else None
        authorize(self.access, request, operation, req, self.region, full_scan, self._hash_key)
        run = self.sync_routes.get(operation)
        result = run(req) if run is not None else await route(req)
        body = _encode(result)
        headers = [("content-type", CONTENT_TYPE)]
        if len(body) >= COMPRESS_FROM_BYTES and accepts_gzip(
            request.headers.get("accept-encoding", "")
        ):
            body = compress(body)
            headers.append(("content-encoding", "gzip"))
        # botocore checks x-amz-crc32 when present (and retries on a mismatch), as AWS sends
        # it: over the bytes sent
        headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return Response(status=200, headers=headers, body=body)

    def error_response(self, exc: StrataError, request: Request) -> Response:
        return render_error(exc, request)
