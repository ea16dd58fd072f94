"""RestoreObject: its request's checks; ``service/objects/tiering/restore.py`` does it."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import Call, S3Context, read_small_body
from strata.api.s3.handlers.objects import version_header, version_id_param
from strata.api.s3.handlers.tiering import tiering_of
from strata.errors import ProtocolError
from strata.service.objects.tiering.restore import JOB_TIERS, RESTORE_DAYS_MAX


def _days(root: Element) -> int | None:
    text = xml.text(root, "Days")
    if text is None:
        return None
    try:
        days = int(text.strip())
    except ValueError:
        raise xml.malformed()
    if not 1 <= days <= RESTORE_DAYS_MAX:
        raise ProtocolError(
            "InvalidArgument",
            "Restoration days should be at least 1.",
            ArgumentName="Days",
            ArgumentValue=text.strip(),
        )
    return days


async def restore_object(s3: S3Context, call: Call) -> Response:
    """RestoreObject: 202 for a new restore, 200 when a restored copy's days were moved,
    409 while one runs (``Restores.start``)."""
    tiering = tiering_of(s3)
    version_id = version_id_param(call)
    body = await read_small_body(call.request)
    # No body is an empty request (what an Intelligent-Tiering restore needs; a GLACIER
    # one then lacks its Days).
    root = xml.parse(body, "RestoreRequest") if body.strip() else Element("RestoreRequest")
    if root.find("Type") is not None or root.find("OutputLocation") is not None:
        # S3 Select restores are closed to new customers: not built.
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )
    days = _days(root)
    job = root.find("GlacierJobParameters")
    job_tier = (xml.text(job, "Tier") if job is not None else None) or xml.text(root, "Tier")
    if job is not None and xml.text(job, "Tier") is None:
        raise xml.malformed()  # GlacierJobParameters requires its Tier
    job_tier = (job_tier or "Standard").strip()
    if job_tier not in JOB_TIERS:
        raise xml.malformed()
    bucket = s3.buckets.get(call.bucket)
    started = await tiering.restores.start(call.bucket, call.key, version_id, days, job_tier)
    status = 200 if started.already_restored else 202
    return Response(status=status, headers=version_header(bucket, started.version))
