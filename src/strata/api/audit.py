"""The auth edge's side of the audit trail: one ``Entry`` per API call, and
``GET /_strata/audit`` (what ``strata audit`` reads).

The entry is built after the response is sent, from what the request already carries:
principal, operation, resource, status and error. Nothing secret is in it: the access
key id (as CloudTrail shows it), never a signature, secret or token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from strata.api.cloudtrail import decode_token, encode_token
from strata.api.http import Request, Response
from strata.errors import ProtocolError, StrataError
from strata.service.audit.entries import cloudtrail_event
from strata.service.audit.trail import AuditTrail, Filters
from strata.service.kms.keys import KeyUse

PAGE_MAX = 1000


def audit_call(request: Request, source: str, response: Response, now_s: float) -> tuple[Any, ...]:
    """What the edge keeps per call until the flush: a tuple (the cheapest thing to build
    on the request path) of strings and numbers only, so the garbage collector stops
    tracking it (holding requests or their header dicts made every collection slower)."""
    principal = request.principal
    headers = request.headers
    if principal is None:
        who: tuple[Any, ...] = ("*", "", "", None, None)
    else:
        who = (
            principal.arn,
            principal.user_id,
            principal.account_id,
            principal.access_key,
            principal.user_name,
        )
    return (  # Entry's fields, in its order
        int(now_s * 1000),
        request.request_id,
        source,
        request.operation,
        *who,
        request.client_host,
        headers.get("user-agent", ""),
        request.resource,
        headers.get("host", ""),
        response.status,
        response.error_code,
        response.error_message if response.error_code else None,
        request.query_string if source == "s3" else "",
    )


def key_use_call(use: KeyUse, account_id: str, now_s: float) -> tuple[Any, ...]:
    """A key service call made by S3 or DynamoDB on a caller's behalf (CloudTrail's
    ``AWSService`` identity ``invokedBy`` the service), as ``audit_call`` builds them."""
    return (
        int(now_s * 1000),
        uuid.uuid4().hex,
        "kms",
        use.operation,
        use.invoked_by,
        "",
        account_id,
        None,
        None,
        use.invoked_by,
        use.invoked_by,
        use.key_arn,
        "",
        200,
        None,
        None,
    )


class BadQuery(StrataError):
    """A ``/_strata/audit`` query parameter is malformed (400)."""


def _ms(text: str, name: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise BadQuery(f"{name} must be an ISO 8601 time") from None


async def audit_page(trail: AuditTrail, query: dict[str, str], region: str) -> dict[str, Any]:
    """``GET /_strata/audit?start=&end=&principal=&event=&resource=&error=&limit=&next=``:
    CloudTrail records, newest first."""
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise BadQuery("limit must be an integer") from None
    if not 1 <= limit <= PAGE_MAX:
        raise BadQuery(f"limit must be between 1 and {PAGE_MAX}")
    filters = Filters(
        start_ms=_ms(query["start"], "start") if "start" in query else 0,
        end_ms=_ms(query["end"], "end") if "end" in query else 2**47,
        principal=query.get("principal"),
        event_name=query.get("event"),
        resource=query.get("resource"),
        error=query.get("error"),
        event_source=query.get("service"),
    )
    try:
        after = decode_token(query["next"]) if "next" in query else None
    except ProtocolError:
        raise BadQuery("next is not a token this endpoint gave") from None
    await trail.flush()
    events: list[dict[str, Any]] = []
    last = b""
    for key, entry in trail.read(filters, after):
        if len(events) == limit:
            return {"events": events, "next": encode_token(last)}
        events.append(cloudtrail_event(entry, region))
        last = key
    return {"events": events, "next": None}
