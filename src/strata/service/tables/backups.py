"""On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup and
RestoreTableFromBackup.

A backup is a checkpoint of the whole store (``storage/checkpoints.py``: SST files hard-
linked, taken in one synchronous step, so it holds exactly the table's items at that
instant) plus a ``BackupRecord`` in META with the source table's record as it was. It
costs links, not copies, and outlives the table: nothing later done to the live store
reaches it. ``BackupSizeBytes`` is counted in the same step for a small table (the
record is AVAILABLE at once); a big one stays CREATING while the ``sizing`` queue counts
it in the checkpoint. A restore reads the checkpoint's items of the source table through
``restores.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import msgspec

from strata.service.tables import keycodec
from strata.service.tables.backup_errors import (
    BackupInUse,
    BackupNotFound,
    TableAlreadyExists,
    TableInUse,
    TableNotFound,
)
from strata.service.tables.catalogue import revised
from strata.service.tables.codec import decode_item
from strata.service.tables.constraints import Constraints, table_name_from
from strata.service.tables.describe import (
    index_key_schema_doc,
    key_schema_doc,
    projection_doc,
    table_id_text,
)
from strata.service.tables.encryption import register
from strata.service.tables.errors import ValidationError
from strata.service.tables.exports import EXPORT_CHECKPOINT
from strata.service.tables.jobs import JobQueue
from strata.service.tables.restores import RestoreJob, Restores
from strata.service.tables.schema import Table, TableRecord, id_prefix
from strata.service.tables.service_errors import InvalidRestoreTime
from strata.service.tables.statistics import EXACT_COUNT_ITEMS_MAX
from strata.service.tables.tables import TableService
from strata.service.tables.ttl_settings import ttl_description
from strata.service.tables.values import Item, item_size
from strata.storage import keys, records, spaces
from strata.storage.checkpoints import Checkpoints
from strata.storage.store import LocalStore, WriteBatch

_BACKUPS: Final = "tables.backups"  # META: + backup ARN -> BackupRecord
SIZING_CHUNK_ITEMS: Final = 2000
LIST_LIMIT_MAX: Final = 100
BACKUP_TYPES: Final = ("USER", "SYSTEM", "AWS_BACKUP", "ALL")
SYSTEM_BACKUP_S: Final = 35 * 86400  # a deleted PITR table's backup is kept 35 days


class BackupRecord(msgspec.Struct, frozen=True, kw_only=True):
    arn: str
    name: str
    checkpoint: str  # its checkpoint's name (``Checkpoints``)
    created_s: float
    status: str = "CREATING"  # CREATING until its size is counted, then AVAILABLE
    size_bytes: int = 0
    item_count: int = 0
    table: TableRecord  # the source table as it was
    table_arn: str
    backup_type: str = "USER"  # SYSTEM: taken by DeleteTable of a table with PITR on
    expires_s: float | None = None  # a SYSTEM backup's end (BackupExpiryDateTime)


def _key(arn: str) -> bytes:
    return keys.pack(_BACKUPS, arn)


def checkpoints_of(store: Any) -> Checkpoints | None:
    """The checkpoints beside a local store's database (``data-dir/backups``)."""
    if isinstance(store, LocalStore):
        return Checkpoints(os.path.dirname(os.path.abspath(store.path)), store)
    return None


class BackupService:
    def __init__(
        self, tables: TableService, restores: Restores, checkpoints: Checkpoints | None
    ) -> None:
        self.tables = tables
        self.restores = restores
        self.checkpoints = checkpoints
        self.sizing: JobQueue[str] = JobQueue("backup sizing", self._size)
        restores.register("backup", self._items)
        tables.before_drop = self._system_backup

    # -- lifespan --------------------------------------------------------------------------

    def start(self) -> None:
        """Resume sizing of CREATING backups; drop checkpoints no backup record names
        (a crash between the checkpoint and its record, or after a DeleteBackup), but
        exports' own."""
        backups = self._all()
        now = self.tables.store.clock.now_s()
        expired = [b for b in backups if b.expires_s is not None and b.expires_s <= now]
        if expired:
            batch = WriteBatch()
            for backup in expired:
                batch.delete(spaces.META, _key(backup.arn))
            self.tables.store.commit_blocking(batch)
            backups = [b for b in backups if b not in expired]
        if self.checkpoints is not None:
            self.checkpoints.discard_partial()
            named = {b.checkpoint for b in backups}
            for name in self.checkpoints.names():
                # Exports' checkpoints ("export-<id>") are theirs (``ExportService.start``).
                if name not in named and not name.startswith(EXPORT_CHECKPOINT):
                    self.checkpoints.remove(name)
        for backup in backups:
            if backup.status == "CREATING":
                self.sizing.add(backup.arn)
        self.sizing.start()

    async def stop(self) -> None:
        await self.sizing.stop()

    # -- records ---------------------------------------------------------------------------

    def _all(self) -> list[BackupRecord]:
        prefix = keys.pack(_BACKUPS)
        end = keycodec.after_prefix(prefix)
        found = [
            records.decode(value, BackupRecord)
            for _, value in self.tables.store.scan(spaces.META, prefix, end)
        ]
        now = self.tables.store.clock.now_s()
        found = [b for b in found if b.expires_s is None or b.expires_s > now]
        return sorted(found, key=lambda b: (b.created_s, b.arn))

    def _get(self, arn: Any) -> BackupRecord:
        raw = self.tables.store.get(spaces.META, _key(arn)) if isinstance(arn, str) else None
        backup = records.decode(raw, BackupRecord) if raw is not None else None
        if backup is None or (
            backup.expires_s is not None and backup.expires_s <= self.tables.store.clock.now_s()
        ):  # an expired system backup is gone (``start`` removes its record)
            raise BackupNotFound(f"Backup not found: {arn}")
        return backup

    def system_backup(self, table_arn: str) -> BackupRecord | None:
        """The latest SYSTEM backup of a deleted table (for a point-in-time restore)."""
        found = [b for b in self._all() if b.backup_type == "SYSTEM" and b.table_arn == table_arn]
        return found[-1] if found else None

    def _vault(self) -> Checkpoints:
        if self.checkpoints is None:
            raise ValidationError("Backups need a local data directory")
        return self.checkpoints

    # -- CreateBackup ------------------------------------------------------------------------

    async def create_backup(self, req: dict[str, Any]) -> dict[str, Any]:
        checks = Constraints()
        checks.table_name(req.get("BackupName"), "backupName")  # the same rules as a table's
        checks.raise_if_any()
        name = req["TableName"]
        table = self.tables.tables.get(name) or self.tables.tables.get(table_name_from(name))
        if table is None:
            raise TableNotFound(f"Table not found: {name}")
        if table.record.status != "ACTIVE":
            raise TableInUse(f"Table is being created: {table.name}")
        batch = WriteBatch()
        record = self._take(table, req["BackupName"], batch)
        await self.tables.store.commit(batch)
        if record.status == "CREATING":
            self.sizing.add(record.arn)
        # AWS answers CREATING; DescribeBackup shows AVAILABLE once the size is known.
        return {"BackupDetails": _details(revised(record, status="CREATING"))}

    def _take(
        self, table: Table, name: str, batch: WriteBatch, expires_s: float | None = None
    ) -> BackupRecord:
        """Checkpoint the store and stage the backup's record (SYSTEM when it expires)."""
        vault = self._vault()
        now = self.tables.store.clock.now_s()
        suffix = f"{int(now * 1000):014d}-{uuid.uuid4().hex[:8]}"
        # One synchronous step: the checkpoint and the count see the same items.
        vault.take(suffix)
        count, size, _ = self.tables.stats.figures(table)
        exact = count < EXACT_COUNT_ITEMS_MAX
        record = BackupRecord(
            arn=f"{table.arn}/backup/{suffix}",
            name=name,
            checkpoint=suffix,
            created_s=round(now, 3),
            status="AVAILABLE" if exact else "CREATING",
            size_bytes=size if exact else 0,
            item_count=count if exact else 0,
            table=table.record,
            table_arn=table.arn,
            backup_type="USER" if expires_s is None else "SYSTEM",
            expires_s=None if expires_s is None else round(now + expires_s, 3),
        )
        batch.put(spaces.META, _key(record.arn), records.encode(record))
        return record

    def _system_backup(self, table: Table, batch: WriteBatch) -> None:
        """DeleteTable of a table with PITR on keeps a SYSTEM backup for 35 days, named
        ``<table>$DeletedTableBackup``, as AWS does: staged in the drop's own batch."""
        if not table.record.pitr_enabled or self.checkpoints is None:
            return
        record = self._take(table, f"{table.name}$DeletedTableBackup", batch, SYSTEM_BACKUP_S)
        if record.status == "CREATING":
            self.sizing.add(record.arn)

    async def _size(self, arn: str) -> None:
        """Count a big backup's items in its checkpoint, paced, then mark it AVAILABLE."""
        raw = self.tables.store.get(spaces.META, _key(arn))
        if raw is None:
            return
        backup = records.decode(raw, BackupRecord)
        count = size = 0
        with self._scan(backup) as items:
            while True:
                started = time.monotonic()
                n = 0
                for item in items:
                    count += 1
                    size += item_size(item)
                    n += 1
                    if n >= SIZING_CHUNK_ITEMS:
                        break
                if n < SIZING_CHUNK_ITEMS:
                    break
                await asyncio.sleep(time.monotonic() - started)
        raw = self.tables.store.get(spaces.META, _key(arn))
        if raw is None:  # deleted meanwhile
            return
        done = revised(backup, status="AVAILABLE", size_bytes=size, item_count=count)
        batch = WriteBatch()
        batch.put(spaces.META, _key(arn), records.encode(done))
        await self.tables.store.commit(batch)

    @contextmanager
    def _scan(self, backup: BackupRecord) -> Iterator[Iterator[Item]]:
        """The source table's items as the backup holds them."""
        if backup.table.sse_key_id and self.tables.table_keys is not None:
            # Sealed with the source's data key: the source may be gone (deleted, restart).
            register(self.tables.table_keys, backup.table, self.tables.store.clock.now_s)
        reader = self._vault().open(backup.checkpoint)
        prefix = id_prefix(backup.table.table_id)
        try:
            yield (
                decode_item(value)
                for _, value in reader.scan(spaces.ITEMS, prefix, keycodec.after_prefix(prefix))
            )
        finally:
            reader.close()

    def _items(self, job: RestoreJob) -> Any:
        return self._scan(self._get(job.ref))

    # -- DescribeBackup / ListBackups ----------------------------------------------------

    def describe_backup(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"BackupDescription": _description(self._get(req["BackupArn"]))}

    def list_backups(self, req: dict[str, Any]) -> dict[str, Any]:
        kind = req.get("BackupType") or "USER"
        limit = req.get("Limit") or LIST_LIMIT_MAX
        lower = req.get("TimeRangeLowerBound")
        upper = req.get("TimeRangeUpperBound")
        if lower is not None and upper is not None and float(lower) > float(upper):
            raise ValidationError("TimeRangeUpperBound cannot be earlier than TimeRangeLowerBound")
        name = req.get("TableName")
        wanted = table_name_from(name) if isinstance(name, str) else None
        listed = [
            b
            for b in self._all()
            if kind in (b.backup_type, "ALL")
            and (wanted is None or b.table.name == wanted)
            and (lower is None or b.created_s >= float(lower))
            and (upper is None or b.created_s < float(upper))
        ]
        start = req.get("ExclusiveStartBackupArn")
        if start is not None:
            arns = [b.arn for b in listed]
            listed = listed[arns.index(start) + 1 :] if start in arns else []
        page = listed[:limit]
        out: dict[str, Any] = {"BackupSummaries": [_summary(b) for b in page]}
        if len(listed) > limit:
            out["LastEvaluatedBackupArn"] = page[-1].arn
        return out

    # -- DeleteBackup --------------------------------------------------------------------

    async def delete_backup(self, req: dict[str, Any]) -> dict[str, Any]:
        backup = self._get(req["BackupArn"])
        if backup.status != "AVAILABLE" or self.restores.busy("backup", backup.arn):
            raise BackupInUse(
                f"Backup is being created, deleted or restored to a table: {backup.arn}"
            )
        batch = WriteBatch()
        batch.delete(spaces.META, _key(backup.arn))
        await self.tables.store.commit(batch)
        self._vault().remove(backup.checkpoint)
        return {"BackupDescription": _description(revised(backup, status="DELETED"))}

    # -- RestoreTableFromBackup ------------------------------------------------------------

    async def restore_table_from_backup(self, req: dict[str, Any]) -> dict[str, Any]:
        checks = Constraints()
        checks.table_name(req.get("TargetTableName"), "targetTableName")
        checks.raise_if_any()
        target = req["TargetTableName"]
        backup = self._get(req["BackupArn"])
        if backup.status != "AVAILABLE":
            raise BackupInUse(f"Backup is being created: {backup.arn}")
        if target in self.tables.tables:
            raise TableAlreadyExists(f"Table already exists: {target}")
        now = round(self.tables.store.clock.now_s(), 3)
        summary = {
            "SourceBackupArn": backup.arn,
            "SourceTableArn": backup.table_arn,
            "RestoreDateTime": now,
        }
        table = self.restores.begin(target, backup.table, req, "backup", backup.arn, summary)
        await self.tables.store.durable(self.tables.last_sequence)
        return {"TableDescription": self.tables.describe(table)}

    async def restore_deleted(self, req: dict[str, Any], backup: BackupRecord) -> dict[str, Any]:
        """RestoreTableToPointInTime of a deleted table (``SourceTableArn``): its SYSTEM
        backup, the state it was in just before the deletion, as AWS documents it."""
        target = req["TargetTableName"]
        if target in self.tables.tables:
            raise TableAlreadyExists(f"Table already exists: {target}")
        at = req.get("RestoreDateTime")
        # The backup holds one moment: the deletion's second, and only it, is restorable.
        if at is not None and not int(backup.created_s) <= float(at) <= backup.created_s:
            raise InvalidRestoreTime()
        summary = {
            "SourceBackupArn": backup.arn,
            "SourceTableArn": backup.table_arn,
            "RestoreDateTime": backup.created_s,
        }
        table = self.restores.begin(target, backup.table, req, "backup", backup.arn, summary)
        await self.tables.store.durable(self.tables.last_sequence)
        return {"TableDescription": self.tables.describe(table)}


# -- documents -------------------------------------------------------------------------------


def _details(b: BackupRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "BackupArn": b.arn,
        "BackupName": b.name,
        "BackupStatus": b.status,
        "BackupType": b.backup_type,
        "BackupCreationDateTime": b.created_s,
    }
    if b.expires_s is not None:
        doc["BackupExpiryDateTime"] = b.expires_s
    if b.status != "CREATING":
        doc["BackupSizeBytes"] = b.size_bytes
    return doc


def _summary(b: BackupRecord) -> dict[str, Any]:
    doc = {
        "TableName": b.table.name,
        "TableId": table_id_text(b.table.table_id),
        "TableArn": b.table_arn,
        **_details(b),
    }
    return doc


def _description(b: BackupRecord) -> dict[str, Any]:
    t = b.table
    source: dict[str, Any] = {
        "TableName": t.name,
        "TableId": table_id_text(t.table_id),
        "TableArn": b.table_arn,
        "TableSizeBytes": b.size_bytes,
        "KeySchema": key_schema_doc(t.hash, t.range),
        "TableCreationDateTime": t.created_s,
        "ProvisionedThroughput": {
            "ReadCapacityUnits": t.read_units,
            "WriteCapacityUnits": t.write_units,
        },
        "ItemCount": b.item_count,
        "BillingMode": t.billing_mode,
    }
    features: dict[str, Any] = {}
    lsis = [
        {
            "IndexName": i.name,
            "KeySchema": index_key_schema_doc(i),
            "Projection": projection_doc(i),
        }
        for i in t.indexes
        if not i.is_global
    ]
    gsis = [
        {
            "IndexName": i.name,
            "KeySchema": index_key_schema_doc(i),
            "Projection": projection_doc(i),
            "ProvisionedThroughput": {
                "ReadCapacityUnits": i.read_units,
                "WriteCapacityUnits": i.write_units,
            },
        }
        for i in t.indexes
        if i.is_global
    ]
    if lsis:
        features["LocalSecondaryIndexes"] = lsis
    if gsis:
        features["GlobalSecondaryIndexes"] = gsis
    if t.stream_enabled:
        features["StreamDescription"] = {
            "StreamEnabled": True,
            "StreamViewType": t.stream_view_type,
        }
    features["TimeToLiveDescription"] = ttl_description(t)
    if t.sse:
        features["SSEDescription"] = t.sse
    return {
        "BackupDetails": _details(b),
        "SourceTableDetails": source,
        "SourceTableFeatureDetails": features,
    }
