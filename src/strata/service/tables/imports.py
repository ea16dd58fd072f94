"""ImportTable, DescribeImport and ListImports: a new table loaded from a Strata bucket.

``ImportTable`` checks ``TableCreationParameters`` as CreateTable would, then saves, in one
batch, the new table (CREATING), its load job (``restores.py``) and an ``ImportRecord``
in META, and answers IN_PROGRESS. The restore queue's task then reads every object under
``S3KeyPrefix`` through ``ObjectDocuments`` (the object service's own read path, never
HTTP), decompresses and parses it line by line (``import_formats.py``), and writes each
item through ``Changes.stage`` with its index entries, in paced chunks. The batch that
ends the job marks the table ACTIVE and the import COMPLETED with its counts; an import
that cannot go on (its bucket is gone, nothing is under the prefix) is FAILED and its
table removed in one batch: a half-loaded table never says ACTIVE. A crash mid-load
starts the job again from the first object (rewriting an item writes the same record).

Items that do not parse or do not fit the table's key schema are counted in ErrorCount
and skipped, and a COMPLETED import with errors carries AWS's ``ItemValidationError``;
items sharing a key overwrite each other and are not errors, as AWS documents. Strata
has no CloudWatch: ``CloudWatchLogGroupArn`` is never set, the errors are logged.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from strata import limits
from strata.errors import StrataError
from strata.service.tables import import_formats, ion_text
from strata.service.tables.backup_errors import ImportConflict, ImportNotFound
from strata.service.tables.catalogue import revised
from strata.service.tables.constraints import Constraints
from strata.service.tables.create import table_record
from strata.service.tables.describe import table_id_text
from strata.service.tables.errors import TablesError, ValidationError
from strata.service.tables.exports import Documents
from strata.service.tables.indexes import check_index_keys
from strata.service.tables.items import key_bytes
from strata.service.tables.jobs import job_records, request_digest
from strata.service.tables.restores import LoadFailed, RestoreJob, Restores
from strata.service.tables.schema import Table
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item, validate_item_sized
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.tables")

_IMPORTS: Final = "tables.imports"  # META: + import ARN -> ImportRecord
OBJECTS_MAX: Final = 50_000  # S3 objects one import reads (AWS's quota)
CLIENT_TOKEN_S: Final = 8 * 3600  # a ClientToken names one import for 8 hours
LIST_PAGE_MAX: Final = 25
_CREATION_MEMBERS: Final = (
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "GlobalSecondaryIndexes",
)
_DELIMITER: Final = re.compile(r"[,;:|\t ]")
MODEL_ERRORS: Final = re.compile(r"\d+ validation errors? detected: ")
_HEADER: Final = re.compile(r"[\x20-\x21\x23-\x2B\x2D-\x7E]*")
ITEM_VALIDATION_ERROR: Final = (
    "Some of the items failed validation checks and were not imported. Please check "
    "CloudWatch error logs for more details."
)


class ImportRecord(msgspec.Struct, frozen=True, kw_only=True):
    arn: str
    import_id: str
    table_arn: str
    table_name: str
    table_id: int
    started_s: float
    bucket: str
    key_prefix: str | None = None
    bucket_owner: str | None = None
    input_format: str
    format_options: dict[str, Any] | None = None  # InputFormatOptions as given
    compression: str | None = None  # InputCompressionType as given
    creation: dict[str, Any]  # TableCreationParameters as given
    client_token: str | None = None
    request_digest: str = ""
    status: str = "IN_PROGRESS"
    ended_s: float | None = None
    processed_items: int = 0
    processed_bytes: int = 0
    imported_items: int = 0
    errors: int = 0
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass
class Progress:
    """Counts of an import being loaded (DescribeImport shows them while IN_PROGRESS)."""

    processed_items: int = 0
    processed_bytes: int = 0
    imported_items: int = 0
    errors: int = 0


def _key(arn: str) -> bytes:
    return keys.pack(_IMPORTS, arn)


class ImportService:
    def __init__(
        self, tables: TableService, restores: Restores, documents: Documents | None
    ) -> None:
        self.tables = tables
        self.restores = restores
        self.documents = documents
        self.progress: dict[str, Progress] = {}  # import ARN -> counts while loading
        restores.register("import", self._items, self._finished)

    # -- records -----------------------------------------------------------------------------

    def _all(self) -> list[ImportRecord]:
        found = job_records(self.tables.store, _IMPORTS, ImportRecord)
        return sorted(found, key=lambda i: (i.started_s, i.arn))

    def _get(self, arn: Any) -> ImportRecord:
        raw = self.tables.store.get(spaces.META, _key(arn)) if isinstance(arn, str) else None
        if raw is None:
            raise ImportNotFound(f"Import not found: {arn}")
        return records.decode(raw, ImportRecord)

    # -- ImportTable -------------------------------------------------------------------------

    async def import_table(self, req: dict[str, Any]) -> dict[str, Any]:
        source: dict[str, Any] = req["S3BucketSource"]
        params: dict[str, Any] = req["TableCreationParameters"]
        options = req.get("InputFormatOptions")
        _check_options(options)
        digest = request_digest(req)
        now = self.tables.store.clock.now_s()
        token = req.get("ClientToken")
        if token is not None:
            for known in self._all():
                if known.client_token != token or now - known.started_s > CLIENT_TOKEN_S:
                    continue
                if known.request_digest != digest:
                    raise ImportConflict(
                        "There was a conflict when importing from the specified S3 source. "
                        "The ClientToken was used by another import with different parameters."
                    )
                return {"ImportTableDescription": self._description(known)}
        creation: dict[str, Any] = {k: params[k] for k in _CREATION_MEMBERS if k in params}
        try:
            record = revised(table_record(self.tables, creation), status="CREATING")
        except ValidationError as exc:  # CreateTable's words, at the members' ImportTable paths
            if MODEL_ERRORS.match(exc.message):
                raise ValidationError(
                    exc.message.replace(" at '", " at 'tableCreationParameters.")
                ) from None
            raise
        import_id = f"{int(now * 1000):014d}-{uuid.uuid4().hex[:8]}"
        table_arn = self.tables.arn(record.name)
        imported = ImportRecord(
            arn=f"{table_arn}/import/{import_id}",
            import_id=import_id,
            table_arn=table_arn,
            table_name=record.name,
            table_id=record.table_id,
            started_s=round(now, 3),
            bucket=source["S3Bucket"],
            key_prefix=source.get("S3KeyPrefix"),
            bucket_owner=source.get("S3BucketOwner"),
            input_format=req["InputFormat"],
            format_options=options,
            compression=req.get("InputCompressionType"),
            creation=params,
            client_token=token,
            request_digest=digest,
        )
        batch = WriteBatch()
        batch.put(spaces.META, _key(imported.arn), records.encode(imported))
        self.restores.begin_record(record, "import", imported.arn, batch=batch)
        await self.tables.store.durable(self.tables.last_sequence)
        log.info("import %s into %s begun", imported.arn, record.name)
        return {"ImportTableDescription": self._description(imported)}

    # -- the load ------------------------------------------------------------------------

    @contextmanager
    def _items(self, job: RestoreJob) -> Iterator[Iterator[Item]]:
        record = self._get(job.ref)
        progress = Progress()  # a job run again after a crash counts again from zero
        self.progress[record.arn] = progress
        try:
            yield self._read(record, job, progress)
        finally:
            if self.progress.get(record.arn) is progress and record.arn not in self._loading():
                del self.progress[record.arn]

    def _loading(self) -> set[str]:
        return {job.ref for job in self.restores.jobs() if job.kind == "import"}

    def _read(self, record: ImportRecord, job: RestoreJob, progress: Progress) -> Iterator[Item]:
        documents = self.documents
        if documents is None or not documents.bucket_exists(record.bucket):
            raise LoadFailed("S3NoSuchBucket", "The specified bucket does not exist")
        found = documents.keys(record.bucket, record.key_prefix or "", OBJECTS_MAX + 1)
        if not found:
            raise LoadFailed(
                "InvalidParameter",
                f"No objects found under the S3 key prefix '{record.key_prefix or ''}' "
                f"of bucket {record.bucket}",
            )
        if len(found) > OBJECTS_MAX:
            raise LoadFailed("LimitExceeded", f"An import reads at most {OBJECTS_MAX} S3 objects")
        compression = record.compression or "NONE"
        for key in found:
            try:
                data = documents.read(record.bucket, key)
            except StrataError as exc:  # removed meanwhile, too large to read
                progress.errors += 1
                log.warning(
                    "import %s: s3://%s/%s skipped: %s", record.arn, record.bucket, key, exc
                )
                continue
            try:
                yield from self._parse(record, job, key, data, compression, progress)
            except import_formats.BadFile as exc:
                progress.errors += 1
                log.warning(
                    "import %s: rest of s3://%s/%s skipped: %s", record.arn, record.bucket, key, exc
                )

    def _parse(
        self,
        record: ImportRecord,
        job: RestoreJob,
        key: str,
        data: bytes,
        compression: str,
        progress: Progress,
    ) -> Iterator[Item]:
        """The valid items of one object; BadFile when the rest of it cannot be read."""

        def counted(stream: Iterator[bytes]) -> Iterator[bytes]:
            for line in stream:
                progress.processed_bytes += len(line)
                yield line

        file_lines = counted(import_formats.lines(data, compression))
        rows: Iterator[Item | import_formats.BadLine | None]
        if record.input_format == "CSV":
            table = self._target(job)
            key_types = {a.name: a.kind for a in table.record.attributes} if table else {}
            csv_options = (record.format_options or {}).get("Csv") or {}
            rows = import_formats.CsvRows(
                csv_options.get("Delimiter") or ",", csv_options.get("HeaderList"), key_types
            ).items(file_lines)
        elif record.input_format == "ION":
            rows = _ion_rows(file_lines)
        else:
            rows = _json_rows(file_lines)
        for row in rows:
            if row is None:
                continue
            progress.processed_items += 1
            table = self._target(job)
            if table is None:
                return  # removed while loading: the restore queue ends the job
            item = self._valid(table, row)
            if isinstance(item, str):
                progress.errors += 1
                log.info(
                    "import %s: an item of s3://%s/%s skipped: %s",
                    record.arn,
                    record.bucket,
                    key,
                    item,
                )
                continue
            progress.imported_items += 1
            yield item

    @staticmethod
    def _valid(table: Table, row: Item | import_formats.BadLine) -> Item | str:
        """The item checked as PutItem checks it, or why it is refused."""
        if isinstance(row, import_formats.BadLine):
            return str(row)
        try:
            item, size = validate_item_sized(row)
            if size > limits.item_bytes_max:
                return "Item size has exceeded the maximum allowed size"
            key_bytes(table, item)
            check_index_keys(table, item)
        except (TablesError, RecursionError) as exc:
            return str(exc) or type(exc).__name__
        return item

    def _target(self, job: RestoreJob) -> Table | None:
        table = self.tables.tables.get(job.target)
        if table is None or table.record.table_id != job.table_id:
            return None
        return table

    def _finished(
        self,
        job: RestoreJob,
        table: Table | None,
        failure: LoadFailed | None,
        batch: WriteBatch,
    ) -> None:
        """Stage the import's final record in the batch that ends its job."""
        raw = self.tables.store.get(spaces.META, _key(job.ref))
        if raw is None:
            return
        record = records.decode(raw, ImportRecord)
        progress = self.progress.pop(record.arn, None) or Progress()
        ended = round(self.tables.store.clock.now_s(), 3)
        done = revised(record, ended_s=ended, **dataclasses.asdict(progress))
        if failure is not None:
            done = revised(
                done, status="FAILED", failure_code=failure.code, failure_message=str(failure)
            )
        elif table is None:
            done = revised(
                done,
                status="FAILED",
                failure_code="TableNotFound",
                failure_message="The table being imported into was deleted",
            )
        else:
            done = revised(done, status="COMPLETED")
            if progress.errors:
                done = revised(
                    done,
                    failure_code="ItemValidationError",
                    failure_message=ITEM_VALIDATION_ERROR,
                )
        batch.put(spaces.META, _key(record.arn), records.encode(done))
        log.info(
            "import %s %s: %d items processed, %d imported, %d errors",
            record.arn,
            done.status,
            done.processed_items,
            done.imported_items,
            done.errors,
        )

    # -- DescribeImport / ListImports -------------------------------------------------------

    def describe_import(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ImportTableDescription": self._description(self._get(req["ImportArn"]))}

    def list_imports(self, req: dict[str, Any]) -> dict[str, Any]:
        table_arn = req.get("TableArn")
        limit = req.get("PageSize") or LIST_PAGE_MAX
        listed = [i for i in self._all() if table_arn is None or i.table_arn == table_arn]
        token = req.get("NextToken")
        if token is not None:
            arns = [i.arn for i in listed]
            start = _token_arn(token)
            if start not in arns:
                raise ValidationError("Invalid NextToken")
            listed = listed[arns.index(start) :]
        page = listed[:limit]
        out: dict[str, Any] = {"ImportSummaryList": [self._summary(i) for i in page]}
        if len(listed) > limit:
            out["NextToken"] = _token(listed[limit].arn)
        return out

    def _live(self, record: ImportRecord) -> ImportRecord:
        progress = self.progress.get(record.arn)
        if record.status != "IN_PROGRESS" or progress is None:
            return record
        return revised(record, **dataclasses.asdict(progress))

    def _summary(self, record: ImportRecord) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ImportArn": record.arn,
            "ImportStatus": record.status,
            "TableArn": record.table_arn,
            "S3BucketSource": _bucket_source(record),
            "InputFormat": record.input_format,
            "StartTime": record.started_s,
        }
        if record.ended_s is not None:
            doc["EndTime"] = record.ended_s
        return doc

    def _description(self, record: ImportRecord) -> dict[str, Any]:
        r = self._live(record)
        doc: dict[str, Any] = {
            "ImportArn": r.arn,
            "ImportStatus": r.status,
            "TableArn": r.table_arn,
            "TableId": table_id_text(r.table_id),
            "S3BucketSource": _bucket_source(r),
            "ErrorCount": r.errors,
            "InputFormat": r.input_format,
            "InputCompressionType": r.compression or "NONE",
            "TableCreationParameters": r.creation,
            "StartTime": r.started_s,
            "ProcessedSizeBytes": r.processed_bytes,
            "ProcessedItemCount": r.processed_items,
            "ImportedItemCount": r.imported_items,
        }
        if r.client_token is not None:
            doc["ClientToken"] = r.client_token
        if r.format_options is not None:
            doc["InputFormatOptions"] = r.format_options
        if r.ended_s is not None:
            doc["EndTime"] = r.ended_s
        if r.failure_code is not None:
            doc["FailureCode"] = r.failure_code
            doc["FailureMessage"] = r.failure_message or ""
        return doc


def _json_rows(
    file_lines: Iterator[bytes],
) -> Iterator[Item | import_formats.BadLine | None]:
    for line in file_lines:
        try:
            yield import_formats.dynamodb_json_item(line)
        except import_formats.BadLine as bad:
            yield bad


def _ion_rows(
    file_lines: Iterator[bytes],
) -> Iterator[Item | import_formats.BadLine | None]:
    for line in file_lines:
        try:
            yield ion_text.item_of_line(line.decode("utf-8"))
        except (ion_text.IonError, UnicodeDecodeError) as exc:
            yield import_formats.BadLine(f"the line is not an Ion item: {exc}")


def _bucket_source(record: ImportRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"S3Bucket": record.bucket}
    if record.bucket_owner is not None:
        doc["S3BucketOwner"] = record.bucket_owner
    if record.key_prefix is not None:
        doc["S3KeyPrefix"] = record.key_prefix
    return doc


def _check_options(options: Any) -> None:
    """CsvOptions' constraints in AWS's words (the model check sees only the top level)."""
    csv_options = options.get("Csv") if isinstance(options, dict) else None
    if not isinstance(csv_options, dict):
        return
    checks = Constraints()
    path = "inputFormatOptions.csv"
    delimiter = csv_options.get("Delimiter")
    if delimiter is not None and not (
        isinstance(delimiter, str) and _DELIMITER.fullmatch(delimiter)
    ):
        checks.add(
            delimiter,
            f"{path}.delimiter",
            "Member must satisfy regular expression pattern: [,;:|\\t ]",
        )
    headers = csv_options.get("HeaderList")
    if isinstance(headers, list):
        if not headers:
            checks.add(headers, f"{path}.headerList", _LENGTH_AT_LEAST_1)
        elif len(headers) > 255:
            checks.add(
                headers, f"{path}.headerList", "Member must have length less than or equal to 255"
            )
        elif not all(
            isinstance(h, str) and 1 <= len(h) <= 65536 and _HEADER.fullmatch(h) for h in headers
        ):
            checks.add(headers, f"{path}.headerList", _HEADER_CONSTRAINT)
    checks.raise_if_any()


_LENGTH_AT_LEAST_1: Final = "Member must have length greater than or equal to 1"
_HEADER_CONSTRAINT: Final = (
    "Member must satisfy constraint: [Member must have length less than or equal to 65536, "
    "Member must have length greater than or equal to 1, Member must satisfy regular "
    "expression pattern: [\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*]"
)


def _token(arn: str) -> str:
    """ListImports' NextToken: AWS's shape (hex, whole 16-digit groups, 112 at least)."""
    text = arn.encode().hex()
    text += "0" * (-len(text) % 16)
    while len(text) < 112:
        text += "0" * 16
    return text


def _token_arn(token: Any) -> str:
    if not isinstance(token, str):
        raise ValidationError("Invalid NextToken")
    try:
        return bytes.fromhex(token).rstrip(b"\x00").decode()
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("Invalid NextToken") from None
