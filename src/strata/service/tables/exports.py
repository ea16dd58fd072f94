"""ExportTableToPointInTime, DescribeExport and ListExports: a table's items written into
a Strata bucket, laid out as AWS lays them out::

    <S3Prefix>/AWSDynamoDB/<ExportId>/_started
    <S3Prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz    {"Item": {...}} a line
    <S3Prefix>/AWSDynamoDB/<ExportId>/data/<name>.ion.gz     (ION: $ion_1_0 {Item:{...}})
    <S3Prefix>/AWSDynamoDB/<ExportId>/manifest-files.json    one line per data file
    <S3Prefix>/AWSDynamoDB/<ExportId>/manifest-files.md5
    <S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json
    <S3Prefix>/AWSDynamoDB/<ExportId>/manifest-summary.md5

As AWS's, an export needs point-in-time recovery on, and ``ExportTime`` may be any time
inside its window. A checkpoint (``storage/checkpoints.py``) is taken in the request's
one synchronous step, so the export is consistent; an export of a past time is the
checkpoint's items with every change after that time undone from the checkpoint's change
log (``recovery.items_at``, the restore's own rule). The ``exports`` queue then writes the
files through the object service (``ObjectDocuments``: PutObject's own path, never
HTTP), marks the export COMPLETED and drops the checkpoint. An export left IN_PROGRESS by
a crash is written again from its checkpoint at the next start.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol

import msgspec

from strata.errors import StrataError
from strata.service.tables import incremental, ion_text, keycodec
from strata.service.tables.backup_errors import (
    ExportConflict,
    ExportNotFound,
    InvalidExportTime,
    PointInTimeRecoveryUnavailable,
    TableNotFound,
)
from strata.service.tables.catalogue import ACCOUNT_ID, revised
from strata.service.tables.codec import body_of, decode_item, encode_body
from strata.service.tables.constraints import table_name_from
from strata.service.tables.describe import table_id_text
from strata.service.tables.errors import ValidationError
from strata.service.tables.jobs import JobQueue, job_records, request_digest
from strata.service.tables.recovery import items_at
from strata.service.tables.schema import Table, TableRecord, compile_table, id_prefix
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item, item_size
from strata.storage import keys, records, spaces
from strata.storage.checkpoints import Checkpoints
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.tables")

_EXPORTS: Final = "tables.exports"  # META: + export ARN -> ExportRecord
FILE_ITEMS_MAX: Final = 50_000  # items per data file
FILE_BYTES_MAX: Final = 64 * 1024 * 1024  # uncompressed bytes per data file
LIST_RESULTS_MAX: Final = 25
MANIFEST_VERSION: Final = "2020-06-30"
EXPORT_CHECKPOINT: Final = "export-"  # + export id: the table as the export saw it
OUTSIDE_WINDOW: Final = "The specified ExportTime is outside of the point in time recovery window."


class Documents(Protocol):
    """Whole objects in a bucket (``service/objects/documents.py``)."""

    def bucket_exists(self, bucket: str) -> bool: ...

    async def put(self, bucket: str, key: str, data: bytes, content_type: str) -> str: ...

    def read(self, bucket: str, key: str) -> bytes: ...

    def keys(self, bucket: str, prefix: str, limit: int) -> list[str]: ...


class ExportRecord(msgspec.Struct, frozen=True, kw_only=True):
    arn: str
    export_id: str
    table_arn: str
    table_name: str
    table_id: int
    started_s: float
    export_s: float
    bucket: str
    prefix: str  # S3Prefix as given ("" when none)
    bucket_owner: str | None = None
    sse_algorithm: str | None = None
    sse_key: str | None = None
    client_token: str | None = None
    export_format: str = "DYNAMODB_JSON"
    status: str = "IN_PROGRESS"
    ended_s: float | None = None
    item_count: int = 0
    billed_bytes: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    request_digest: str = ""  # of the request, for ClientToken reuse
    table: TableRecord | None = None  # the table when asked (an export of a past time)
    export_type: str = "FULL_EXPORT"
    from_s: float | None = None  # an incremental export's period: [from_s, export_s)
    view: str | None = None  # its ExportViewType


def _key(arn: str) -> bytes:
    return keys.pack(_EXPORTS, arn)


def _iso(seconds: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds * 1000) % 1000:03d}Z"


def export_folder(record: ExportRecord) -> str:
    """``<S3Prefix>/AWSDynamoDB/<ExportId>`` (no prefix: ``AWSDynamoDB/<ExportId>``)."""
    base = f"AWSDynamoDB/{record.export_id}"
    prefix = record.prefix.rstrip("/")
    return f"{prefix}/{base}" if prefix else base


class ExportService:
    def __init__(
        self, tables: TableService, checkpoints: Checkpoints | None, documents: Documents | None
    ) -> None:
        self.tables = tables
        self.checkpoints = checkpoints
        self.documents = documents
        self.queue: JobQueue[str] = JobQueue("table exports", self._export)
        # The PITR window of a table (``recovery.PointInTimeRecovery.window``).
        self.window: Callable[[Table], tuple[float, float]] | None = None

    def start(self) -> None:
        """Write again every export left IN_PROGRESS (from its checkpoint); drop the
        checkpoints of exports that are done (a crash before their removal)."""
        loading = set()
        for record in self._all():
            if record.status == "IN_PROGRESS":
                self.queue.add(record.arn)
                loading.add(_checkpoint(record))
        if self.checkpoints is not None:
            for name in self.checkpoints.names():
                if name.startswith(EXPORT_CHECKPOINT) and name not in loading:
                    self.checkpoints.remove(name)
        self.queue.start()

    async def stop(self) -> None:
        await self.queue.stop()

    def _all(self) -> list[ExportRecord]:
        found = job_records(self.tables.store, _EXPORTS, ExportRecord)
        return sorted(found, key=lambda e: (e.started_s, e.arn))

    def _get(self, arn: Any) -> ExportRecord:
        raw = self.tables.store.get(spaces.META, _key(arn)) if isinstance(arn, str) else None
        if raw is None:
            raise ExportNotFound(f"Export not found: {arn}")
        return records.decode(raw, ExportRecord)

    async def _save(self, record: ExportRecord) -> None:
        batch = WriteBatch()
        batch.put(spaces.META, _key(record.arn), records.encode(record))
        await self.tables.store.commit(batch)

    # -- ExportTableToPointInTime ------------------------------------------------------------

    async def export_table(self, req: dict[str, Any]) -> dict[str, Any]:
        arn = req["TableArn"]
        table = self.tables.tables.get(table_name_from(arn))
        if table is None or not arn.startswith("arn:") or table.arn != arn:
            raise TableNotFound(f"Table not found: {arn}")
        if self.checkpoints is None or self.documents is None:
            raise ValidationError("Exports need a local data directory and the object store")
        now = self.tables.store.clock.now_s()
        digest = request_digest(req)
        token = req.get("ClientToken")
        if token is not None:
            for known in self._all():
                if known.client_token == token and known.table_arn == arn:
                    if known.request_digest != digest:
                        raise ExportConflict(
                            "There was a conflict when attempting to export: the ClientToken "
                            "was used with different parameters"
                        )
                    return {"ExportDescription": _description(known)}
        # AWS exports only tables with PITR on, from any time inside its window.
        if not table.record.pitr_enabled:
            raise PointInTimeRecoveryUnavailable(
                f"Point in time recovery is not enabled for table '{table.name}'"
            )
        export_s = now
        asked = req.get("ExportTime")
        earliest_s = self.window(table)[0] if self.window is not None else now
        chosen: incremental.Period | None = None
        if req.get("ExportType") == "INCREMENTAL_EXPORT":
            try:
                chosen = incremental.period(req, earliest_s, now)
            except incremental.OutsideWindow:
                raise InvalidExportTime(OUTSIDE_WINDOW) from None
            export_s = chosen.to_s
        elif req.get("IncrementalExportSpecification") is not None:
            raise ValidationError(
                "IncrementalExportSpecification can only be specified for an incremental export"
            )
        elif asked is not None:
            asked_s = float(asked)
            # Seconds are the unit of the window, as for a restore: its first one counts.
            if asked_s > now + 1.0 or asked_s < math.floor(earliest_s):
                raise InvalidExportTime(OUTSIDE_WINDOW)
            export_s = min(asked_s, now)
        if req.get("ExportFormat") == "ION" and chosen is not None:
            raise ValidationError("ExportFormat ION is not supported for incremental exports")
        export_id = f"{int(now * 1000):014d}-{uuid.uuid4().hex[:8]}"
        record = ExportRecord(
            arn=f"{table.arn}/export/{export_id}",
            export_id=export_id,
            table_arn=table.arn,
            table_name=table.name,
            table_id=table.record.table_id,
            started_s=round(now, 3),
            export_s=round(export_s, 3),
            bucket=req["S3Bucket"],
            prefix=req.get("S3Prefix") or "",
            bucket_owner=req.get("S3BucketOwner"),
            sse_algorithm=req.get("S3SseAlgorithm"),
            sse_key=req.get("S3SseKmsKeyId"),
            client_token=token,
            export_format=req.get("ExportFormat") or "DYNAMODB_JSON",
            request_digest=digest,
            table=table.record,
            export_type="FULL_EXPORT" if chosen is None else "INCREMENTAL_EXPORT",
            from_s=None if chosen is None else round(chosen.from_s, 3),
            view=None if chosen is None else chosen.view,
        )
        self.checkpoints.take(EXPORT_CHECKPOINT + export_id)  # the table as of now, in this step
        await self._save(record)
        self.queue.add(record.arn)
        return {"ExportDescription": _description(record)}

    async def _export(self, arn: str) -> None:
        raw = self.tables.store.get(spaces.META, _key(arn))
        if raw is None:
            return
        record = records.decode(raw, ExportRecord)
        assert self.checkpoints is not None
        assert self.documents is not None
        try:
            done = await self._write(record, self.checkpoints, self.documents)
        except StrataError as exc:  # the bucket went away, the disk is full, ...
            code = "S3NoSuchBucket" if "NoSuchBucket" in type(exc).__name__ else "UNKNOWN"
            done = self._failed(record, code, str(exc) or type(exc).__name__)
        await self._save(done)
        self.checkpoints.remove(_checkpoint(record))

    def _failed(self, record: ExportRecord, code: str, message: str) -> ExportRecord:
        return revised(
            record,
            status="FAILED",
            ended_s=round(self.tables.store.clock.now_s(), 3),
            failure_code=code,
            failure_message=message,
        )

    async def _write(
        self, record: ExportRecord, checkpoints: Checkpoints, documents: Documents
    ) -> ExportRecord:
        folder = export_folder(record)
        if not documents.bucket_exists(record.bucket):
            return self._failed(record, "S3NoSuchBucket", "The specified bucket does not exist")
        await documents.put(record.bucket, f"{folder}/_started", b"", "application/octet-stream")
        manifest_lines: list[bytes] = []
        total_items = total_bytes = 0
        prefix = id_prefix(record.table_id)
        if not checkpoints.exists(_checkpoint(record)):  # lost to a crash as it was taken
            lost = "The export's snapshot of the table was lost; export again"
            return self._failed(record, "UNKNOWN", lost)
        reader = checkpoints.open(_checkpoint(record))
        try:
            rows: Iterator[tuple[bytes, int]]  # (line, billed bytes)
            if record.export_type == "INCREMENTAL_EXPORT":
                assert record.table is not None
                assert record.from_s is not None
                table = compile_table(record.table, record.table_arn)
                chosen = incremental.Period(record.from_s, record.export_s, record.view or "")
                rows = incremental.lines(reader, table, chosen)
            elif record.table is not None and record.export_s < record.started_s:
                # A past time: the checkpoint's items with every later change undone.
                table = compile_table(record.table, record.table_arn)
                at_ms = int(record.export_s * 1000)
                if record.export_format == "ION":
                    rows = (_ion_line(i) for i in items_at(reader, table, at_ms))
                else:
                    rows = (_item_line(encode_body(i), i) for i in items_at(reader, table, at_ms))
            else:
                scan = reader.scan(spaces.ITEMS, prefix, keycodec.after_prefix(prefix))
                if record.export_format == "ION":
                    rows = (_ion_line(decode_item(v)) for _, v in scan)
                else:
                    rows = (_item_line(bytes(body_of(v)), decode_item(v)) for _, v in scan)
            number = 0
            while True:
                started = time.monotonic()
                lines: list[bytes] = []
                size = 0
                for line, billed in rows:
                    lines.append(line)
                    size += len(line)
                    total_bytes += billed
                    if len(lines) >= FILE_ITEMS_MAX or size >= FILE_BYTES_MAX:
                        break
                if not lines and number > 0:
                    break
                body = gzip.compress(b"".join(lines), mtime=0)
                name = uuid.uuid5(uuid.NAMESPACE_URL, f"{record.arn}/{number}").hex
                suffix = "ion" if record.export_format == "ION" else "json"
                data_key = f"{folder}/data/{name}.{suffix}.gz"
                etag = await documents.put(record.bucket, data_key, body, "application/gzip")
                manifest_lines.append(
                    json.dumps(
                        {
                            "itemCount": len(lines),
                            "md5Checksum": base64.b64encode(hashlib.md5(body).digest()).decode(),
                            "etag": etag,
                            "dataFileS3Key": data_key,
                        },
                        separators=(",", ":"),
                    ).encode()
                    + b"\n"
                )
                total_items += len(lines)
                number += 1
                if len(lines) < FILE_ITEMS_MAX and size < FILE_BYTES_MAX:
                    break
                await asyncio.sleep(time.monotonic() - started)
        finally:
            reader.close()
        files = b"".join(manifest_lines)
        files_key = f"{folder}/manifest-files.json"
        await documents.put(record.bucket, files_key, files, "application/json")
        await documents.put(
            record.bucket, f"{folder}/manifest-files.md5", _md5_hex(files), "text/plain"
        )
        ended = round(self.tables.store.clock.now_s(), 3)
        done = revised(
            record,
            status="COMPLETED",
            ended_s=ended,
            item_count=total_items,
            billed_bytes=total_bytes,
        )
        summary: dict[str, Any] = {
            "version": MANIFEST_VERSION,
            "exportArn": record.arn,
            "startTime": _iso(record.started_s),
            "endTime": _iso(ended),
            "tableArn": record.table_arn,
            "tableId": table_id_text(record.table_id),
            "exportTime": _iso(record.export_s),
            "s3Bucket": record.bucket,
            "s3Prefix": record.prefix or None,
            "s3SseAlgorithm": record.sse_algorithm or "AES256",
            "s3SseKmsKeyId": record.sse_key,
            "manifestFilesS3Key": files_key,
            "billedSizeBytes": total_bytes,
            "itemCount": total_items,
            "outputFormat": record.export_format,
            "exportType": record.export_type,
        }
        if record.export_type == "INCREMENTAL_EXPORT":
            del summary["exportTime"]
            summary.update(
                version=incremental.MANIFEST_VERSION,
                exportFromTime=_iso(record.from_s or 0.0),
                exportToTime=_iso(record.export_s),
                outputView=record.view,
            )
        summary_bytes = json.dumps(summary, separators=(",", ":")).encode()
        await documents.put(
            record.bucket, f"{folder}/manifest-summary.json", summary_bytes, "application/json"
        )
        await documents.put(
            record.bucket, f"{folder}/manifest-summary.md5", _md5_hex(summary_bytes), "text/plain"
        )
        return done

    # -- DescribeExport / ListExports --------------------------------------------------------

    def describe_export(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ExportDescription": _description(self._get(req["ExportArn"]))}

    def list_exports(self, req: dict[str, Any]) -> dict[str, Any]:
        table_arn = req.get("TableArn")
        limit = req.get("MaxResults") or LIST_RESULTS_MAX
        listed = [e for e in self._all() if table_arn is None or e.table_arn == table_arn]
        token = req.get("NextToken")
        if token is not None:
            arns = [e.arn for e in listed]
            try:
                start = arns.index(base64.urlsafe_b64decode(token.encode()).decode())
            except (ValueError, UnicodeDecodeError, TypeError):
                raise ValidationError("Invalid NextToken") from None
            listed = listed[start:]
        page = listed[:limit]
        out: dict[str, Any] = {
            "ExportSummaries": [
                {"ExportArn": e.arn, "ExportStatus": e.status, "ExportType": e.export_type}
                for e in page
            ]
        }
        if len(listed) > limit:
            out["NextToken"] = base64.urlsafe_b64encode(listed[limit].arn.encode()).decode()
        return out


def _ion_line(item: Item) -> tuple[bytes, int]:
    return ion_text.encode_item(item), item_size(item)


def _checkpoint(record: ExportRecord) -> str:
    return EXPORT_CHECKPOINT + record.export_id


def _item_line(body: bytes, item: Item) -> tuple[bytes, int]:
    return b'{"Item":' + body + b"}\n", item_size(item)


def _md5_hex(data: bytes) -> bytes:
    return hashlib.md5(data).hexdigest().encode()


def _description(e: ExportRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ExportArn": e.arn,
        "ExportStatus": e.status,
        "StartTime": e.started_s,
        "TableArn": e.table_arn,
        "TableId": table_id_text(e.table_id),
        "ExportTime": e.export_s,
        "S3Bucket": e.bucket,
        "S3SseAlgorithm": e.sse_algorithm or "AES256",
        "ExportFormat": e.export_format,
        "ExportType": e.export_type,
        "BilledSizeBytes": e.billed_bytes,
        "ItemCount": e.item_count,
    }
    if e.export_type == "INCREMENTAL_EXPORT":
        del doc["ExportTime"]
        doc["IncrementalExportSpecification"] = {
            "ExportFromTime": e.from_s,
            "ExportToTime": e.export_s,
            "ExportViewType": e.view,
        }
    if e.prefix:
        doc["S3Prefix"] = e.prefix
    doc["S3BucketOwner"] = e.bucket_owner or ACCOUNT_ID
    if e.sse_key:
        doc["S3SseKmsKeyId"] = e.sse_key
    if e.client_token:
        doc["ClientToken"] = e.client_token
    if e.ended_s is not None:
        doc["EndTime"] = e.ended_s
    if e.status == "COMPLETED":
        doc["ExportManifest"] = f"{export_folder(e)}/manifest-summary.json"
    if e.failure_code:
        doc["FailureCode"] = e.failure_code
        doc["FailureMessage"] = e.failure_message or ""
    return doc
