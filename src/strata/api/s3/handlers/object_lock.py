"""Object Lock operations: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
Put/GetObjectLegalHold. The semantics (what may be removed or shortened, by whom, when)
live in ``service/objects/locks.py``; the headers of writes and reads in ``lock_headers.py``.
"""

from __future__ import annotations

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, read_small_body, xml_response
from strata.api.s3.handlers.lock_headers import bypass_governance, invalid_argument, parse_time_ms
from strata.api.s3.handlers.objects import version_header, version_id_param
from strata.service.objects.locks import (
    DAYS_MAX,
    LEGAL_HOLDS,
    MODES,
    YEARS_MAX,
    Lock,
    ObjectLocks,
    lock_not_enabled,
)
from strata.service.objects.records import BucketRecord, DefaultRetention


def service(s3: S3Context) -> ObjectLocks:
    return ObjectLocks(s3.objects)


# ---- the bucket's configuration ---------------------------------------------------------


def _positive(text: str | None, most: int) -> int | None:
    if text is None:
        return None
    try:
        number = int(text.strip())
    except ValueError:
        raise xml.malformed()
    if number <= 0:
        raise invalid_argument("Default retention period must be a positive integer value")
    if number > most:
        raise invalid_argument("Default retention period is too large.")
    return number


def parse_configuration(body: bytes) -> DefaultRetention | None:
    root = xml.parse(body, "ObjectLockConfiguration")
    if xml.text(root, "ObjectLockEnabled") != "Enabled":
        raise xml.malformed()
    rule = root.find("Rule")
    if rule is None:
        return None
    default = rule.find("DefaultRetention")
    if default is None:
        raise xml.malformed()
    mode = xml.text(default, "Mode")
    days_text, years_text = xml.text(default, "Days"), xml.text(default, "Years")
    if mode not in MODES or (days_text is None) == (years_text is None):
        raise xml.malformed()
    days = _positive(days_text, DAYS_MAX)
    years = _positive(years_text, YEARS_MAX)
    return DefaultRetention(mode, days=days or 0, years=years or 0)


async def put_object_lock_configuration(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    body = await read_small_body(call.request, checksum_required=True)
    rule = parse_configuration(body)
    await service(s3).put_configuration(call.bucket, rule)
    return Response(status=200)


async def get_object_lock_configuration(s3: S3Context, call: Call) -> Response:
    record = service(s3).configuration(call.bucket)
    fields = [xml.el("ObjectLockEnabled", "Enabled")]
    rule = record.lock_default
    if rule is not None:
        period = xml.el("Days", rule.days) if rule.days else xml.el("Years", rule.years)
        fields.append(
            xml.node("Rule", xml.node("DefaultRetention", xml.el("Mode", rule.mode), period))
        )
    return xml_response(xml.document("ObjectLockConfiguration", *fields))


# ---- retention and legal hold -----------------------------------------------------------


def parse_retention(body: bytes) -> Lock:
    """A ``<Retention>`` document; an empty one removes the retention."""
    root = xml.parse(body, "Retention")
    mode, until = xml.text(root, "Mode"), xml.text(root, "RetainUntilDate")
    if mode is None and until is None:
        return Lock()
    if mode not in MODES or until is None:
        raise xml.malformed()
    until_ms = parse_time_ms(until)
    if until_ms is None:
        raise xml.malformed()
    return Lock(mode, until_ms)


async def _locked_bucket_body(s3: S3Context, call: Call) -> tuple[BucketRecord, bytes]:
    """The bucket of a Put retention / legal hold (which must have Object Lock), and the
    request's document."""
    bucket = s3.buckets.get(call.bucket)
    if not bucket.object_lock:
        raise lock_not_enabled()
    return bucket, await read_small_body(call.request, checksum_required=True)


async def put_object_retention(s3: S3Context, call: Call) -> Response:
    version_id = version_id_param(call)
    locks = service(s3)
    bucket, body = await _locked_bucket_body(s3, call)
    new = parse_retention(body)
    bypass = bypass_governance(s3, call, call.key)
    version = await locks.put_retention(call.bucket, call.key, version_id, new, bypass)
    return Response(status=200, headers=version_header(bucket, version))


async def get_object_retention(s3: S3Context, call: Call) -> Response:
    version = service(s3).retention(call.bucket, call.key, version_id_param(call))
    body = xml.document(
        "Retention",
        xml.el("Mode", version.lock_mode),
        xml.el("RetainUntilDate", xml.iso_time(version.lock_until_ms)),
    )
    return xml_response(body)


async def put_object_legal_hold(s3: S3Context, call: Call) -> Response:
    version_id = version_id_param(call)
    locks = service(s3)
    bucket, body = await _locked_bucket_body(s3, call)
    status = xml.text(xml.parse(body, "LegalHold"), "Status")
    if status not in LEGAL_HOLDS:
        raise xml.malformed()
    version = await locks.put_legal_hold(call.bucket, call.key, version_id, status)
    return Response(status=200, headers=version_header(bucket, version))


async def get_object_legal_hold(s3: S3Context, call: Call) -> Response:
    version = service(s3).legal_hold(call.bucket, call.key, version_id_param(call))
    return xml_response(xml.document("LegalHold", xml.el("Status", version.legal_hold)))
