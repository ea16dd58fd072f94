"""CloudTrail's ``LookupEvents`` (JSON 1.1, X-Amz-Target ``CloudTrail_20131101.*``) over
the audit trail.

On AWS, LookupEvents returns management events only; here it returns data events too
(GetObject, PutItem, ...), since Strata has no separate data-event store: filter with
``ReadOnly`` or ``EventSource`` to narrow. One lookup attribute per call, at most 50
events per page, newest first, as AWS. Other CloudTrail operations (trails, event data
stores) are not built: 501.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any, Final

import msgspec

from strata import limits
from strata.api.dynamodb.errors import render_error
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError
from strata.service.audit.entries import (
    EVENT_SOURCES,
    Entry,
    cloudtrail_event,
    identity_type,
    resource_names,
)
from strata.service.audit.trail import AuditTrail, Filters
from strata.service.iam.access import AccessControl

TARGET_PREFIX: Final = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
CONTENT_TYPE: Final = "application/x-amz-json-1.1"
RESULTS_MAX: Final = 50
_ATTRIBUTE_KEYS: Final = (
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
    "EventSource", "AccessKeyId",
)  # fmt: skip
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


# CloudTrail's operations (botocore's model, 2013-11-01): the ones not built answer 501.
CLOUDTRAIL_OPERATIONS: Final = frozenset(
    [
        "AddTags",
        "CancelQuery",
        "CreateChannel",
        "CreateDashboard",
        "CreateEventDataStore",
        "CreateTrail",
        "DeleteChannel",
        "DeleteDashboard",
        "DeleteEventDataStore",
        "DeleteResourcePolicy",
        "DeleteTrail",
        "DeregisterOrganizationDelegatedAdmin",
        "DescribeQuery",
        "DescribeTrails",
        "DisableFederation",
        "EnableFederation",
        "GenerateQuery",
        "GetChannel",
        "GetDashboard",
        "GetEventConfiguration",
        "GetEventDataStore",
        "GetEventSelectors",
        "GetImport",
        "GetInsightSelectors",
        "GetQueryResults",
        "GetResourcePolicy",
        "GetTrail",
        "GetTrailStatus",
        "ListChannels",
        "ListDashboards",
        "ListEventDataStores",
        "ListImportFailures",
        "ListImports",
        "ListInsightsData",
        "ListInsightsMetricData",
        "ListPublicKeys",
        "ListQueries",
        "ListTags",
        "ListTrails",
        "LookupEvents",
        "PutEventConfiguration",
        "PutEventSelectors",
        "PutInsightSelectors",
        "PutResourcePolicy",
        "RegisterOrganizationDelegatedAdmin",
        "RemoveTags",
        "RestoreEventDataStore",
        "SearchSampleQueries",
        "StartDashboardRefresh",
        "StartEventDataStoreIngestion",
        "StartImport",
        "StartLogging",
        "StartQuery",
        "StopEventDataStoreIngestion",
        "StopImport",
        "StopLogging",
        "UpdateChannel",
        "UpdateDashboard",
        "UpdateEventDataStore",
        "UpdateTrail",
    ]
)


def _invalid(code: str, message: str) -> ProtocolError:
    return ProtocolError(code, message, 400)


def username(entry: Entry) -> str:
    """LookupEvents' ``Username``: "root", the IAM user, or the role session's name."""
    kind = identity_type(entry)
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        return entry.principal_arn.rsplit("/", 1)[-1]
    return entry.user_name or ""


def _matcher(key: str, value: str) -> Any:
    if key == "EventId":
        return lambda e: e.event_id == value
    if key == "EventName":
        return lambda e: e.operation == value
    if key == "ReadOnly":
        wanted = value.lower() == "true"
        return lambda e: e.read_only == wanted
    if key == "Username":
        return lambda e: username(e) == value
    if key == "ResourceType":
        return lambda e: any(kind == value for kind, _ in resource_names(e))
    if key == "ResourceName":
        return lambda e: any(name == value for _, name in resource_names(e))
    if key == "EventSource":
        return lambda e: EVENT_SOURCES.get(e.source) == value
    return lambda e: e.access_key == value


def _time_ms(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid("SerializationException", f"{name} must be a timestamp")
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            raise _invalid("SerializationException", f"{name} must be a timestamp") from None
    return int(value * 1000)


def parse_filters(req: dict[str, Any]) -> tuple[Filters, int]:
    """LookupEvents' request -> (filters, page size), with CloudTrail's errors."""
    attributes = req.get("LookupAttributes") or []
    if not isinstance(attributes, list) or len(attributes) > 1:
        raise _invalid(
            "InvalidLookupAttributesException", "You can only specify one lookup attribute."
        )
    matches = None
    for attribute in attributes:
        key = attribute.get("AttributeKey") if isinstance(attribute, dict) else None
        value = attribute.get("AttributeValue") if isinstance(attribute, dict) else None
        if key not in _ATTRIBUTE_KEYS or not isinstance(value, str):
            raise _invalid(
                "InvalidLookupAttributesException",
                f"Lookup attribute key must be one of {', '.join(_ATTRIBUTE_KEYS)}"
                " and its value a string.",
            )
        matches = _matcher(key, value)
    start_ms = _time_ms(req["StartTime"], "StartTime") if req.get("StartTime") is not None else 0
    end_ms = _time_ms(req["EndTime"], "EndTime") if req.get("EndTime") is not None else 2**47
    if start_ms > end_ms:
        raise _invalid("InvalidTimeRangeException", "Start time must be before end time.")
    page = req.get("MaxResults", RESULTS_MAX)
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= RESULTS_MAX:
        raise _invalid(
            "InvalidMaxResultsException", "MaxResults must be between 1 and 50 (inclusive)."
        )
    return Filters(start_ms=start_ms, end_ms=end_ms, matches=matches), page


def encode_token(key: bytes) -> str:
    """The key of the last event returned (the next page starts below it)."""
    return key.hex()


def decode_token(token: Any) -> bytes:
    try:
        key = bytes.fromhex(token) if isinstance(token, str) else b""
    except ValueError:
        key = b""
    if len(key) <= 8:  # a day and a stamp at least
        raise _invalid("InvalidNextTokenException", "Invalid NextToken.")
    return key


def page_of(
    trail: AuditTrail, filters: Filters, page: int, token: Any
) -> tuple[list[tuple[bytes, Entry]], str | None]:
    after = decode_token(token) if token is not None else None
    found: list[tuple[bytes, Entry]] = []
    for key, entry in trail.read(filters, after):
        if len(found) == page:
            return found, encode_token(found[-1][0])
        found.append((key, entry))
    return found, None


def lookup_event(entry: Entry, region: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "EventId": entry.event_id,
        "EventName": entry.operation,
        "ReadOnly": "true" if entry.read_only else "false",
        "EventTime": entry.time_ms / 1000,
        "EventSource": EVENT_SOURCES.get(entry.source, f"{entry.source}.amazonaws.com"),
        "Username": username(entry),
        "Resources": [{"ResourceType": t, "ResourceName": n} for t, n in resource_names(entry)],
        "CloudTrailEvent": json.dumps(cloudtrail_event(entry, region)),
    }
    if entry.access_key:
        event["AccessKeyId"] = entry.access_key
    return event


class CloudTrailApi:
    name = "cloudtrail"
    request_id_header = "x-amzn-RequestId"

    def __init__(self, trail: AuditTrail, region: str, access: AccessControl) -> None:
        self.trail = trail
        self.region = region
        self.access = access

    def anonymous(self, request: Request) -> bool:
        return False

    async def handle(self, request: Request) -> Response:
        operation = request.headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
        request.operation = operation or "unknown"
        if operation != "LookupEvents":
            if operation in CLOUDTRAIL_OPERATIONS:
                raise ProtocolError(
                    "NotImplemented", f"Strata does not implement CloudTrail {operation}.", 501
                )
            raise _invalid("UnknownOperationException", "")
        self.access.authorize(request.principal, "cloudtrail:LookupEvents", "*")
        body = await request.body.read(limits.dynamodb_body_bytes_max)
        try:
            req = _decode(body) if body else {}
        except (msgspec.DecodeError, RecursionError):
            raise _invalid("SerializationException", "Malformed JSON body.") from None
        if req.get("EventCategory") not in (None, "insight"):
            raise _invalid("InvalidEventCategoryException", "EventCategory must be insight.")
        filters, page = parse_filters(req)
        result: dict[str, Any] = {"Events": []}
        if req.get("EventCategory") is None:  # no Insights events are recorded
            await self.trail.flush()  # what was called before this request is visible
            found, token = page_of(self.trail, filters, page, req.get("NextToken"))
            result["Events"] = [lookup_event(entry, self.region) for _, entry in found]
            if token is not None:
                result["NextToken"] = token
        out = _encode(result)
        return Response(
            status=200,
            headers=[("content-type", CONTENT_TYPE), ("x-amz-crc32", str(zlib.crc32(out)))],
            body=out,
        )

    def error_response(self, exc: StrataError, request: Request) -> Response:
        """CloudTrail's own errors; the rest (signatures, denials, a full disk) in the
        shared JSON protocol's table, which CloudTrail's codes match."""
        if not isinstance(exc, ProtocolError):
            return render_error(exc, request)
        code, status = exc.code, exc.status
        document = {"__type": code, "message": exc.message}
        body = _encode(document)
        return Response(
            status=status,
            headers=[("content-type", CONTENT_TYPE)],
            body=body,
            error_code=code,
            error_message=exc.message,
        )
