"""Multipart operations and GetObjectAttributes.

CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads: request parsing and the XML S3
answers with; the semantics live in ``service/objects/multipart.py``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final
from urllib.parse import quote

from strata import limits
from strata.api.http import Response
from strata.api.s3 import xml
from strata.api.s3.context import (
    Call,
    S3Context,
    content_md5,
    owner_xml,
    xml_response,
)
from strata.api.s3.encryption import (
    COPY_SOURCE_CUSTOMER,
    customer_key,
    encryption_headers,
    encryption_request,
)
from strata.api.s3.handlers.lifecycle import abort_headers, expiration_headers
from strata.api.s3.handlers.listing import url_encode, url_encoding
from strata.api.s3.handlers.objects import (
    _copy_source,
    check_key,
    declared_size,
    new_object,
    payload_checks,
    read_copy_source,
    version_header,
    version_id_param,
    write_condition,
)
from strata.errors import ProtocolError
from strata.service.objects.errors import BadDigest
from strata.service.objects.integrity import DIGEST_BYTES
from strata.service.objects.multipart import (
    COMPOSITE,
    CRC_ALGORITHMS,
    FULL_OBJECT,
    Completion,
    MultipartService,
    NoSuchUpload,
    PartRecord,
    RequestedPart,
    UploadRecord,
)
from strata.service.objects.records import NULL_VERSION, BucketRecord, ObjectVersion
from strata.storage.checksums import b64

LIST_MAX: Final = 1000  # ListParts / ListMultipartUploads / ObjectParts page size cap
OBJECT_ATTRIBUTES: Final = frozenset(
    {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}
)
_COPY_RANGE: Final = re.compile(r"^bytes=(\d+)-(\d+)$")


def service(s3: S3Context) -> MultipartService:
    return MultipartService(s3.objects)


# ---- request parsing --------------------------------------------------------------------


def _upload_id(call: Call) -> str:
    value = call.query("uploadId")
    if not value:
        raise ProtocolError("InvalidArgument", "This operation does not accept an empty uploadId")
    return value


def _part_number(call: Call) -> int:
    raw = call.query("partNumber")
    try:
        number = int(raw) if raw is not None else 0
    except ValueError:
        number = 0
    if not 1 <= number <= limits.parts_count_max:
        raise ProtocolError(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=raw or "",
        )
    return number


def _bounded_int(value: str | None, name: str, default: int, cap: int = LIST_MAX) -> int:
    """A non-negative integer parameter, capped at ``cap``."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ProtocolError(
            "InvalidArgument",
            f"Provided {name} not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=value,
        )
    return min(number, cap)


def _checksum_algorithm(value: str | None) -> str:
    if value is None:
        return ""
    algorithm = value.strip().upper()
    if algorithm not in DIGEST_BYTES:
        raise ProtocolError(
            "InvalidRequest",
            "Checksum algorithm provided is unsupported. Please try again with any of the valid "
            "types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        )
    return algorithm


def _checksum_type(algorithm: str, value: str | None) -> str:
    """The upload's checksum type: as asked, else S3's default for the algorithm."""
    if value is None:
        return FULL_OBJECT if algorithm in ("", "CRC64NVME") else COMPOSITE
    kind = value.strip().upper()
    if kind not in (COMPOSITE, FULL_OBJECT):
        raise ProtocolError("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    if not algorithm:
        raise ProtocolError(
            "InvalidRequest",
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
            "header.",
        )
    if kind == FULL_OBJECT and algorithm not in CRC_ALGORITHMS:
        raise ProtocolError(
            "InvalidRequest",
            f"The FULL_OBJECT checksum type cannot be used with the {algorithm.lower()} "
            "checksum algorithm.",
        )
    if kind == COMPOSITE and algorithm == "CRC64NVME":
        raise ProtocolError(
            "InvalidRequest",
            "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.",
        )
    return kind


def _parse_parts(body: bytes) -> list[RequestedPart]:
    root = xml.parse(body, "CompleteMultipartUpload")
    parts: list[RequestedPart] = []
    for entry in root.findall("Part"):
        number_text = xml.text(entry, "PartNumber")
        etag = xml.text(entry, "ETag")
        if number_text is None or etag is None:
            raise xml.malformed()
        try:
            number = int(number_text.strip())
        except ValueError:
            raise xml.malformed()
        if not 1 <= number <= limits.parts_count_max:
            raise ProtocolError(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
                ArgumentName="partNumber",
                ArgumentValue=str(number),
            )
        checksums: dict[str, str] = {}
        for algorithm in DIGEST_BYTES:
            value = xml.text(entry, f"Checksum{algorithm}")
            if value is not None:
                checksums[algorithm] = value
        parts.append(RequestedPart(number, etag.strip().strip('"'), checksums))
    if not parts:
        raise xml.malformed()
    return parts


def _completion(call: Call) -> Completion:
    full: tuple[str, str] | None = None
    for algorithm in DIGEST_BYTES:
        value = call.header(f"x-amz-checksum-{algorithm.lower()}")
        if value is not None:
            full = (algorithm, value)
    kind = call.header("x-amz-checksum-type")
    if kind is not None and kind.strip().upper() not in (COMPOSITE, FULL_OBJECT):
        raise ProtocolError("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    size_header = call.header("x-amz-mp-object-size")
    size: int | None = None
    if size_header is not None:
        try:
            size = int(size_header)
        except ValueError:
            raise ProtocolError(
                "InvalidRequest", "Value for x-amz-mp-object-size header is invalid."
            )
    return Completion(
        condition=write_condition(call, star_match_header="If-None-Match"),
        checksum_type=kind.strip().upper() if kind is not None else None,
        full_checksum=full,
        object_size=size,
    )


# ---- rendering ----------------------------------------------------------------------------


def _principal(tag: str) -> str:
    """Initiator / Owner: the canonical ID alone (S3 stopped sending DisplayName in 2025)."""
    return owner_xml(tag)


def _upload_checksum_fields(upload: UploadRecord) -> list[str]:
    if not upload.checksum_algorithm:
        return []
    return [
        xml.el("ChecksumAlgorithm", upload.checksum_algorithm),
        xml.el("ChecksumType", upload.checksum_type),
    ]


def _part_checksum(upload: UploadRecord, part: PartRecord) -> str:
    if not upload.checksum_algorithm:
        return ""
    return xml.el(f"Checksum{upload.checksum_algorithm}", b64(part.checksum))


def _object_checksum(version: ObjectVersion, suffix: bool) -> str:
    value = b64(version.checksum)
    if suffix and version.checksum_type == COMPOSITE:
        value += f"-{len(version.part_sizes)}"
    return xml.el(f"Checksum{version.checksum_algorithm}", value)


# ---- handlers -----------------------------------------------------------------------------


async def create_multipart_upload(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    new = new_object(s3, call)
    encryption = encryption_request(s3, call)
    algorithm = _checksum_algorithm(call.header("x-amz-checksum-algorithm"))
    kind = _checksum_type(algorithm, call.header("x-amz-checksum-type"))
    upload = await service(s3).create(call.bucket, call.key, new, algorithm, kind, encryption)
    headers = encryption_headers(upload.encryption, encryption.customer)
    if s3.lifecycle is not None and call.bucket in s3.lifecycle.by_bucket:
        headers += abort_headers(s3.lifecycle, call.bucket, call.key, upload.initiated_ms)
    if algorithm:
        headers += [("x-amz-checksum-algorithm", algorithm), ("x-amz-checksum-type", kind)]
    body = xml.document(
        "InitiateMultipartUploadResult",
        xml.el("Bucket", call.bucket),
        xml.el("Key", call.key),
        xml.el("UploadId", upload.upload_id),
    )
    return xml_response(body, headers=headers)


async def upload_part(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    part_number = _part_number(call)
    upload_id = _upload_id(call)
    checks = payload_checks(call)
    size = declared_size(call)
    customer = customer_key(s3, call)
    upload, part = await service(s3).upload_part(
        call.bucket, call.key, upload_id, part_number, call.request.body, checks, size, customer
    )
    headers = [("etag", f'"{part.etag}"'), *encryption_headers(upload.encryption, customer)]
    if upload.checksum_algorithm:
        headers.append((f"x-amz-checksum-{upload.checksum_algorithm.lower()}", b64(part.checksum)))
    return Response(status=200, headers=headers)


def _copy_range(call: Call, size: int) -> tuple[int, int]:
    """(start, length) of the source bytes a part copy takes."""
    value = call.header("x-amz-copy-source-range")
    if value is None:
        return 0, size
    match = _COPY_RANGE.match(value.strip())
    if match is None:
        raise ProtocolError(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=value,
        )
    first, last = int(match.group(1)), int(match.group(2))
    if first > last or last >= size:
        raise ProtocolError(
            "InvalidArgument",
            f"Range specified is not valid for source object of size: {size}",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=value,
        )
    return first, last - first + 1


async def upload_part_copy(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    part_number = _part_number(call)
    upload_id = _upload_id(call)
    multipart = service(s3)
    multipart.get_upload(call.bucket, call.key, upload_id)
    src_bucket, src_key, src_version_id = _copy_source(call)
    source_bucket, source = read_copy_source(s3, call, src_bucket, src_key, src_version_id)
    start, length = _copy_range(call, source.size_bytes)
    if length > limits.part_bytes_max:
        raise ProtocolError(
            "InvalidRequest",
            "The specified copy source is larger than the maximum allowable size for a copy "
            f"source: {limits.part_bytes_max}",
        )
    customer = customer_key(s3, call)
    upload, part = await multipart.copy_part(
        call.bucket,
        call.key,
        upload_id,
        part_number,
        source,
        start,
        length,
        customer,
        customer_key(s3, call, COPY_SOURCE_CUSTOMER),
        src_bucket,
    )
    headers = encryption_headers(upload.encryption, customer)
    if source_bucket.versioning or source.version_id != NULL_VERSION:
        headers.append(("x-amz-copy-source-version-id", source.version_id))
    fields = [
        xml.el("ETag", f'"{part.etag}"'),
        xml.el("LastModified", xml.iso_time(part.last_modified_ms)),
        _part_checksum(upload, part),
    ]
    return xml_response(xml.document("CopyPartResult", *fields), headers=headers)


async def complete_multipart_upload(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    upload_id = _upload_id(call)
    multipart = service(s3)
    # A repeated completion: S3 answers it with the result again, as long as it keeps
    # the upload's record (here: while its object is the key's current version).
    done = await multipart.completed(call.bucket, call.key, upload_id)
    if done is not None:
        await call.request.body.read(limits.complete_body_bytes_max)
        return _completed(s3, call, *done)
    multipart.get_upload(call.bucket, call.key, upload_id)
    completion = _completion(call)
    # Not ``read_small_body``: the x-amz-checksum-* headers of a completion are the
    # object's checksum, not the body's.
    md5 = content_md5(call.request)
    body = await call.request.body.read(limits.complete_body_bytes_max)
    if md5 is not None and hashlib.md5(body).digest() != md5:
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
    requested = _parse_parts(body)
    try:
        bucket, version = await multipart.complete(
            call.bucket, call.key, upload_id, requested, completion
        )
    except NoSuchUpload:
        done = await multipart.completed(call.bucket, call.key, upload_id)
        if done is None:
            raise
        return _completed(s3, call, *done)  # a concurrent completion of this upload won
    return _completed(s3, call, bucket, version)


def _completed(s3: S3Context, call: Call, bucket: BucketRecord, version: ObjectVersion) -> Response:
    host = call.header("host") or "localhost"
    location = f"http://{host}/{quote(call.bucket)}/{quote(call.key)}"
    fields = [
        xml.el("Location", location),
        xml.el("Bucket", call.bucket),
        xml.el("Key", call.key),
        xml.el("ETag", f'"{version.etag}"'),
    ]
    if version.checksum_algorithm:
        fields += [
            _object_checksum(version, suffix=True),
            xml.el("ChecksumType", version.checksum_type),
        ]
    return xml_response(
        xml.document("CompleteMultipartUploadResult", *fields),
        headers=[
            *encryption_headers(version.encryption),
            *version_header(bucket, version),
            *_expiration(s3, call, version),
        ],
    )


def _expiration(s3: S3Context, call: Call, version: ObjectVersion) -> list[tuple[str, str]]:
    if s3.lifecycle is None or call.bucket not in s3.lifecycle.expiring:
        return []
    return expiration_headers(s3.lifecycle, call.bucket, call.key, version)


async def abort_multipart_upload(s3: S3Context, call: Call) -> Response:
    await service(s3).abort(call.bucket, call.key, _upload_id(call))
    return Response(status=204)


async def list_parts(s3: S3Context, call: Call) -> Response:
    upload_id = _upload_id(call)
    max_parts = _bounded_int(call.query("max-parts"), "max-parts", LIST_MAX)
    marker = _bounded_int(
        call.query("part-number-marker"), "part-number-marker", 0, limits.parts_count_max
    )
    multipart = service(s3)
    upload = multipart.get_upload(call.bucket, call.key, upload_id)
    parts: list[PartRecord] = []
    truncated = False
    for part in multipart.parts(call.bucket, call.key, upload_id, after=marker):
        if len(parts) >= max_parts:
            truncated = True
            break
        parts.append(part)
    rendered = [
        xml.node(
            "Part",
            xml.el("PartNumber", part.part_number),
            xml.el("LastModified", xml.iso_time(part.last_modified_ms)),
            xml.el("ETag", f'"{part.etag}"'),
            xml.el("Size", part.size_bytes),
            _part_checksum(upload, part),
        )
        for part in parts
    ]
    body = xml.document(
        "ListPartsResult",
        xml.el("Bucket", call.bucket),
        xml.el("Key", call.key),
        xml.el("UploadId", upload_id),
        xml.el("PartNumberMarker", marker),
        xml.el("NextPartNumberMarker", parts[-1].part_number if parts else 0),
        xml.el("MaxParts", max_parts),
        xml.el("IsTruncated", truncated),
        *rendered,
        _principal("Initiator"),
        _principal("Owner"),
        xml.el("StorageClass", upload.storage_class),
        *_upload_checksum_fields(upload),
    )
    return xml_response(body)


async def list_multipart_uploads(s3: S3Context, call: Call) -> Response:
    url = url_encoding(call)

    def enc(value: str | None) -> str | None:
        return url_encode(value, url)

    prefix = call.query("prefix") or ""
    delimiter = call.query("delimiter") or ""
    key_marker = call.query("key-marker") or ""
    upload_id_marker = call.query("upload-id-marker") or ""
    max_uploads = _bounded_int(call.query("max-uploads"), "max-uploads", LIST_MAX)
    listing = service(s3).list_uploads(
        call.bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        upload_id_marker=upload_id_marker if key_marker else "",
        max_uploads=max_uploads,
    )
    uploads = [
        xml.node(
            "Upload",
            xml.el("Key", enc(upload.key)),
            xml.el("UploadId", upload.upload_id),
            _principal("Initiator"),
            _principal("Owner"),
            xml.el("StorageClass", upload.storage_class),
            xml.el("Initiated", xml.iso_time(upload.initiated_ms)),
            *_upload_checksum_fields(upload),
        )
        for upload in listing.uploads
    ]
    prefixes = [
        xml.node("CommonPrefixes", xml.el("Prefix", enc(common)))
        for common in listing.common_prefixes
    ]
    body = xml.document(
        "ListMultipartUploadsResult",
        xml.el("Bucket", call.bucket),
        xml.el("KeyMarker", enc(key_marker)),
        xml.el("UploadIdMarker", upload_id_marker),
        xml.el("NextKeyMarker", enc(listing.next_key_marker)),
        xml.el("NextUploadIdMarker", listing.next_upload_id_marker),
        xml.el("Delimiter", enc(delimiter) if delimiter else None),
        xml.el("Prefix", enc(prefix)),
        xml.el("MaxUploads", max_uploads),
        xml.el("IsTruncated", listing.truncated),
        *uploads,
        *prefixes,
        xml.el("EncodingType", "url" if url else None),
    )
    return xml_response(body)


async def get_object_attributes(s3: S3Context, call: Call) -> Response:
    raw = call.header("x-amz-object-attributes") or ""
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    if not wanted:
        raise ProtocolError(
            "InvalidArgument",
            "The x-amz-object-attributes header specifying the attributes to be retrieved is "
            "either missing or empty",
        )
    if not wanted <= OBJECT_ATTRIBUTES:
        raise ProtocolError("InvalidArgument", "Invalid attribute name specified.")
    max_parts = _bounded_int(call.header("x-amz-max-parts"), "max-parts", LIST_MAX)
    marker = _bounded_int(
        call.header("x-amz-part-number-marker"), "part-number-marker", 0, limits.parts_count_max
    )
    bucket, version = s3.objects.get(call.bucket, call.key, version_id_param(call))
    fields: list[str] = []
    if "ETag" in wanted:
        fields.append(xml.el("ETag", version.etag))
    if "Checksum" in wanted and version.checksum_algorithm:
        fields.append(
            xml.node(
                "Checksum",
                _object_checksum(version, suffix=False),
                xml.el("ChecksumType", version.checksum_type),
            )
        )
    if "ObjectParts" in wanted and version.part_sizes:
        fields.append(_object_parts(version, max_parts, marker))
    if "StorageClass" in wanted:
        fields.append(xml.el("StorageClass", version.storage_class))
    if "ObjectSize" in wanted:
        fields.append(xml.el("ObjectSize", version.size_bytes))
    headers = [("last-modified", xml.http_date(version.last_modified_ms))]
    headers += version_header(bucket, version)
    return xml_response(xml.document("GetObjectAttributesResponse", *fields), headers=headers)


def _object_parts(version: ObjectVersion, max_parts: int, marker: int) -> str:
    total = len(version.part_sizes)
    fields = [xml.el("PartsCount", total)]
    if version.part_checksums:
        numbers = list(range(marker + 1, total + 1))
        page = numbers[:max_parts]
        truncated = len(numbers) > len(page)
        fields += [
            xml.el("PartNumberMarker", marker),
            xml.el("NextPartNumberMarker", page[-1] if page else marker),
            xml.el("MaxParts", max_parts),
            xml.el("IsTruncated", truncated),
        ]
        for number in page:
            fields.append(
                xml.node(
                    "Part",
                    xml.el("PartNumber", number),
                    xml.el("Size", version.part_sizes[number - 1]),
                    xml.el(
                        f"Checksum{version.checksum_algorithm}",
                        b64(version.part_checksums[number - 1]),
                    ),
                )
            )
    return xml.node("ObjectParts", *fields)
