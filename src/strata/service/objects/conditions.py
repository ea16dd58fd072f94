"""HTTP conditional requests evaluated the way S3 orders them.

Reads (GET/HEAD), RFC 7232 precedence as S3 applies it:
  1. If-Match present: false -> 412; when true, If-Unmodified-Since is ignored.
  2. Else If-Unmodified-Since false -> 412.
  3. If-None-Match present: false (the ETag matches) -> 304; when present and true,
     If-Modified-Since is ignored.
  4. Else If-Modified-Since false (not modified since) -> 304.
Copy sources (``x-amz-copy-source-if-*``) use the same evaluation, but every failure is 412.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from strata.service.objects.errors import NotModified, PreconditionFailed


@dataclass(frozen=True, slots=True)
class ReadConditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None


def parse_http_date(value: str | None) -> float | None:
    """Seconds since the epoch, or None for an absent or unparsable date (then ignored)."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (or is ``*``)."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == "*" or candidate.strip('"') == etag:
            return True
    return False


def check_read(
    conditions: ReadConditions, etag: str, last_modified_ms: int, *, copy_source: bool = False
) -> None:
    """Raise ``PreconditionFailed`` or ``NotModified`` if the conditions say so."""
    modified_s = last_modified_ms // 1000  # HTTP dates have whole seconds
    prefix = "x-amz-copy-source-" if copy_source else ""
    if conditions.if_match is not None:
        if not etag_matches(conditions.if_match, etag):
            raise PreconditionFailed(f"{prefix}If-Match" if copy_source else "If-Match")
    else:
        since = parse_http_date(conditions.if_unmodified_since)
        if since is not None and modified_s > since:
            raise PreconditionFailed(
                f"{prefix}If-Unmodified-Since" if copy_source else "If-Unmodified-Since"
            )
    if conditions.if_none_match is not None:
        if etag_matches(conditions.if_none_match, etag):
            if copy_source:
                raise PreconditionFailed(f"{prefix}If-None-Match")
            raise NotModified(etag, last_modified_ms)
    else:
        since = parse_http_date(conditions.if_modified_since)
        if since is not None and modified_s <= since:
            if copy_source:
                raise PreconditionFailed(f"{prefix}If-Modified-Since")
            raise NotModified(etag, last_modified_ms)
