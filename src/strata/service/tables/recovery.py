"""Point-in-time recovery: UpdateContinuousBackups, DescribeContinuousBackups and
RestoreTableToPointInTime, over the table's change log.

While PITR is on, every change record of the table carries the item as it was before the
change (``changelog.stage_record``), and the log keeps records for the recovery window
(``trim.retention_s``). The window opens when PITR is turned on (off and on again: a new
window, as AWS's) and reaches back ``RecoveryPeriodInDays`` at most.

Restoring to time T is exact with no copy of the table kept anywhere: an item's state at T
is the old image of its first change after T, or, when it has not changed since T, the
item as it is now. That stays true while the source keeps being written (a later write
adds a record after T whose old image is the state the restore would have read), so
the restore can read the source in chunks: each chunk first takes in the log records
written since the last one, then reads a slice of the current items, in one step with no
``await``. The items go to a new table through ``restores.Restores`` (CREATING, then
loaded through ``Changes.stage`` with its indexes, then ACTIVE).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, Protocol

from strata.service.tables import changelog, keycodec
from strata.service.tables.backup_errors import (
    PointInTimeRecoveryUnavailable,
    TableAlreadyExists,
    TableNotFound,
)
from strata.service.tables.catalogue import revised
from strata.service.tables.codec import decode_body, decode_item
from strata.service.tables.constraints import table_name_from
from strata.service.tables.errors import ValidationError
from strata.service.tables.items import key_bytes
from strata.service.tables.restores import LoadFailed, RestoreJob, Restores
from strata.service.tables.schema import Table
from strata.service.tables.service_errors import InvalidRestoreTime
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item
from strata.storage import spaces


class DeletedTables(Protocol):
    """Deleted tables' SYSTEM backups (``backups.BackupService``)."""

    def system_backup(self, table_arn: str) -> Any: ...

    async def restore_deleted(self, req: dict[str, Any], backup: Any) -> dict[str, Any]: ...


RECOVERY_DAYS_MAX: Final = 35
SCAN_CHUNK_ITEMS: Final = 500  # current items read per step of a restore
DAY_S: Final = 86400


class PointInTimeRecovery:
    def __init__(self, tables: TableService, restores: Restores) -> None:
        self.tables = tables
        self.store = tables.store
        self.restores = restores
        self.deleted: DeletedTables | None = None  # system backups (``backups.py``)
        restores.register("pitr", self._items)

    # -- settings --------------------------------------------------------------------------

    def _found(self, name: Any) -> Table | None:
        if not isinstance(name, str):
            return None
        return self.tables.tables.get(name) or self.tables.tables.get(table_name_from(name))

    def _table(self, name: Any) -> Table:
        table = self._found(name)
        if table is None:
            raise TableNotFound(f"Table not found: {name}")
        return table

    def window(self, table: Table) -> tuple[float, float]:
        """(earliest, latest) restorable times, epoch seconds by the store clock. Strata's
        log is durable when a write is acknowledged: the latest is now."""
        r = table.record
        now = self.store.clock.now_s()
        return max(r.pitr_since_s, now - r.pitr_days * DAY_S), now

    def description(self, table: Table) -> dict[str, Any]:
        r = table.record
        pitr: dict[str, Any] = {
            "PointInTimeRecoveryStatus": "ENABLED" if r.pitr_enabled else "DISABLED"
        }
        if r.pitr_enabled:
            earliest, latest = self.window(table)
            pitr["RecoveryPeriodInDays"] = r.pitr_days
            pitr["EarliestRestorableDateTime"] = round(earliest, 3)
            pitr["LatestRestorableDateTime"] = round(latest, 3)
        return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}

    def describe_continuous_backups(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ContinuousBackupsDescription": self.description(self._table(req["TableName"]))}

    async def update_continuous_backups(self, req: dict[str, Any]) -> dict[str, Any]:
        spec = req.get("PointInTimeRecoverySpecification")
        enabled = spec.get("PointInTimeRecoveryEnabled") if isinstance(spec, dict) else None
        if not isinstance(enabled, bool):
            raise ValidationError(
                "1 validation error detected: Value null at "
                "'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to "
                "satisfy constraint: Member must not be null"
            )
        assert isinstance(spec, dict)
        days = spec.get("RecoveryPeriodInDays")
        if days is not None and (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 1 <= days <= RECOVERY_DAYS_MAX
        ):
            raise ValidationError(
                f"1 validation error detected: Value '{days}' at "
                "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
                f"constraint: Member must have value {'less' if _above(days) else 'greater'} "
                f"than or equal to {RECOVERY_DAYS_MAX if _above(days) else 1}"
            )
        if days is not None and not enabled:
            raise ValidationError(
                "RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true"
            )
        table = self._table(req["TableName"])
        r = table.record
        changes: dict[str, Any] = {"pitr_enabled": enabled}
        if enabled and not r.pitr_enabled:  # a new window, from now
            changes["pitr_since_s"] = self.store.clock.now_s()
            changes["pitr_days"] = days or RECOVERY_DAYS_MAX
        elif enabled and days is not None:
            changes["pitr_days"] = days
        table = self.tables.save(revised(r, **changes))
        await self.store.durable(self.tables.last_sequence)
        return {"ContinuousBackupsDescription": self.description(table)}

    # -- RestoreTableToPointInTime ---------------------------------------------------------

    async def restore_table_to_point_in_time(self, req: dict[str, Any]) -> dict[str, Any]:
        by_arn, by_name = req.get("SourceTableArn"), req.get("SourceTableName")
        if (by_arn is None) == (by_name is None):
            raise ValidationError(
                "Exactly one of SourceTableArn or SourceTableName must be specified"
            )
        at, latest = req.get("RestoreDateTime"), req.get("UseLatestRestorableTime")
        if at is not None and latest:
            raise ValidationError(
                "Only one of RestoreDateTime or UseLatestRestorableTime can be specified"
            )
        found = self._found(by_arn if by_arn is not None else by_name)
        if by_arn is not None and (found is None or found.arn != by_arn):
            deleted = self.deleted
            backup = deleted.system_backup(by_arn) if deleted is not None else None
            if deleted is not None and backup is not None:  # deleted with PITR on
                return await deleted.restore_deleted(req, backup)
            raise TableNotFound(f"Table not found: {by_arn}")
        source = self._table(by_name) if found is None else found
        target = req["TargetTableName"]
        if target in self.tables.tables:
            raise TableAlreadyExists(f"Table already exists: {target}")
        if not source.record.pitr_enabled:
            raise PointInTimeRecoveryUnavailable(
                "Point in time recovery has not yet been enabled for this source table."
            )
        earliest, now = self.window(source)
        if at is None:
            if not latest:
                raise ValidationError(
                    "Either RestoreDateTime or UseLatestRestorableTime must be specified"
                )
            when = now
        else:
            when = _epoch(at)
            # Seconds are the unit of a restore (day:hour:minute:second): the window's
            # own second counts as inside it.
            if not math.floor(earliest) <= when <= now:
                raise InvalidRestoreTime()
        when_ms = int(when * 1000)
        summary = {"SourceTableArn": source.arn, "RestoreDateTime": round(when, 3)}
        extra = {"source_id": source.record.table_id, "source": source.name, "at_ms": when_ms}
        table = self.restores.begin(
            target, source.record, req, "pitr", source.arn, summary, extra=extra
        )
        await self.store.durable(self.tables.last_sequence)
        return {"TableDescription": self.tables.describe(table)}

    @contextmanager
    def _items(self, job: RestoreJob) -> Iterator[Iterator[Item]]:
        yield self.items_as_of(
            str(job.extra["source"]), int(job.extra["source_id"]), int(job.extra["at_ms"])
        )

    def items_as_of(self, name: str, table_id: int, at_ms: int) -> Iterator[Item]:
        """The items table ``name`` (id ``table_id``) held at ``at_ms``: every item that
        has not changed since as it is now, then the old image of each changed item's
        first change after that time."""
        first_after: dict[bytes, bytes | None] = {}  # item key -> old image (None: absent)
        read_to = {p: changelog.stamp_at(at_ms + 1) - 1 for p in range(changelog.PARTITIONS)}

        def take_in_new_records(table: Table) -> None:
            for partition, after in read_to.items():
                for record in changelog.read(
                    self.store, table_id, partition, after, changelog.STAMP_MAX + 1
                ):
                    key = key_bytes(table, decode_body(record.keys))
                    first_after.setdefault(key, record.old)
                    read_to[partition] = record.stamp

        position: bytes | None = None
        while True:
            table = self.tables.tables.get(name)
            if table is None or table.record.table_id != table_id:
                # Dropped meanwhile, its log with it: the target is removed, not left
                # ACTIVE with part of the items.
                raise LoadFailed(
                    "SourceTableDeleted", f"The source table {name} was deleted during the restore"
                )
            # One step, no await: the log up to now, then a slice of the items as they are.
            take_in_new_records(table)
            start = keycodec.after(position) if position is not None else table.prefix
            end = keycodec.after_prefix(table.prefix)
            unchanged: list[Item] = []
            read = 0
            for key, value in self.store.scan(spaces.ITEMS, start, end):
                if key not in first_after:
                    unchanged.append(decode_item(value))
                read += 1
                position = key
                if read >= SCAN_CHUNK_ITEMS:
                    break
            yield from unchanged
            if read < SCAN_CHUNK_ITEMS:
                break
        for old in first_after.values():
            if old is not None:  # None: the item did not exist then
                yield decode_body(old)


def _above(days: Any) -> bool:
    return isinstance(days, (int, float)) and not isinstance(days, bool) and days > 1


def _epoch(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"Invalid RestoreDateTime: {value}")
    try:
        when = float(value)
    except ValueError:
        raise ValidationError(f"Invalid RestoreDateTime: {value}") from None
    if not math.isfinite(when):
        raise ValidationError(f"Invalid RestoreDateTime: {value}")
    return when


def items_at(reader: changelog.Scanner, table: Table, at_ms: int) -> Iterator[Item]:
    """The items ``table`` held at ``at_ms``, read from a snapshot of the store taken
    later (an export's checkpoint): ``items_as_of`` with nothing moving under the reader,
    so the log is read whole first."""
    table_id = table.record.table_id
    first_after: dict[bytes, bytes | None] = {}  # item key -> old image (None: absent)
    after = changelog.stamp_at(at_ms + 1) - 1
    for partition in range(changelog.PARTITIONS):
        for record in changelog.read(reader, table_id, partition, after, changelog.STAMP_MAX + 1):
            first_after.setdefault(key_bytes(table, decode_body(record.keys)), record.old)
    end = keycodec.after_prefix(table.prefix)
    for key, value in reader.scan(spaces.ITEMS, table.prefix, end):
        if key not in first_after:
            yield decode_item(value)
    for old in first_after.values():
        if old is not None:
            yield decode_body(old)
