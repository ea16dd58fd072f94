"""Restores: a new table made from a source table's description, loaded with items.

RestoreTableFromBackup (``backups.py``) and RestoreTableToPointInTime use the same two
steps, so a restored table is the same whatever it came from:

1. ``Restores.begin(target, source, overrides, kind, ref, summary)``: checks the
   overrides as CreateTable would, then saves, in one batch, the target's record
   (``TableStatus`` CREATING, ``RestoreSummary`` in progress, no stream, TTL or tags, as
   AWS restores) and a restore job (``RestoreJob``) in META. The caller answers once
   ``store.durable(tables.last_sequence)``.
2. The job queue's task loads the items, in paced chunks, through ``Changes.stage`` (the
   one item write path: index entries are written with each item), then marks the table
   ACTIVE and removes the job, in one batch.

Where the items come from is the kind's ``ItemSource``, registered with ``register``: a
context manager, given the job, yielding an iterator of items (a backup's checkpoint
scan; a change-log replay as of a time). A job left by a crash is found by ``start`` and
loaded again from the beginning: staging against what is already stored makes a second
pass write the same records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Final

import msgspec

from strata.errors import StrataError
from strata.service.tables import keycodec
from strata.service.tables.catalogue import revised
from strata.service.tables.changes import Changes, needs_old
from strata.service.tables.codec import decode_item
from strata.service.tables.create import table_record
from strata.service.tables.describe import index_key_schema_doc, key_schema_doc, projection_doc
from strata.service.tables.drops import stage_drop
from strata.service.tables.items import key_bytes
from strata.service.tables.jobs import JobQueue
from strata.service.tables.schema import IndexRecord, Table, TableRecord
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item
from strata.storage import keys, records, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.tables")

RESTORE_CHUNK_ITEMS: Final = 500
_RESTORING: Final = "tables.restoring"  # META: + target name -> RestoreJob


class RestoreJob(msgspec.Struct, frozen=True, kw_only=True):
    target: str  # the table being loaded
    table_id: int  # its id (a table dropped and created again under the name is another)
    kind: str  # the registered ItemSource ("backup", "pitr", ...)
    ref: str  # what the source needs to find the items (a backup ARN, ...)
    extra: dict[str, Any] = {}  # anything else the source needs (a restore time, ...)


ItemSource = Callable[[RestoreJob], AbstractContextManager[Iterator[Item]]]


class LoadFailed(StrataError):
    """Raised by an ``ItemSource`` (entering it or while iterating) when the load cannot
    go on (an import's bucket is gone): the target is removed, never left half loaded."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# Stages the kind's own records in the batch that ends a job: the target (None: it was
# removed) and the failure, if any.
Finished = Callable[[RestoreJob, "Table | None", LoadFailed | None, WriteBatch], None]


def _job_key(target: str) -> bytes:
    return keys.pack(_RESTORING, target)


def _index_request(record: IndexRecord, provisioned: dict[str, int] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "IndexName": record.name,
        "KeySchema": index_key_schema_doc(record),
        "Projection": projection_doc(record),
    }
    if record.is_global and provisioned is not None:
        units = (record.read_units, record.write_units)
        doc["ProvisionedThroughput"] = (
            {"ReadCapacityUnits": units[0], "WriteCapacityUnits": units[1]}
            if all(units)
            else provisioned
        )
    return doc


def create_request(target: str, source: TableRecord, overrides: dict[str, Any]) -> dict[str, Any]:
    """The CreateTable request that makes ``target`` like ``source`` with the overrides
    (``BillingModeOverride``, ``ProvisionedThroughputOverride``,
    ``GlobalSecondaryIndexOverride``, ``LocalSecondaryIndexOverride``,
    ``SSESpecificationOverride``): checking it checks the overrides as AWS does."""
    billing = overrides.get("BillingModeOverride") or source.billing_mode
    req: dict[str, Any] = {
        "TableName": target,
        "KeySchema": key_schema_doc(source.hash, source.range),
        "BillingMode": billing,
        "TableClass": source.table_class,
    }
    provisioned: dict[str, int] | None = None
    if billing == "PROVISIONED":
        provisioned = overrides.get("ProvisionedThroughputOverride") or (
            {"ReadCapacityUnits": source.read_units, "WriteCapacityUnits": source.write_units}
            if source.read_units and source.write_units
            else None
        )
        if provisioned is not None:
            req["ProvisionedThroughput"] = provisioned
    elif overrides.get("ProvisionedThroughputOverride") is not None:
        req["ProvisionedThroughput"] = overrides["ProvisionedThroughputOverride"]
    gsis = overrides.get("GlobalSecondaryIndexOverride")
    if gsis is None:
        gsis = [_index_request(i, provisioned) for i in source.indexes if i.is_global]
    lsis = overrides.get("LocalSecondaryIndexOverride")
    if lsis is None:
        lsis = [_index_request(i, None) for i in source.indexes if not i.is_global]
    if gsis:
        req["GlobalSecondaryIndexes"] = gsis
    if lsis:
        req["LocalSecondaryIndexes"] = lsis
    used = {source.hash.name} | ({source.range.name} if source.range else set())
    for index in list(gsis) + list(lsis):
        schema = index.get("KeySchema") if isinstance(index, dict) else None
        for element in schema if isinstance(schema, list) else []:
            if isinstance(element, dict) and isinstance(element.get("AttributeName"), str):
                used.add(element["AttributeName"])
    req["AttributeDefinitions"] = [
        {"AttributeName": a.name, "AttributeType": a.kind}
        for a in source.attributes
        if a.name in used
    ]
    sse = overrides.get("SSESpecificationOverride")
    if sse is None and source.sse:
        sse = {"Enabled": True, "SSEType": source.sse.get("SSEType", "KMS")}
        if source.sse.get("KMSMasterKeyArn"):
            sse["KMSMasterKeyId"] = source.sse["KMSMasterKeyArn"]
    if sse is not None:
        req["SSESpecification"] = sse
    return req


class Restores:
    """Restore jobs of one table service: begun by requests, loaded by one queue's task."""

    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.sources: dict[str, ItemSource] = {}
        self.finished: dict[str, Finished] = {}
        self.queue: JobQueue[str] = JobQueue("table restores", self._load)

    def register(self, kind: str, source: ItemSource, finished: Finished | None = None) -> None:
        self.sources[kind] = source
        if finished is not None:
            self.finished[kind] = finished

    def begin(
        self,
        target: str,
        source: TableRecord,
        overrides: dict[str, Any],
        kind: str,
        ref: str,
        summary: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> Table:
        """Create ``target`` (CREATING) and its restore job in one batch; the caller
        checks that the name is free first (TableAlreadyExists) and waits for
        ``store.durable(tables.last_sequence)`` before answering. ``summary`` is the
        RestoreSummary (SourceBackupArn or SourceTableArn, RestoreDateTime)."""
        record = table_record(self.tables, create_request(target, source, overrides))
        record = revised(record, status="CREATING", restore={**summary, "RestoreInProgress": True})
        return self.begin_record(record, kind, ref, extra)

    def begin_record(
        self,
        record: TableRecord,
        kind: str,
        ref: str,
        extra: dict[str, Any] | None = None,
        batch: WriteBatch | None = None,
    ) -> Table:
        """Save ``record`` (a new table, CREATING) and its load job, with ``batch`` (the
        caller's own records of the job, e.g. an import's), in one batch."""
        assert kind in self.sources, kind
        assert record.status == "CREATING", record.status
        job = RestoreJob(
            target=record.name, table_id=record.table_id, kind=kind, ref=ref, extra=extra or {}
        )
        batch = batch if batch is not None else WriteBatch()
        batch.put(spaces.META, _job_key(record.name), records.encode(job))
        table = self.tables.save(record, batch)
        self.queue.add(record.name)
        return table

    def jobs(self) -> list[RestoreJob]:
        prefix = keys.pack(_RESTORING)
        end = keycodec.after_prefix(prefix)
        return [
            records.decode(value, RestoreJob)
            for _, value in self.tables.store.scan(spaces.META, prefix, end)
        ]

    def busy(self, kind: str, ref: str) -> bool:
        """Whether a restore from this source is still loading."""
        return any(job.kind == kind and job.ref == ref for job in self.jobs())

    def start(self) -> None:
        for job in self.jobs():
            self.queue.add(job.target)
        self.queue.start()

    async def stop(self) -> None:
        await self.queue.stop()

    async def _load(self, target: str) -> None:
        raw = self.tables.store.get(spaces.META, _job_key(target))
        if raw is None:
            return
        job = records.decode(raw, RestoreJob)
        source = self.sources.get(job.kind)
        if source is None:
            log.error("restore of %s: no item source %r registered", target, job.kind)
            return
        try:
            with source(job) as items:
                while True:
                    table = self._target(job)
                    if table is None:  # dropped while loading: the job goes with it
                        await self._finish(job, None)
                        return
                    started = time.monotonic()
                    staged = self._stage_chunk(table, items)
                    if staged is None:
                        break
                    await self.tables.store.durable(staged)
                    # Pause as long as the chunk took: a restore uses at most half the loop.
                    await asyncio.sleep(time.monotonic() - started)
        except LoadFailed as failure:
            log.warning("load of %s failed: %s (%s)", target, failure, failure.code)
            await self._finish(job, None, failure)
            return
        await self._finish(job, self._target(job))

    def _target(self, job: RestoreJob) -> Table | None:
        table = self.tables.tables.get(job.target)
        if table is None or table.record.table_id != job.table_id:
            return None
        return table

    def _stage_chunk(self, table: Table, items: Iterator[Item]) -> int | None:
        """Stage and apply up to RESTORE_CHUNK_ITEMS items (no await: the stored items
        read as ``old`` stay current); the sequence to make durable, None when done."""
        changes = Changes(self.tables)
        read_old = needs_old(table)
        count = 0
        for item in items:
            key = key_bytes(table, item)
            old = None
            if read_old:
                stored = self.tables.store.get(spaces.ITEMS, key)
                old = decode_item(stored) if stored is not None else None
            changes.stage(table, key, old, item)
            count += 1
            if count >= RESTORE_CHUNK_ITEMS:
                break
        if count == 0:
            return None
        return changes.apply()

    async def _finish(
        self, job: RestoreJob, table: Table | None, failure: LoadFailed | None = None
    ) -> None:
        """End the job in one batch: the target ACTIVE (or, on a failure, removed with
        the keys it was given) and the kind's own records."""
        batch = WriteBatch()
        batch.delete(spaces.META, _job_key(job.target))
        if failure is not None:
            target = self._target(job)
            owners = stage_drop(self.tables, target, batch) if target is not None else []
            self._finished(job, None, failure, batch)
            await self.tables.store.commit(batch)
            for owner in owners:
                self.tables.drops.add(owner)
            return
        if table is None:
            self._finished(job, None, None, batch)
            await self.tables.store.commit(batch)
            return
        self._finished(job, table, None, batch)
        summary = table.record.restore
        if summary is not None:
            summary = {**summary, "RestoreInProgress": False}
        self.tables.save(revised(table.record, status="ACTIVE", restore=summary), batch)
        await self.tables.store.durable(self.tables.last_sequence)

    def _finished(
        self, job: RestoreJob, table: Table | None, failure: LoadFailed | None, batch: WriteBatch
    ) -> None:
        hook = self.finished.get(job.kind)
        if hook is not None:
            hook(job, table, failure, batch)
