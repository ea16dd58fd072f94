"""Object operations: Put, Get, Head, Delete, DeleteObjects, Copy, object tagging."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

from strata import limits
from strata.api.http import BodyDigest, FileRange, Response
from strata.api.s3 import xml
from strata.api.s3.actions import authorize, object_action, object_arn
from strata.api.s3.context import Call, S3Context, content_md5, read_small_body, xml_response
from strata.api.s3.encryption import (
    COPY_SOURCE_CUSTOMER,
    CUSTOMER,
    customer_key,
    encryption_headers,
    encryption_request,
)
from strata.api.s3.errors import s3_code
from strata.api.s3.handlers.acl import object_acl
from strata.api.s3.handlers.archived import (
    WATCHED_CLASSES,
    archived_read,
    copy_accessed,
    restore_headers,
)
from strata.api.s3.handlers.lifecycle import expiration_headers
from strata.api.s3.handlers.lock_headers import bypass_governance, lock_headers, lock_request
from strata.api.s3.handlers.tagging import parse_tagging, parse_tagging_header, render_tagging
from strata.api.s3.mail_safe import mail_safe
from strata.errors import ProtocolError, StrataError
from strata.service.objects.conditions import ReadConditions, check_read
from strata.service.objects.encryption import NO_REQUEST, CustomerKey
from strata.service.objects.errors import (
    InvalidPartNumber,
    InvalidRange,
    MethodNotAllowed,
    NoSuchVersion,
)
from strata.service.objects.integrity import DIGEST_BYTES, PayloadChecks, decode_digest
from strata.service.objects.locks import ObjectLocked
from strata.service.objects.objects import NewObject, WriteCondition
from strata.service.objects.records import (
    NULL_VERSION,
    BucketRecord,
    ObjectVersion,
)
from strata.storage.checksums import b64

SYSTEM_HEADERS: Final = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
)
# The classes a general purpose bucket takes. OUTPOSTS (S3 on Outposts) and
# EXPRESS_ONEZONE (directory buckets only) are InvalidStorageClass here, as on S3.
STORAGE_CLASSES: Final = frozenset(
    {
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
        "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "SNOW",
    }
)  # fmt: skip
RESPONSE_OVERRIDES: Final = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
DEFAULT_CONTENT_TYPE: Final = "binary/octet-stream"
DELETE_OBJECTS_MAX: Final = 1000
CUSTOMER_ALGORITHM: Final = CUSTOMER + "algorithm"
CUSTOMER_KEY: Final = CUSTOMER + "key"
_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")
# Checksums cheap enough to verify on every GET (hardware CRCs; zlib's CRC32).
FAST_CHECKSUMS: Final = frozenset({"CRC32", "CRC32C", "CRC64NVME"})
_CHECKSUM_HEADERS: Final = tuple((a, f"x-amz-checksum-{a.lower()}") for a in DIGEST_BYTES)

# ---- request parsing --------------------------------------------------------------------


def check_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if size > limits.key_bytes_max:
        raise ProtocolError(
            "KeyTooLongError",
            "Your key is too long",
            Size=str(size),
            MaxSizeAllowed=str(limits.key_bytes_max),
        )


def system_headers(call: Call) -> dict[str, str]:
    headers: dict[str, str] = {}
    request_headers = call.request.headers
    for name in SYSTEM_HEADERS:
        value = request_headers.get(name)
        if value is None:
            continue
        if name == "content-encoding":
            # aws-chunked is framing, not the object's encoding: the other values are kept
            # as they were sent (spacing included), repeated headers joined with ",".
            if "aws-chunked" in value:
                kept = [p for p in value.split(",") if p.strip() not in ("aws-chunked", "")]
                value = ",".join(kept)
            if not value.strip():
                continue
            value = value.strip()
        headers[name] = value
    return headers


def user_metadata(call: Call) -> dict[str, str]:
    metadata = {
        name[11:]: value  # len("x-amz-meta-")
        for name, value in call.request.headers.items()
        if name[:11] == "x-amz-meta-"
    }
    if not metadata:
        return metadata
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > limits.metadata_bytes_max:
        raise ProtocolError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
            Size=str(size),
            MaxSizeAllowed=str(limits.metadata_bytes_max),
        )
    return metadata


def storage_class(call: Call, default: str = "STANDARD") -> str:
    value = call.header("x-amz-storage-class")
    if value is None:
        return default
    if value not in STORAGE_CLASSES:
        raise ProtocolError(
            "InvalidStorageClass",
            "The storage class you specified is not valid",
            StorageClassRequested=value,
        )
    return value


def new_object(s3: S3Context, call: Call) -> NewObject:
    tagging = call.header("x-amz-tagging")
    return NewObject(
        headers=system_headers(call),
        user_metadata=user_metadata(call),
        tags=parse_tagging_header(tagging) if tagging else [],
        storage_class=storage_class(call),
        acl=object_acl(s3, call.request, call.bucket),
        lock=lock_request(s3, call),
    )


def _unsupported_algorithm() -> ProtocolError:
    return ProtocolError(
        "InvalidRequest",
        "Checksum algorithm provided is unsupported. Please try again with any of the valid "
        "types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    )


def payload_checks(call: Call) -> PayloadChecks:
    """The digests a PutObject payload must match (headers or an announced trailer)."""
    checks = PayloadChecks(content_md5=content_md5(call.request))
    request_headers = call.request.headers
    given = [a for a, name in _CHECKSUM_HEADERS if name in request_headers]
    if len(given) > 1:
        raise ProtocolError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )
    sdk = call.header("x-amz-sdk-checksum-algorithm")
    if sdk is not None and sdk.upper() not in DIGEST_BYTES:
        raise _unsupported_algorithm()
    trailer = (call.header("x-amz-trailer") or "").strip().lower()
    if given:
        algorithm = given[0]
        header = call.header(f"x-amz-checksum-{algorithm.lower()}")
        assert header is not None
        checks.algorithm = algorithm
        checks.expected = decode_digest(header, algorithm)
        checks.algorithm_given = True
    elif trailer.startswith("x-amz-checksum-"):
        algorithm = trailer[len("x-amz-checksum-") :].upper()
        if algorithm not in DIGEST_BYTES:
            raise _unsupported_algorithm()
        trailers = call.request.body.trailers
        checks.algorithm = algorithm
        checks.trailer = lambda: trailers.get(trailer)
        checks.algorithm_given = True
    elif sdk is not None:
        checks.algorithm = sdk.upper()
        checks.algorithm_given = True
    return checks


def declared_size(call: Call) -> int | None:
    value = call.header("x-amz-decoded-content-length") or call.header("content-length")
    if value is None:
        return None
    try:
        size = int(value)
    except ValueError:
        raise ProtocolError("InvalidArgument", "Invalid Content-Length")
    if size > limits.object_bytes_max:
        raise ProtocolError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=str(size),
            MaxSizeAllowed=str(limits.object_bytes_max),
        )
    return size


def read_conditions(call: Call, prefix: str = "") -> ReadConditions:
    return ReadConditions(
        if_match=call.header(prefix + "if-match"),
        if_none_match=call.header(prefix + "if-none-match"),
        if_modified_since=call.header(prefix + "if-modified-since"),
        if_unmodified_since=call.header(prefix + "if-unmodified-since"),
    )


def version_id_param(call: Call) -> str | None:
    value = call.query("versionId")
    if value is None:
        return None
    if value == "":
        raise ProtocolError("InvalidArgument", "Version id cannot be the empty string")
    return value


# ---- response headers -------------------------------------------------------------------


def version_header(bucket: BucketRecord, version: ObjectVersion) -> list[tuple[str, str]]:
    if bucket.versioning or version.version_id != NULL_VERSION:
        return [("x-amz-version-id", version.version_id)]
    return []


def checksum_headers(version: ObjectVersion) -> list[tuple[str, str]]:
    if not version.checksum_algorithm:
        return []
    value = b64(version.checksum)
    if version.checksum_type == "COMPOSITE":
        value += f"-{len(version.part_sizes)}"
    return [
        (f"x-amz-checksum-{version.checksum_algorithm.lower()}", value),
        ("x-amz-checksum-type", version.checksum_type),
    ]


def part_checksum_headers(version: ObjectVersion, number: int) -> list[tuple[str, str]]:
    """The checksum S3 gives a ``partNumber`` read: that part's, when the upload kept one
    per part; the object's when the object is its own single part; else none."""
    if not version.checksum_algorithm:
        return []
    if not version.part_sizes:
        return checksum_headers(version)
    if not version.part_checksums:
        return []
    return [
        (
            f"x-amz-checksum-{version.checksum_algorithm.lower()}",
            b64(version.part_checksums[number - 1]),
        ),
        ("x-amz-checksum-type", version.checksum_type),
    ]


def object_headers(
    call: Call, bucket: BucketRecord, version: ObjectVersion, customer: CustomerKey | None = None
) -> list[tuple[str, str]]:
    query = call.request.query
    if query and any(param in query for param in RESPONSE_OVERRIDES):
        stored = dict(version.headers)
        stored.setdefault("content-type", DEFAULT_CONTENT_TYPE)
        for param, name in RESPONSE_OVERRIDES.items():
            override = query.get(param)
            if override is not None:
                stored[name] = override
        system = list(stored.items())
    else:
        system = list(version.headers.items())
        if "content-type" not in version.headers:
            system.append(("content-type", DEFAULT_CONTENT_TYPE))
    headers = [
        ("etag", f'"{version.etag}"'),
        ("last-modified", xml.http_date(version.last_modified_ms)),
        ("accept-ranges", "bytes"),
        *system,
        *encryption_headers(version.encryption, customer),
    ]
    if version.user_metadata:
        headers += [(f"x-amz-meta-{k}", mail_safe(v)) for k, v in version.user_metadata.items()]
    if bucket.versioning or version.version_id != NULL_VERSION:
        headers.append(("x-amz-version-id", version.version_id))
    if version.storage_class != "STANDARD":
        headers.append(("x-amz-storage-class", version.storage_class))
    if version.tags:
        headers.append(("x-amz-tagging-count", str(len(version.tags))))
    if version.part_sizes and "partNumber" in query:  # S3: only then
        headers.append(("x-amz-mp-parts-count", str(len(version.part_sizes))))
    if version.storage_class in WATCHED_CLASSES:
        headers += restore_headers(version)
    return headers


def archived_copy_source() -> ProtocolError:
    return ProtocolError(
        "InvalidObjectState",
        "The source object of the COPY operation is not in the active tier and is only "
        "stored in Amazon Glacier.",
        403,
    )


def write_condition(call: Call, star_match_header: str = "If-Match") -> WriteCondition | None:
    """If-None-Match: * or If-Match: <etag> of PutObject and CompleteMultipartUpload.

    S3 takes one of the two, and If-None-Match only as ``*``, If-Match never as ``*``:
    anything else is 501 NotImplemented naming the header (observed answers; the API
    reference says only "expects the '*' character"). For If-Match: * S3 names
    If-Match on PutObject but If-None-Match on CompleteMultipartUpload, as observed.
    """
    if_none_match, if_match = call.header("if-none-match"), call.header("if-match")
    if if_none_match is None and if_match is None:
        return None
    header = detail = ""
    if if_none_match is not None and if_match is not None:
        header = "If-Match,If-None-Match"
        detail = "Multiple conditional request headers present in the request"
    elif if_none_match is not None and if_none_match.strip() != "*":
        header = "If-None-Match"
    elif if_match is not None and if_match.strip() == "*":
        header = star_match_header
    if header:
        raise ProtocolError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            Header=header,
            additionalMessage=detail
            or f"We don't accept the provided value of {header} header for this API",
        )
    return WriteCondition(if_none_match=if_none_match, if_match=if_match)


# ---- handlers ---------------------------------------------------------------------------


async def put_object(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    new = new_object(s3, call)
    encryption = encryption_request(s3, call)
    checks = payload_checks(call)
    size = declared_size(call)
    condition = write_condition(call)
    bucket, version = await s3.objects.put(
        call.bucket,
        call.key,
        call.request.body,
        declared_size=size,
        new=new,
        checks=checks,
        condition=condition,
        encryption=encryption,
    )
    headers = [("etag", f'"{version.etag}"'), *version_header(bucket, version)]
    headers += encryption_headers(version.encryption, encryption.customer)
    headers += checksum_headers(version)
    if s3.lifecycle is not None and call.bucket in s3.lifecycle.expiring:
        headers += expiration_headers(s3.lifecycle, call.bucket, call.key, version)
    return Response(status=200, headers=headers)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(start, length) of a satisfiable single range; None to ignore the header."""
    match = _RANGE.match(value.strip())
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if size == 0:
            return None  # S3 answers a suffix range of an empty object with all of it: 200
        if suffix == 0:
            raise InvalidRange(value, size)
        start = max(0, size - suffix)
        return start, size - start
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise InvalidRange(value, size)
    end = min(end, size - 1)
    return start, end - start + 1


async def get_object(s3: S3Context, call: Call) -> Response:
    method = call.request.method
    query, request_headers = call.request.query, call.request.headers
    version_id = version_id_param(call) if query else None
    bucket, version = s3.objects.get(call.bucket, call.key, version_id, method)
    if version.storage_class in WATCHED_CLASSES:
        version = archived_read(s3, call, version, method)
    customer = None
    if CUSTOMER_ALGORITHM in request_headers or CUSTOMER_KEY in request_headers:
        customer = customer_key(s3, call)  # S3's errors for whichever part is missing
    if (
        "if-match" in request_headers
        or "if-none-match" in request_headers
        or "if-modified-since" in request_headers
        or "if-unmodified-since" in request_headers
    ):
        check_read(read_conditions(call), version.etag, version.last_modified_ms)
    headers = object_headers(call, bucket, version, customer)
    if s3.lifecycle is not None and call.bucket in s3.lifecycle.expiring and version_id is None:
        headers += expiration_headers(s3.lifecycle, call.bucket, call.key, version)
    if version.lock_mode or version.legal_hold:
        headers += lock_headers(s3, call, version)
    size = version.size_bytes
    start, length, status = 0, size, 200
    range_header = request_headers.get("range")
    part_number = query.get("partNumber")
    if part_number is not None:
        if range_header is not None:
            raise ProtocolError(
                "InvalidRequest", "Cannot specify both Range header and partNumber query parameter"
            )
        try:
            number = int(part_number)
        except ValueError:
            number = 0
        if not 1 <= number <= limits.parts_count_max:
            raise ProtocolError(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
                ArgumentName="partNumber",
                ArgumentValue=part_number,
            )
        sizes = version.part_sizes or [size]
        if number > len(sizes):
            raise InvalidPartNumber(
                PartNumberRequested=str(number), ActualPartCount=str(len(sizes))
            )
        start, length = sum(sizes[: number - 1]), sizes[number - 1]
        if length:
            # A part is a range: 206 with Content-Range, even for part 1 of a plain object.
            # A 0-byte object has nothing to range over: 200, as S3 answers.
            status = 206
            headers.append(("content-range", f"bytes {start}-{start + length - 1}/{size}"))
        if (request_headers.get("x-amz-checksum-mode") or "").upper() == "ENABLED":
            headers += part_checksum_headers(version, number)
    elif range_header is not None:
        parsed = _parse_range(range_header, size)
        if parsed is not None:
            start, length = parsed
            status = 206
            headers.append(("content-range", f"bytes {start}-{start + length - 1}/{size}"))
    if (
        status == 200
        and part_number is None
        and (request_headers.get("x-amz-checksum-mode") or "").upper() == "ENABLED"
    ):
        headers += checksum_headers(version)
    name = f"{call.bucket}/{call.key} version {version.version_id}"
    located = s3.objects.locate(version, start, length, customer, call.bucket, name)
    if located.inline is not None:
        return Response(status=status, headers=headers, body=located.inline)
    assert located.reader is not None
    plain = located.reader.plain()
    if plain is None:  # compressed or sealed: decoded as it is sent
        # A sealed object's every chunk is authenticated as it is decrypted (a stronger
        # check than the whole-object digest, and an SSE-C ETag is no MD5); a compressed
        # plain one is checked whole.
        whole = status == 200 and method == "GET" and version.encryption is None
        digest = body_digest(call, version, 0) if whole else None
        stream = located.reader.stream()
        return Response(status=status, headers=headers, stream=stream, length=length, digest=digest)
    files = [FileRange(piece.path, piece.offset, piece.length) for piece in plain]
    digest = body_digest(call, version, len(files)) if status == 200 and method == "GET" else None
    return Response(status=status, headers=headers, files=files, length=length, digest=digest)


def body_digest(call: Call, version: ObjectVersion, files: int) -> BodyDigest | None:
    """How a whole-object GET checks its bytes as they are sent (ranges and parts are
    checked for presence and size only): the stored CRC when there is one (hardware
    CRC32C/CRC64NVME add ~15% to a 16 MiB GET's CPU, zlib's CRC32 ~40%), else the ETag's
    MD5 (~1.5 ms/MiB: about 4x the CPU of an unchecked GET)."""
    name = f"{call.bucket}/{call.key} version {version.version_id}"
    algorithm = version.checksum_algorithm
    parts = len(version.part_sizes)
    if algorithm in FAST_CHECKSUMS:
        if version.checksum_type == "FULL_OBJECT":
            return BodyDigest(algorithm, False, version.checksum.hex(), name)
        if len(version.part_checksums) == parts == files:
            return BodyDigest(algorithm, True, b"".join(version.part_checksums).hex(), name)
    if not parts:
        return BodyDigest("MD5", False, version.etag, name)
    if files == parts:  # one file per part: the ETag is the MD5 of their MD5s
        return BodyDigest("MD5", True, version.etag, name)
    return None


async def head_object(s3: S3Context, call: Call) -> Response:
    return await get_object(s3, call)


async def delete_object(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    version_id = version_id_param(call)
    bypass = version_id is not None and bypass_governance(s3, call, call.key)
    _, outcome = await s3.objects.delete(call.bucket, call.key, version_id, bypass=bypass)
    headers: list[tuple[str, str]] = []
    if outcome.delete_marker:
        headers.append(("x-amz-delete-marker", "true"))
    if outcome.version_id is not None:
        headers.append(("x-amz-version-id", outcome.version_id))
    return Response(status=204, headers=headers)


async def delete_objects(s3: S3Context, call: Call) -> Response:
    bucket_record = s3.buckets.get(call.bucket)
    body = await read_small_body(
        call.request, limits.delete_objects_body_bytes_max, checksum_required=True
    )
    root = xml.parse(body, "Delete")
    quiet = (xml.text(root, "Quiet") or "").strip().lower() == "true"
    targets: list[tuple[str, str | None]] = []
    for entry in root.findall("Object"):
        key = xml.text(entry, "Key")
        if key is None:
            raise xml.malformed()
        targets.append((key, xml.text(entry, "VersionId")))
    if not targets or len(targets) > DELETE_OBJECTS_MAX:
        raise xml.malformed()
    results: list[str] = []
    for key, version_id in targets:
        try:
            check_key(key)
            action = object_action("s3:DeleteObject", version_id)
            authorize(s3.access, call.request, action, object_arn(call.bucket, key))
            if version_id == "":
                raise ProtocolError("InvalidArgument", "Invalid version id specified")
            if version_id not in (None, NULL_VERSION) and not bucket_record.versioning:
                # A bucket never versioned has no version but "null": S3 says so per key.
                raise NoSuchVersion(key, version_id)
            bypass = version_id is not None and bypass_governance(s3, call, key)
            _, outcome = await s3.objects.delete(call.bucket, key, version_id, bypass=bypass)
        except StrataError as exc:
            code = s3_code(exc)
            message = exc.message
            if isinstance(exc, ObjectLocked):
                # S3 words a locked key's error in DeleteObjects so (MinIO copies it).
                message = "Access Denied because object protected by object lock."
            results.append(
                xml.node(
                    "Error",
                    xml.el("Key", key),
                    xml.el("VersionId", version_id),
                    xml.el("Code", code),
                    xml.el("Message", message),
                )
            )
            continue
        if quiet:
            continue
        fields = [xml.el("Key", key)]
        if version_id is not None:
            fields.append(xml.el("VersionId", version_id))
            if outcome.delete_marker:
                fields += [
                    xml.el("DeleteMarker", True),
                    xml.el("DeleteMarkerVersionId", version_id),
                ]
        elif outcome.delete_marker:
            fields += [
                xml.el("DeleteMarker", True),
                xml.el("DeleteMarkerVersionId", outcome.version_id),
            ]
        results.append(xml.node("Deleted", *fields))
    return xml_response(xml.document("DeleteResult", *results))


def _copy_source(call: Call) -> tuple[str, str, str | None]:
    raw = call.header("x-amz-copy-source") or ""
    path, _, query = raw.partition("?")
    version_id = None
    if query:
        name, _, value = query.partition("=")
        if name != "versionId":
            raise ProtocolError("InvalidArgument", "Invalid copy source object key")
        version_id = unquote(value)
        if not version_id:
            raise ProtocolError("InvalidArgument", "Invalid version id specified")
    path = unquote(path)
    if path.startswith("/"):
        path = path[1:]
    bucket, slash, key = path.partition("/")
    if not slash or not bucket or not key:
        raise ProtocolError(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=raw,
        )
    return bucket, key, version_id


def _directive(call: Call, name: str) -> str:
    value = (call.header(f"x-amz-{name}-directive") or "COPY").upper()
    if value not in ("COPY", "REPLACE"):
        word = "metadata" if name == "metadata" else "tagging"
        raise ProtocolError(
            "InvalidArgument",
            f"Unknown {word} directive.",
            ArgumentName=f"x-amz-{name}-directive",
            ArgumentValue=value,
        )
    return value


def read_copy_source(
    s3: S3Context, call: Call, bucket: str, key: str, version_id: str | None
) -> tuple[BucketRecord, ObjectVersion]:
    """The version a copy reads (CopyObject, UploadPartCopy), its conditions checked."""
    action = object_action("s3:GetObject", version_id)
    authorize(s3.access, call.request, action, object_arn(bucket, key))
    try:
        source_bucket, source = s3.objects.get(bucket, key, version_id)
    except MethodNotAllowed:
        raise ProtocolError(
            "InvalidRequest",
            "The source of a copy request may not specifically refer to a delete marker "
            "by version id.",
        )
    check_read(
        read_conditions(call, "x-amz-copy-source-"),
        source.etag,
        source.last_modified_ms,
        copy_source=True,
    )
    if not s3.objects.readable(source):
        raise archived_copy_source()
    copy_accessed(s3, bucket, key, source)
    return source_bucket, source


async def copy_object(s3: S3Context, call: Call) -> Response:
    check_key(call.key)
    src_bucket, src_key, src_version_id = _copy_source(call)
    acl = object_acl(s3, call.request, call.bucket)
    encryption = encryption_request(s3, call)
    source_customer = customer_key(s3, call, COPY_SOURCE_CUSTOMER)
    metadata_directive = _directive(call, "metadata")
    tagging_directive = _directive(call, "tagging")
    source_bucket, source = read_copy_source(s3, call, src_bucket, src_key, src_version_id)
    if source.size_bytes > limits.object_bytes_max:
        raise ProtocolError(
            "InvalidRequest",
            "The specified copy source is larger than the maximum allowable size for a copy "
            f"source: {limits.object_bytes_max}",
        )
    target_class = storage_class(call)
    same = src_bucket == call.bucket and src_key == call.key
    if (
        same
        and metadata_directive == "COPY"
        and call.header("x-amz-storage-class") is None
        and src_version_id is None
        and encryption == NO_REQUEST
    ):
        raise ProtocolError(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    if metadata_directive == "REPLACE":
        headers, metadata = system_headers(call), user_metadata(call)
    else:
        headers, metadata = dict(source.headers), dict(source.user_metadata)
    if tagging_directive == "REPLACE":
        tagging = call.header("x-amz-tagging")
        tags = parse_tagging_header(tagging) if tagging else []
    else:
        tags = list(source.tags)
    bucket, version = await s3.objects.copy(
        source,
        call.bucket,
        call.key,
        new=NewObject(headers, metadata, tags, target_class, acl, lock_request(s3, call)),
        encryption=encryption,
        source_customer=source_customer,
        source_bucket=src_bucket,
    )
    response_headers = [
        *encryption_headers(version.encryption, encryption.customer),
        *version_header(bucket, version),
    ]
    if s3.lifecycle is not None and call.bucket in s3.lifecycle.expiring:
        response_headers += expiration_headers(s3.lifecycle, call.bucket, call.key, version)
    if source_bucket.versioning or source.version_id != NULL_VERSION:
        response_headers.append(("x-amz-copy-source-version-id", source.version_id))
    fields = [
        xml.el("ETag", f'"{version.etag}"'),
        xml.el("LastModified", xml.iso_time(version.last_modified_ms)),
    ]
    if version.checksum_algorithm:
        fields.append(xml.el(f"Checksum{version.checksum_algorithm}", b64(version.checksum)))
        fields.append(xml.el("ChecksumType", version.checksum_type))
    return xml_response(xml.document("CopyObjectResult", *fields), headers=response_headers)


async def get_object_tagging(s3: S3Context, call: Call) -> Response:
    bucket, version = s3.objects.get(call.bucket, call.key, version_id_param(call))
    return xml_response(render_tagging(version.tags), headers=version_header(bucket, version))


async def put_object_tagging(s3: S3Context, call: Call) -> Response:
    body = await read_small_body(call.request, checksum_required=True)
    tags = parse_tagging(body, bucket=False)
    bucket = s3.buckets.get(call.bucket)
    version = await s3.objects.put_tags(call.bucket, call.key, version_id_param(call), tags)
    return Response(status=200, headers=version_header(bucket, version))


async def delete_object_tagging(s3: S3Context, call: Call) -> Response:
    bucket = s3.buckets.get(call.bucket)
    version = await s3.objects.put_tags(call.bucket, call.key, version_id_param(call), [])
    return Response(status=204, headers=version_header(bucket, version))
