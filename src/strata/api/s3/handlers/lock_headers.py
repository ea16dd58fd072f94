"""The x-amz-object-lock-* headers of writes and reads, and governance bypass (the Object
Lock operations are in ``object_lock.py``, the semantics in ``service/objects/locks.py``).

Governance bypass needs both the header and, for anyone but root,
``s3:BypassGovernanceRetention`` on the object: without the permission the header is
ignored, so the removal meets the retention and is refused (AccessDenied), as S3 answers.
Reads show a version's retention only to callers with s3:GetObjectRetention and its legal
hold only to those with s3:GetObjectLegalHold, as S3 does.
"""

from __future__ import annotations

import datetime
from typing import Final

from strata.api.s3 import xml
from strata.api.s3.actions import authorize, object_arn
from strata.api.s3.context import Call, S3Context
from strata.errors import ProtocolError
from strata.service.iam.access import AccessDenied
from strata.service.objects.locks import LEGAL_HOLDS, MODES, Lock, retain_until_past
from strata.service.objects.records import ObjectVersion

MODE_HEADER: Final = "x-amz-object-lock-mode"
UNTIL_HEADER: Final = "x-amz-object-lock-retain-until-date"
HOLD_HEADER: Final = "x-amz-object-lock-legal-hold"
BYPASS_HEADER: Final = "x-amz-bypass-governance-retention"


def _now_ms(s3: S3Context) -> int:
    return int(s3.objects.store.clock.now_s() * 1000)


def parse_time_ms(text: str) -> int | None:
    """Milliseconds of an ISO 8601 time (``2030-01-01T00:00:00Z``, fractions and offsets
    allowed; UTC if it names no zone), or None if it is not one."""
    value = text.strip()
    if len(value) < 10 or not value[:4].isdigit():
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def invalid_argument(message: str) -> ProtocolError:
    return ProtocolError("InvalidArgument", message)


def lock_request(s3: S3Context, call: Call) -> Lock | None:
    """The x-amz-object-lock-* headers of PutObject, CopyObject or CreateMultipartUpload
    (None: none sent). Setting them needs s3:PutObjectRetention / s3:PutObjectLegalHold."""
    headers = call.request.headers
    mode, until, hold = (
        headers.get(MODE_HEADER),
        headers.get(UNTIL_HEADER),
        headers.get(HOLD_HEADER),
    )
    if mode is None and until is None and hold is None:
        return None
    if (mode is None) != (until is None):
        raise invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
        )
    until_ms = 0
    if mode is not None and until is not None:
        if mode not in MODES:
            raise invalid_argument("Unknown wormMode directive.")
        parsed = parse_time_ms(until)
        if parsed is None:
            raise invalid_argument("The retain until date must be provided in ISO 8601 format")
        if parsed <= _now_ms(s3):
            raise retain_until_past()
        until_ms = parsed
    if hold is not None and hold not in LEGAL_HOLDS:
        raise invalid_argument("Legal Hold must be either of 'ON' or 'OFF'")
    resource = object_arn(call.bucket, call.key)
    if mode is not None:
        authorize(s3.access, call.request, "s3:PutObjectRetention", resource)
    if hold is not None:
        authorize(s3.access, call.request, "s3:PutObjectLegalHold", resource)
    return Lock(mode or "", until_ms, hold or "")


def bypass_governance(s3: S3Context, call: Call, key: str) -> bool:
    """Whether the caller asked to bypass GOVERNANCE retention and may."""
    value = call.request.headers.get(BYPASS_HEADER)
    if value is None or value.strip().lower() != "true":
        return False
    try:
        authorize(
            s3.access, call.request, "s3:BypassGovernanceRetention", object_arn(call.bucket, key)
        )
    except AccessDenied:
        return False
    return True


def _allowed(s3: S3Context, call: Call, action: str) -> bool:
    principal = call.request.principal
    if principal is not None and principal.root:
        return True
    try:
        authorize(s3.access, call.request, action, object_arn(call.bucket, call.key))
    except AccessDenied:
        return False
    return True


def lock_headers(s3: S3Context, call: Call, version: ObjectVersion) -> list[tuple[str, str]]:
    """What GET/HEAD say of a version's lock: retention to callers with
    s3:GetObjectRetention, the legal hold to those with s3:GetObjectLegalHold."""
    headers: list[tuple[str, str]] = []
    if version.lock_mode and _allowed(s3, call, "s3:GetObjectRetention"):
        headers.append((MODE_HEADER, version.lock_mode))
        headers.append((UNTIL_HEADER, xml.iso_time(version.lock_until_ms)))
    if version.legal_hold and _allowed(s3, call, "s3:GetObjectLegalHold"):
        headers.append((HOLD_HEADER, version.legal_hold))
    return headers
