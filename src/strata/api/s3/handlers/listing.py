"""ListObjects (v1), ListObjectsV2 and ListObjectVersions: XML over ``service.objects.listing``."""

from __future__ import annotations

import functools
from typing import Final
from urllib.parse import quote_plus

from strata.api.http import Response
from strata.api.s3 import tokens, xml
from strata.api.s3.context import Call, S3Context, owner_xml, xml_response
from strata.api.s3.xml import escape_text, iso_time
from strata.errors import ProtocolError
from strata.service.objects import listing
from strata.service.objects.records import ListedVersion

PAGE_KEYS_MAX: Final = 1000
_INT_MAX: Final = 2**31 - 1


def _max_keys(call: Call) -> tuple[int, int]:
    """(keys a page holds, the ``MaxKeys`` S3 echoes): a page stops at 1,000 keys, but
    the value is echoed as sent, as S3 does (``max-keys=5000`` answers ``5000``)."""
    value = call.query("max-keys")
    if value is None:
        return PAGE_KEYS_MAX, PAGE_KEYS_MAX
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= _INT_MAX:
        raise ProtocolError(
            "InvalidArgument",
            "Provided max-keys not an integer or within integer range",
            ArgumentName="max-keys",
            ArgumentValue=value,
        )
    return min(number, PAGE_KEYS_MAX), number


def url_encoding(call: Call) -> bool:
    """Whether ``encoding-type=url`` asks for encoded keys; InvalidArgument for other values."""
    encoding = call.query("encoding-type")
    if encoding is None:
        return False
    if encoding != "url":
        raise ProtocolError(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=encoding,
        )
    return True


def url_encode(value: str | None, url: bool) -> str | None:
    """A key, prefix or marker as ``encoding-type=url`` shows it: form encoding, ``/`` kept.

    AWS answers a space as ``+`` (and a ``+`` as ``%2B``, ``%`` as ``%25``, UTF-8 bytes
    percent-encoded, ``/`` as is), in keys and common prefixes alike: measured against
    S3 in ap-northeast-2 in September 2026 (brekkylab/backlot#178), and the ``+`` in
    listed keys users report (bcgov/gwells#1801); botocore decodes with ``unquote_plus``.
    The ceph s3-tests expect ``%20``: they follow RGW here, not AWS. Observed behaviour
    wins, as our rule is.
    """
    if value is None or not url:
        return value
    return quote_plus(value, safe="/")


_OWNER: Final = owner_xml()


def _owner() -> str:
    return _OWNER


@functools.cache
def _tail(
    checksum_algorithm: str, checksum_type: str, storage_class: str, owner: bool
) -> tuple[str, str]:
    """The text of a ``Contents`` entry after its ETag: up to the size, and after it.

    Its values come from small sets (algorithms, storage classes): cached."""
    checksum = ""
    if checksum_algorithm:
        checksum = (
            f"<ChecksumAlgorithm>{escape_text(checksum_algorithm)}</ChecksumAlgorithm>"
            f"<ChecksumType>{escape_text(checksum_type)}</ChecksumType>"
        )
    return (
        f"{checksum}<Size>",
        f"</Size>{_OWNER if owner else ''}"
        f"<StorageClass>{escape_text(storage_class)}</StorageClass></Contents>",
    )


def restore_status_asked(call: Call) -> bool:
    """``x-amz-optional-object-attributes: RestoreStatus`` (the one value S3 defines)."""
    asked = call.header("x-amz-optional-object-attributes")
    return asked is not None and "RestoreStatus" in asked.split(",")


def _restore_status(version: ListedVersion) -> str:
    if version.restore_ready_ms is not None:
        return "<RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>"
    assert version.restore_expiry_ms is not None
    return (
        "<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress><RestoreExpiryDate>"
        f"{iso_time(version.restore_expiry_ms)}</RestoreExpiryDate></RestoreStatus>"
    )


def _contents(
    objects: list[tuple[str, ListedVersion]], url: bool, owner: bool, restore: bool = False
) -> list[str]:
    """The ``Contents`` entries of a page: the same text as nesting ``xml.el``, built with
    one f-string per entry (a page has up to 1,000). ETags are hex digits (and ``-N``):
    nothing in them to escape. ``restore``: each restored or restoring version's
    ``RestoreStatus`` (OptionalObjectAttributes)."""
    entries = []
    for key, version in objects:
        if url:
            key = quote_plus(key, safe="/")
        if "&" in key or "<" in key or ">" in key:
            key = escape_text(key)
        before, after = _tail(
            version.checksum_algorithm, version.checksum_type, version.storage_class, owner
        )
        entries.append(
            f"<Contents><Key>{key}</Key><LastModified>{iso_time(version.last_modified_ms)}"
            f'</LastModified><ETag>"{version.etag}"</ETag>{before}{version.size_bytes}{after}'
        )
        if restore and (
            version.restore_ready_ms is not None or version.restore_expiry_ms is not None
        ):
            entries[-1] = (
                entries[-1][: -len("</Contents>")] + _restore_status(version) + ("</Contents>")
            )
    return entries


def _prefixes(page_prefixes: list[str], url: bool) -> list[str]:
    return [
        f"<CommonPrefixes><Prefix>{escape_text(url_encode(p, url) or '')}</Prefix></CommonPrefixes>"
        for p in page_prefixes
    ]


async def list_objects(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    url = url_encoding(call)
    prefix = call.query("prefix") or ""
    delimiter = call.query("delimiter") or ""
    marker = call.query("marker") or ""
    max_keys, echoed = _max_keys(call)
    page = listing.list_objects(
        s3.buckets.store,
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        marker=marker,
        max_keys=max_keys,
    )
    next_marker = page.last if page.truncated and delimiter else None
    body = xml.document(
        "ListBucketResult",
        xml.el("Name", call.bucket),
        # Not encoded in ListObjects (v1), though the API reference lists it: observed,
        # and botocore decodes every other encoded element but this one.
        xml.el("Prefix", prefix),
        xml.el("Marker", url_encode(marker, url)),
        xml.el("NextMarker", url_encode(next_marker, url)),
        xml.el("MaxKeys", echoed),
        xml.el("Delimiter", url_encode(delimiter, url) if delimiter else None),
        xml.el("IsTruncated", page.truncated),
        xml.el("EncodingType", "url" if url else None),
        *_contents(page.objects, url, True, restore_status_asked(call)),
        *_prefixes(page.prefixes, url),
    )
    return xml_response(body)


async def list_objects_v2(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    if call.query("list-type") != "2":
        raise ProtocolError(
            "InvalidArgument",
            "Invalid List Type specified in Request",
            ArgumentName="list-type",
            ArgumentValue=call.query("list-type") or "",
        )
    url = url_encoding(call)
    prefix = call.query("prefix") or ""
    delimiter = call.query("delimiter") or ""
    token = call.query("continuation-token")
    start_after = call.query("start-after")
    if token is not None and not token:
        raise ProtocolError(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
            ArgumentValue=token,
        )
    marker = (
        tokens.decode("ListObjectsV2", call.bucket, token, ArgumentValue=token)
        if token
        else start_after
    )
    max_keys, echoed = _max_keys(call)
    fetch_owner = (call.query("fetch-owner") or "").lower() == "true"
    page = listing.list_objects(
        s3.buckets.store,
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        marker=marker,
        max_keys=max_keys,
    )
    next_token = None
    if page.truncated and page.last is not None:
        next_token = tokens.encode("ListObjectsV2", call.bucket, page.last)
    body = xml.document(
        "ListBucketResult",
        xml.el("Name", call.bucket),
        xml.el("Prefix", url_encode(prefix, url)),
        xml.el("ContinuationToken", token),
        xml.el("NextContinuationToken", next_token),
        xml.el("StartAfter", url_encode(start_after, url)),
        xml.el("KeyCount", len(page.objects) + len(page.prefixes)),
        xml.el("MaxKeys", echoed),
        xml.el("Delimiter", url_encode(delimiter, url) if delimiter else None),
        xml.el("IsTruncated", page.truncated),
        xml.el("EncodingType", "url" if url else None),
        *_contents(page.objects, url, fetch_owner, restore_status_asked(call)),
        *_prefixes(page.prefixes, url),
    )
    return xml_response(body)


async def list_object_versions(s3: S3Context, call: Call) -> Response:
    s3.buckets.get(call.bucket)
    url = url_encoding(call)
    prefix = call.query("prefix") or ""
    delimiter = call.query("delimiter") or ""
    key_marker = call.query("key-marker") or ""
    version_marker = call.query("version-id-marker") or ""
    max_keys, echoed = _max_keys(call)
    page = listing.list_versions(
        s3.buckets.store,
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker or None,
        version_id_marker=version_marker or None,
        max_keys=max_keys,
    )
    entries: list[str] = []
    restore = restore_status_asked(call)
    for key, version, latest in page.versions:
        common = [
            xml.el("Key", url_encode(key, url)),
            xml.el("VersionId", version.version_id),
            xml.el("IsLatest", latest),
            xml.el("LastModified", xml.iso_time(version.last_modified_ms)),
        ]
        if version.delete_marker:
            entries.append(xml.node("DeleteMarker", *common, _owner()))
            continue
        fields = [*common, xml.el("ETag", f'"{version.etag}"')]
        if version.checksum_algorithm:
            fields.append(xml.el("ChecksumAlgorithm", version.checksum_algorithm))
            fields.append(xml.el("ChecksumType", version.checksum_type))
        fields += [
            xml.el("Size", version.size_bytes),
            xml.el("StorageClass", version.storage_class),
            _owner(),
        ]
        if restore and (
            version.restore_ready_ms is not None or version.restore_expiry_ms is not None
        ):
            fields.append(_restore_status(version))
        entries.append(xml.node("Version", *fields))
    next_fields: list[str] = []
    if page.truncated:
        next_fields.append(xml.el("NextKeyMarker", url_encode(page.next_key, url)))
        if page.next_version_id is not None:
            next_fields.append(xml.el("NextVersionIdMarker", page.next_version_id))
    body = xml.document(
        "ListVersionsResult",
        xml.el("Name", call.bucket),
        xml.el("Prefix", url_encode(prefix, url)),
        xml.el("KeyMarker", url_encode(key_marker, url)),
        xml.el("VersionIdMarker", version_marker),
        *next_fields,
        xml.el("MaxKeys", echoed),
        xml.el("Delimiter", url_encode(delimiter, url) if delimiter else None),
        xml.el("IsTruncated", page.truncated),
        xml.el("EncodingType", "url" if url else None),
        *entries,
        *_prefixes(page.prefixes, url),
    )
    return xml_response(body)
