"""The control plane: create, describe, list, update and delete tables, tags, TTL settings.

Table records live in the TABLES space; the service keeps their compiled form (``Table``)
in memory, replaced on every change, so data-plane requests never re-read metadata.

Dropping a table (or a GSI) removes its record at once and records a "drop" in META; a
background task then deletes its keys chunk by chunk. Keys carry the owner id, never the
name, so a table created again under the same name can never see the old items.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from typing import Any, Final

from strata.service.tables import item_collections, keycodec
from strata.service.tables.codec import decode_item
from strata.service.tables.constraints import TABLE_NAME_RE, Constraints, table_name_from
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.indexes import index_entries
from strata.service.tables.schema import (
    IndexRecord,
    KeyElement,
    PastStream,
    Table,
    TableRecord,
    compile_table,
    id_prefix,
)
from strata.service.tables.service_errors import LimitExceeded, ResourceInUse, ResourceNotFound
from strata.service.tables.values import item_size
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

log = logging.getLogger("strata.tables")

INVALID: Final = "One or more parameter values were invalid: "
ACCOUNT_ID: Final = "000000000000"
LSI_COUNT_MAX: Final = 5
GSI_COUNT_MAX: Final = 20
PROJECTED_ATTRIBUTES_MAX: Final = 100
TAGS_MAX: Final = 50
DROP_CHUNK_KEYS: Final = 2000
BACKFILL_CHUNK_ITEMS: Final = 500
STATS_TTL_S: Final = 10.0  # big tables: recount ItemCount at most this often (or rarer)
EXACT_COUNT_ITEMS_MAX: Final = 20_000  # smaller tables: recounted whenever written
STREAM_RETENTION_S: Final = 24 * 3600  # a disabled stream stays readable this long
STATS_CHUNK_ITEMS: Final = 500  # big tables are counted in the background, this many at a time
_DROPPED: Final = "tables.dropped"
KEY_TYPES: Final = ("B", "N", "S")
PROJECTION_TYPES: Final = ("ALL", "INCLUDE", "KEYS_ONLY")  # in the order AWS lists them
KEY_KINDS: Final = ("HASH", "RANGE")
THROUGHPUT_UNITS_MAX: Final = 1_000_000_000_000
GSI_UPDATES_MAX: Final = 5  # index actions in one UpdateTable (one create or delete at a time)
# UpdateTable members that ask for a change (DeletionProtectionEnabled may be false).
_UPDATE_MEMBERS: Final = (
    "ProvisionedThroughput",
    "BillingMode",
    "StreamSpecification",
    "SSESpecification",
    "ReplicaUpdates",
    "TableClass",
    "OnDemandThroughput",
    "WarmThroughput",
)
BILLING_MODES: Final = ("PROVISIONED", "PAY_PER_REQUEST")
STREAM_VIEW_TYPES: Final = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
TABLE_CLASSES: Final = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")


def _key_schema_doc(hash_: KeyElement, range_: KeyElement | None) -> list[dict[str, str]]:
    doc = [{"AttributeName": hash_.name, "KeyType": "HASH"}]
    if range_ is not None:
        doc.append({"AttributeName": range_.name, "KeyType": "RANGE"})
    return doc


def _projection_doc(record: IndexRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"ProjectionType": record.projection_type}
    if record.non_key:
        doc["NonKeyAttributes"] = list(record.non_key)
    return doc


class TableService:
    """Tables of one store; owns the in-memory catalogue of compiled tables."""

    def __init__(self, store: Store, region: str = "us-east-1") -> None:
        self.store = store
        self.region = region
        self.tables: dict[str, Table] = {}
        # table id -> (recount big tables not before, item count, size, per index count+size)
        self._stats: dict[int, tuple[float, int, int, dict[str, tuple[int, int]]]] = {}
        self.changed: set[int] = set()  # ids of tables written since their last count
        self.change_log_bytes = 0  # change-log bytes written since start (``changelog``)
        self._recounting: set[int] = set()  # ids of tables being counted in the background
        self._refreshing = False  # a metrics-driven recount of stale tables is running
        self._tasks: set[asyncio.Task[None]] = set()
        self.started = False
        self.last_sequence = 0  # of the last metadata write: ``store.durable`` it
        for _, value in store.scan(spaces.TABLES, b""):
            record = records.decode(value, TableRecord)
            self.tables[record.name] = self._compile(record)

    # -- catalogue ---------------------------------------------------------------------

    def arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"

    def _compile(self, record: TableRecord) -> Table:
        return compile_table(record, self.arn(record.name))

    def get(self, name: str) -> Table:
        """The table named ``name`` (or by ARN); ResourceNotFound when missing."""
        table = self.tables.get(name)
        if table is None:
            table = self.tables.get(table_name_from(name))
            if table is None:
                raise ResourceNotFound()
        return table

    def _save(self, record: TableRecord, batch: WriteBatch | None = None) -> Table:
        batch = batch if batch is not None else WriteBatch()
        batch.put(spaces.TABLES, keys.pack(record.name), records.encode(record))
        self.last_sequence = self.store.apply(batch)
        table = self._compile(record)
        self.tables[record.name] = table
        return table

    def start(self) -> None:
        """Resume background work left by a previous run (drops, backfills)."""
        if self.started:
            return
        self.started = True
        prefix = keys.pack(_DROPPED)
        for key, _ in self.store.scan(spaces.META, prefix, keycodec.after_prefix(prefix)):
            owner = key[len(prefix) :]
            self._spawn(self._drop_keys(owner))
        for table in list(self.tables.values()):
            for index in table.indexes.values():
                if index.record.backfilling:
                    self._spawn(self._backfill(table.name, index.name))

    async def stop(self) -> None:
        """Cancel background work (shutdown, or the store is being replaced); ``start``
        resumes drops and backfills from what the store records."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.started = False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- statistics ----------------------------------------------------------------------

    def _table_stats(self, table: Table) -> tuple[int, int, dict[str, tuple[int, int]]]:
        """ItemCount and sizes: exact for small tables; for big ones the last count, with a
        recount in the background (AWS itself refreshes these figures every few hours).

        A big table is never counted on the request path: 1M items take seconds, which
        would stall every other request on the event loop."""
        now = time.monotonic()
        table_id = table.record.table_id
        cached = self._stats.get(table_id)
        if cached is not None and table_id not in self.changed:
            return cached[1], cached[2], cached[3]
        if cached is not None and cached[1] >= EXACT_COUNT_ITEMS_MAX:
            if now >= cached[0]:
                self._recount_later(table)
            return cached[1], cached[2], cached[3]
        self.changed.discard(table_id)
        count, size, cursor = self._count_chunk(
            spaces.ITEMS, table.prefix, keycodec.after_prefix(table.prefix), EXACT_COUNT_ITEMS_MAX
        )
        if cursor is not None:  # too big to count here: a lower bound until the count is done
            self.changed.add(table_id)
            self._recount_later(table)
            last_indexes = cached[3] if cached is not None else {}
            self._stats[table_id] = (now, count, size, last_indexes)
            return count, size, last_indexes
        per_index: dict[str, tuple[int, int]] = {}
        for index in table.indexes.values():
            # An index has at most one entry per item: bounded by the count above.
            icount, isize, _ = self._count_chunk(
                spaces.INDEXES, index.prefix, keycodec.after_prefix(index.prefix), None
            )
            per_index[index.name] = (icount, isize)
        self._stats[table_id] = (now, count, size, per_index)
        return count, size, per_index

    def _count_chunk(
        self, space: str, start: bytes, end: bytes, limit: int | None
    ) -> tuple[int, int, bytes | None]:
        """Count and size the entries in [start, end), at most ``limit`` of them: returns
        (count, size, cursor), cursor being the last key counted when the limit stopped it."""
        count = size = 0
        # Sizes as AWS counts them (``item_size``), not as stored: decoding costs ~3 us/item.
        for key, value in self.store.scan(space, start, end):
            count += 1
            size += item_size(decode_item(value))
            if limit is not None and count >= limit:
                return count, size, key
        return count, size, None

    def _recount_later(self, table: Table) -> None:
        if table.record.table_id not in self._recounting:
            self._recounting.add(table.record.table_id)
            self._spawn(self._recount(table))

    async def _recount(self, table: Table) -> None:
        """Count a big table a chunk at a time, yielding to requests between chunks."""
        table_id = table.record.table_id
        try:
            started = time.monotonic()
            self.changed.discard(table_id)  # writes from now on mark it again
            counts: list[tuple[int, int]] = []
            prefixes = [(spaces.ITEMS, table.prefix)]
            prefixes += [(spaces.INDEXES, index.prefix) for index in table.indexes.values()]
            for space, prefix in prefixes:
                count = size = 0
                start, end = prefix, keycodec.after_prefix(prefix)
                pause_s = 0.0
                while True:
                    # Sleep three times as long as the last chunk took: the count takes at
                    # most a quarter of the event loop, and a request waits one chunk at most.
                    await asyncio.sleep(pause_s)
                    chunk_started = time.monotonic()
                    n, chunk_size, cursor = self._count_chunk(space, start, end, STATS_CHUNK_ITEMS)
                    pause_s = 3 * (time.monotonic() - chunk_started)
                    count += n
                    size += chunk_size
                    if cursor is None:
                        break
                    start = keycodec.after(cursor)
                counts.append((count, size))
            current = self.tables.get(table.name)
            if current is None or current.record.table_id != table_id:
                return
            finished = time.monotonic()
            # Recount no sooner than STATS_TTL_S, nor than 10x the count's own duration, so
            # counting a big table that is written all the time takes a few % of a core.
            not_before = finished + max(STATS_TTL_S, 10 * (finished - started))
            per_index = {name: counts[i + 1] for i, name in enumerate(table.indexes)}
            self._stats[table_id] = (not_before, counts[0][0], counts[0][1], per_index)
        finally:
            self._recounting.discard(table_id)

    def statistics(self) -> list[tuple[Table, int, int, dict[str, tuple[int, int]]]]:
        """Every table's last known (ItemCount, TableSizeBytes, per-index figures), for
        metrics. Never counts on the caller's path: tables not yet counted, or written
        since, are recounted by one paced background task, each at most every STATS_TTL_S
        (zeros until a table's first count)."""
        now = time.monotonic()
        out = []
        stale = []
        for table in self.tables.values():
            table_id = table.record.table_id
            cached = self._stats.get(table_id)
            if cached is None or (table_id in self.changed and now >= cached[0]):
                stale.append(table)
            count, size, per_index = (0, 0, {}) if cached is None else cached[1:]
            out.append((table, count, size, per_index))
        if stale and not self._refreshing:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop (a CLI, a test): report what is known
                return out
            self._refreshing = True
            self._spawn(self._refresh(stale))
        return out

    async def _refresh(self, stale: list[Table]) -> None:
        """Recount ``stale`` one table at a time (each count paced by ``_recount``)."""
        try:
            for table in stale:
                if table.record.table_id not in self._recounting:
                    self._recounting.add(table.record.table_id)
                    await self._recount(table)
        finally:
            self._refreshing = False

    def forget_stats(self, table: Table) -> None:
        self._stats.pop(table.record.table_id, None)

    # -- descriptions --------------------------------------------------------------------

    def describe(self, table: Table, status: str | None = None) -> dict[str, Any]:
        r = table.record
        count, size, per_index = self._table_stats(table)
        doc: dict[str, Any] = {
            "AttributeDefinitions": [
                {"AttributeName": a.name, "AttributeType": a.kind} for a in r.attributes
            ],
            "TableName": r.name,
            "KeySchema": _key_schema_doc(r.hash, r.range),
            "TableStatus": status or r.status,
            "CreationDateTime": r.created_s,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": r.read_decreases,
                "ReadCapacityUnits": r.read_units,
                "WriteCapacityUnits": r.write_units,
            },
            "TableSizeBytes": size,
            "ItemCount": count,
            "TableArn": table.arn,
            "TableId": str(uuid.UUID(int=r.table_id * 0x1000193 % (1 << 128), version=4)),
        }
        if r.last_increase_s:
            doc["ProvisionedThroughput"]["LastIncreaseDateTime"] = r.last_increase_s
        if r.last_decrease_s:
            doc["ProvisionedThroughput"]["LastDecreaseDateTime"] = r.last_decrease_s
        if r.billing_mode == "PAY_PER_REQUEST" or r.billing_changed_s:
            summary: dict[str, Any] = {"BillingMode": r.billing_mode}
            if r.billing_mode == "PAY_PER_REQUEST":
                summary["LastUpdateToPayPerRequestDateTime"] = r.billing_changed_s or r.created_s
            doc["BillingModeSummary"] = summary
        if r.billing_mode == "PAY_PER_REQUEST":
            doc["TableThroughputModeSummary"] = {"TableThroughputMode": "PAY_PER_REQUEST"}
        lsis = []
        gsis = []
        for ir in r.indexes:
            icount, isize = per_index.get(ir.name, (0, 0))
            idoc: dict[str, Any] = {
                "IndexName": ir.name,
                "KeySchema": _key_schema_doc(ir.hash, ir.range),
                "Projection": _projection_doc(ir),
                "IndexSizeBytes": isize,
                "ItemCount": icount,
                "IndexArn": f"{table.arn}/index/{ir.name}",
            }
            if ir.is_global:
                idoc["IndexStatus"] = ir.status
                if ir.backfilling:
                    idoc["Backfilling"] = True
                idoc["ProvisionedThroughput"] = {
                    "NumberOfDecreasesToday": 0,
                    "ReadCapacityUnits": ir.read_units,
                    "WriteCapacityUnits": ir.write_units,
                }
                gsis.append(idoc)
            else:
                lsis.append(idoc)
        if lsis:
            doc["LocalSecondaryIndexes"] = lsis
        if gsis:
            doc["GlobalSecondaryIndexes"] = gsis
        if r.stream_enabled:
            doc["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": r.stream_view_type,
            }
        if r.stream_label:
            doc["LatestStreamLabel"] = r.stream_label
            doc["LatestStreamArn"] = f"{table.arn}/stream/{r.stream_label}"
        if r.sse:
            doc["SSEDescription"] = r.sse
        if r.table_class != "STANDARD":
            doc["TableClassSummary"] = {"TableClass": r.table_class}
        doc["DeletionProtectionEnabled"] = r.deletion_protection
        return doc

    # -- CreateTable ---------------------------------------------------------------------

    def create_table(self, req: dict[str, Any]) -> dict[str, Any]:
        # 1. Model constraints, every one the request breaks in one message (AWS's order:
        #    definitions, name, billing, throughput, key schema, indexes).
        checks = Constraints()
        name = req.get("TableName")
        attrs_in: Any = req.get("AttributeDefinitions")
        if checks.not_null(attrs_in, "attributeDefinitions"):
            for i, a in enumerate(_structures(attrs_in)):
                base = f"attributeDefinitions.{i + 1}.member"
                checks.not_null(a.get("AttributeName"), f"{base}.attributeName")
                if checks.not_null(a.get("AttributeType"), f"{base}.attributeType"):
                    checks.enum(a["AttributeType"], f"{base}.attributeType", KEY_TYPES)
        checks.table_name(name)
        billing = req.get("BillingMode")
        checks.enum(billing, "billingMode", BILLING_MODES)
        throughput = req.get("ProvisionedThroughput")
        _check_throughput(checks, throughput, "provisionedThroughput")
        key_schema_in: Any = req.get("KeySchema")
        if checks.not_null(key_schema_in, "keySchema"):
            _check_key_schema(checks, key_schema_in, "keySchema")
        checks.enum(req.get("TableClass"), "tableClass", TABLE_CLASSES)
        lsis_in = req.get("LocalSecondaryIndexes")
        gsis_in = req.get("GlobalSecondaryIndexes")
        for kind, listed in (
            ("localSecondaryIndexes", lsis_in),
            ("globalSecondaryIndexes", gsis_in),
        ):
            for i, ix in enumerate(_structures(listed or [])):
                base = f"{kind}.{i + 1}.member"
                if checks.not_null(ix.get("IndexName"), f"{base}.indexName"):
                    checks.index_name(ix["IndexName"], f"{base}.indexName")
                ks = ix.get("KeySchema")
                if checks.not_null(ks, f"{base}.keySchema"):
                    _check_key_schema(checks, ks, f"{base}.keySchema")
                proj = ix.get("Projection")
                if checks.not_null(proj, f"{base}.projection"):
                    _check_projection(checks, proj, f"{base}.projection")
                if kind == "globalSecondaryIndexes":
                    _check_throughput(
                        checks, ix.get("ProvisionedThroughput"), f"{base}.provisionedThroughput"
                    )
        checks.raise_if_any()
        assert isinstance(name, str)

        # 2. Billing and throughput come before the key schema's semantics.
        billing = billing or "PROVISIONED"
        read_units = write_units = 0
        if billing == "PAY_PER_REQUEST":
            if throughput is not None:
                raise ValidationError(
                    INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                    "when BillingMode is PAY_PER_REQUEST"
                )
        else:
            if throughput is None:
                raise ValidationError(
                    INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified "
                    "when BillingMode is PROVISIONED"
                )
            read_units, write_units = _throughput_units(throughput)

        # 3. The table's key schema against the attribute definitions.
        definitions: dict[str, str] = {}
        for a in attrs_in:
            definitions.setdefault(a["AttributeName"], a["AttributeType"])
        key_names = [e["AttributeName"] for e in key_schema_in]
        if len(key_names) > len(attrs_in):
            raise ValidationError("Invalid KeySchema: Some index key attribute have no definition")
        if len(definitions) != len(attrs_in):
            raise ValidationError("Cannot have two attributes with the same name")
        hash_, range_ = _parse_key_schema(key_schema_in, definitions)
        used = {hash_.name} | ({range_.name} if range_ else set())
        if lsis_in is None and gsis_in is None and set(definitions) != used:
            raise ValidationError(
                INVALID + "Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions"
            )

        # 4. Indexes, local then global, each checked in full before the next.
        index_records: list[IndexRecord] = []
        seen: set[str] = set()
        if lsis_in is not None:
            if not lsis_in:
                raise ValidationError(INVALID + "List of LocalSecondaryIndexes is empty")
            if range_ is None:
                raise ValidationError(
                    INVALID + "Table KeySchema does not have a range key, which is required "
                    "when specifying a LocalSecondaryIndex"
                )
            for ix in lsis_in:
                record = self._index_record(ix, definitions, False, billing, seen, hash_)
                assert record.range is not None
                used.add(record.range.name)
                index_records.append(record)
            if len(lsis_in) > LSI_COUNT_MAX:
                raise ValidationError(
                    INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
                )
        if gsis_in is not None:
            if not gsis_in:
                raise ValidationError(INVALID + "List of GlobalSecondaryIndexes is empty")
            for ix in gsis_in:
                record = self._index_record(ix, definitions, True, billing, seen, hash_)
                used.add(record.hash.name)
                if record.range is not None:
                    used.add(record.range.name)
                index_records.append(record)
            if len(gsis_in) > GSI_COUNT_MAX:
                raise ValidationError(
                    INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"
                )
        if set(definitions) != used:
            raise ValidationError(
                INVALID + "Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions"
            )
        _check_projected_count(index_records)
        now = self.store.clock.now_s()

        stream_enabled, view_type = _parse_stream(req.get("StreamSpecification"))
        sse = _parse_sse(req.get("SSESpecification"), self.region)
        tags = _parse_tags(req.get("Tags") or [])
        if name in self.tables:
            raise ResourceInUse(f"Table already exists: {name}")
        table_id = self.store.hlc.now()
        table_record = TableRecord(
            name=name,
            table_id=table_id,
            created_s=round(now, 3),
            hash=hash_,
            range=range_,
            attributes=tuple(KeyElement(n, k) for n, k in definitions.items()),
            billing_mode=billing,
            read_units=read_units,
            write_units=write_units,
            billing_changed_s=round(now, 3) if "BillingMode" in req else 0.0,
            indexes=tuple(index_records),
            stream_enabled=stream_enabled,
            stream_view_type=view_type,
            stream_label=_stream_label(now) if stream_enabled else None,
            sse=sse,
            table_class=req.get("TableClass") or "STANDARD",
            deletion_protection=bool(req.get("DeletionProtectionEnabled", False)),
            tags=tags,
            key_hash=keycodec.KEY_HASH_AWS,
        )
        table = self._save(table_record)
        return self.describe(table, "CREATING")

    def _index_record(
        self,
        ix: dict[str, Any],
        definitions: dict[str, str],
        is_global: bool,
        billing: str,
        seen: set[str],
        table_hash: KeyElement | None = None,
    ) -> IndexRecord:
        """Check one index as AWS does, in AWS's order, and build its record."""
        name = ix["IndexName"]
        hash_, range_ = _parse_key_schema(ix["KeySchema"], definitions)
        if not is_global:
            if range_ is None:
                raise ValidationError(
                    INVALID + f"Index KeySchema does not have a range key for index: {name}"
                )
            if table_hash is not None and hash_.name != table_hash.name:
                raise ValidationError(
                    INVALID + "Index KeySchema does not have the same leading hash key as "
                    f"table KeySchema for index: {name}. index hash key: {hash_.name}, table "
                    f"hash key: {table_hash.name}"
                )
        projection = ix["Projection"]
        ptype = projection.get("ProjectionType")
        if ptype is None:
            raise ValidationError(INVALID + "Unknown ProjectionType: null")
        non_key = projection.get("NonKeyAttributes")
        if non_key is not None and ptype != "INCLUDE":
            raise ValidationError(
                INVALID + f"ProjectionType is {ptype}, but NonKeyAttributes is specified"
            )
        if name in seen:
            raise ValidationError(INVALID + f"Duplicate index name: {name}")
        seen.add(name)
        if non_key and len(set(non_key)) != len(non_key):
            raise ValidationError(
                INVALID + f"Duplicate attribute in NonKeyAttributes for index {name}"
            )
        read_units = write_units = 0
        if is_global:
            throughput = ix.get("ProvisionedThroughput")
            if billing == "PAY_PER_REQUEST":
                if throughput is not None:
                    raise ValidationError(
                        INVALID + "ProvisionedThroughput should not be specified for index: "
                        f"{name} when BillingMode is PAY_PER_REQUEST"
                    )
            elif throughput is None:
                raise ValidationError(
                    INVALID + f"ProvisionedThroughput is not specified for index: {name}"
                )
            else:
                read_units, write_units = _throughput_units(throughput)
        return IndexRecord(
            name=name,
            index_id=self.store.hlc.now(),
            is_global=is_global,
            hash=hash_,
            range=range_,
            projection_type=ptype,
            non_key=tuple(non_key or ()),
            read_units=read_units,
            write_units=write_units,
            created_s=round(self.store.clock.now_s(), 3),
        )

    # -- DescribeTable / ListTables ------------------------------------------------------

    def describe_table(self, name: str) -> dict[str, Any]:
        table = self.tables.get(name) or self.tables.get(table_name_from(name))
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return self.describe(table)

    def list_tables(self, start: str | None, limit: int | None) -> dict[str, Any]:
        names = sorted(self.tables)
        if start is not None:
            names = [n for n in names if n > start]
        limit = limit or 100
        page = names[:limit]
        out: dict[str, Any] = {"TableNames": page}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = page[-1]
        return out

    # -- DeleteTable ---------------------------------------------------------------------

    async def delete_table(self, name: str) -> dict[str, Any]:
        table = self.tables.get(name) or self.tables.get(table_name_from(name))
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        if table.record.deletion_protection:
            raise ValidationError(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        doc = self.describe(table, "DELETING")
        batch = WriteBatch()
        batch.delete(spaces.TABLES, keys.pack(table.name))
        owners = [table.prefix] + [i.prefix for i in table.indexes.values()]
        for owner in owners:
            batch.put(spaces.META, keys.pack(_DROPPED) + owner, b"")
        del self.tables[table.name]
        self.forget_stats(table)
        await self.store.commit(batch)
        for owner in owners:
            self._spawn(self._drop_keys(owner))
        return doc

    async def _drop_keys(self, owner: bytes) -> None:
        """Delete every key of a dropped table or index, a chunk at a time."""
        end = keycodec.after_prefix(owner)
        collections = item_collections.owner_range(owner)
        for space, start, stop in (
            (spaces.ITEMS, owner, end),
            (spaces.INDEXES, owner, end),
            (spaces.STREAMS, owner, end),
            (spaces.META, *collections),
        ):
            while True:
                batch = WriteBatch()
                for key, _ in self.store.scan(space, start, stop):
                    batch.delete(space, key)
                    if len(batch) >= DROP_CHUNK_KEYS:
                        break
                if not len(batch):
                    break
                await self.store.commit(batch)
                await asyncio.sleep(0)
        batch = WriteBatch()
        batch.delete(spaces.META, keys.pack(_DROPPED) + owner)
        await self.store.commit(batch)

    # -- UpdateTable ---------------------------------------------------------------------

    async def update_table(self, req: dict[str, Any]) -> dict[str, Any]:
        # 1. Model constraints, nested members included, in one message.
        checks = Constraints()
        checks.table_name(req.get("TableName"))
        checks.enum(req.get("BillingMode"), "billingMode", BILLING_MODES)
        checks.enum(req.get("TableClass"), "tableClass", TABLE_CLASSES)
        _check_throughput(checks, req.get("ProvisionedThroughput"), "provisionedThroughput")
        updates: list[dict[str, Any]] | None = req.get("GlobalSecondaryIndexUpdates")
        for number, u in enumerate(_structures(updates or []), 1):
            base = f"globalSecondaryIndexUpdates.{number}.member"
            _check_index_update(checks, u, base)
        checks.raise_if_any()

        # 2. What needs no table: something to change, one action per index, bounds.
        throughput = req.get("ProvisionedThroughput")
        if throughput is not None:
            _throughput_units(throughput)
        if not any(req.get(m) for m in _UPDATE_MEMBERS) and not (
            req.get("DeletionProtectionEnabled") is not None or updates
        ):
            raise ValidationError(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        named: set[str] = set()
        for u in updates or []:
            actions = [u[k] for k in ("Update", "Create", "Delete") if u.get(k) is not None]
            if not actions:
                raise ValidationError(
                    INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                    "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must "
                    "not be null"
                )
        for u in updates or []:
            for action in (u.get("Update"), u.get("Create"), u.get("Delete")):
                if action is None:
                    continue
                if action["IndexName"] in named:
                    raise ValidationError(
                        INVALID + "Only one global secondary index update per index is allowed "
                        f"simultaneously. Index: {action['IndexName']}"
                    )
                named.add(action["IndexName"])

        # 3. Against the table as it stands.
        table = self.tables.get(req["TableName"]) or self.tables.get(
            table_name_from(req["TableName"])
        )
        if table is None:
            raise ResourceNotFound(
                f"Requested resource not found: Table: {req['TableName']} not found"
            )
        r = table.record
        changes: dict[str, Any] = {}
        now = round(self.store.clock.now_s(), 3)
        if updates is not None and len(updates) > GSI_UPDATES_MAX:
            raise LimitExceeded(
                "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                "simultaneously per table"
            )
        for u in updates or []:
            update = u.get("Update")
            if update is None:
                continue
            found = [i for i in r.indexes if i.name == update["IndexName"] and i.is_global]
            try:
                _throughput_units(update["ProvisionedThroughput"])
            except ValidationError:
                found = []
            if not found:
                raise ValidationError(
                    "This operation cannot be performed with given input values. Please contact "
                    "DynamoDB service team for more info: Action Blocked: IndexUpdate"
                )
        definitions = {a.name: a.kind for a in r.attributes}
        for a in req.get("AttributeDefinitions") or []:
            known = definitions.get(a["AttributeName"])
            if known is not None and known != a["AttributeType"]:
                raise ValidationError(
                    INVALID + "Cannot change the type of an attribute used by the table or an index"
                )
            definitions[a["AttributeName"]] = a["AttributeType"]
        billing = req.get("BillingMode")
        if billing is not None and billing != r.billing_mode:
            changes["billing_mode"] = billing
            changes["billing_changed_s"] = now
            if billing == "PAY_PER_REQUEST":
                changes["read_units"] = 0
                changes["write_units"] = 0
                if r.read_units or r.write_units:
                    changes["last_decrease_s"] = now
            elif throughput is None:
                raise ValidationError(
                    INVALID + "ProvisionedThroughput must be specified when BillingMode is "
                    "PROVISIONED"
                )
            else:
                given = {
                    (u.get("Update") or {}).get("IndexName")
                    for u in updates or []
                    if (u.get("Update") or {}).get("ProvisionedThroughput") is not None
                }
                missing = [i.name for i in r.indexes if i.is_global and i.name not in given]
                if missing:
                    raise ValidationError(
                        INVALID
                        + "ProvisionedThroughput must be specified for index: "
                        + ",".join(missing)
                    )
        effective_billing = billing or r.billing_mode
        if throughput is not None:
            if effective_billing == "PAY_PER_REQUEST":
                raise ValidationError(
                    INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                    "when BillingMode is PAY_PER_REQUEST"
                )
            new_read, new_write = _throughput_units(throughput)
            if (new_read, new_write) == (r.read_units, r.write_units) and billing is None:
                raise ValidationError(
                    "The provisioned throughput for the table will not change. The requested "
                    "value equals the current value. Current ReadCapacityUnits provisioned for "
                    f"the table: {r.read_units}. Requested ReadCapacityUnits: {new_read}. "
                    "Current WriteCapacityUnits provisioned for the table: "
                    f"{r.write_units}. Requested WriteCapacityUnits: {new_write}. Refer to the "
                    "Amazon DynamoDB Developer Guide for current limits and how to request "
                    "higher limits."
                )
            if new_read > r.read_units or new_write > r.write_units:
                changes["last_increase_s"] = now
            if new_read < r.read_units or new_write < r.write_units:
                changes["last_decrease_s"] = now
                changes["read_decreases"] = r.read_decreases + 1
            changes["read_units"] = new_read
            changes["write_units"] = new_write
        indexes = list(r.indexes)
        dropped: list[bytes] = []
        created: list[str] = []
        if updates:
            if len(updates) > 1 and any("Create" in u or "Delete" in u for u in updates):
                creates = sum(1 for u in updates if "Create" in u)
                deletes = sum(1 for u in updates if "Delete" in u)
                if creates + deletes > 1:
                    raise LimitExceeded(
                        "Subscriber limit exceeded: Only 1 online index can be created or "
                        "deleted simultaneously per table"
                    )
            for u in updates:
                if "Create" in u:
                    spec = u["Create"]
                    iname = spec.get("IndexName")
                    if any(i.name == iname for i in indexes):
                        raise ResourceInUse(
                            f"Attempt to change a resource which is still in use: "
                            f"Index with name {iname} already exists"
                        )
                    for element in spec.get("KeySchema") or []:
                        if element["AttributeName"] not in definitions:
                            raise ValidationError(
                                INVALID + "Some index key attributes are not defined in "
                                f"AttributeDefinitions. Keys: "
                                f"[{', '.join(e['AttributeName'] for e in spec['KeySchema'])}], "
                                f"AttributeDefinitions: [{', '.join(definitions)}]"
                            )
                    if sum(1 for i in indexes if i.is_global) >= GSI_COUNT_MAX:
                        raise LimitExceeded(
                            "Subscriber limit exceeded: The number of global secondary indexes "
                            "exceeds the limit of 20"
                        )
                    record = self._index_record(
                        spec, definitions, True, effective_billing, {i.name for i in indexes}
                    )
                    record = _with(record, status="CREATING", backfilling=True)
                    indexes.append(record)
                    created.append(record.name)
                elif "Delete" in u:
                    iname = u["Delete"].get("IndexName")
                    found = [i for i in indexes if i.name == iname and i.is_global]
                    if not found:
                        raise ResourceNotFound("Requested resource not found")
                    indexes.remove(found[0])
                    dropped.append(id_prefix(found[0].index_id))
                elif "Update" in u:
                    spec = u["Update"]
                    iname = spec.get("IndexName")
                    found = [i for i in indexes if i.name == iname and i.is_global]
                    if not found:
                        raise ResourceNotFound("Requested resource not found")
                    tp = spec.get("ProvisionedThroughput") or {}
                    position = indexes.index(found[0])
                    indexes[position] = _with(
                        found[0],
                        read_units=int(tp.get("ReadCapacityUnits", found[0].read_units)),
                        write_units=int(tp.get("WriteCapacityUnits", found[0].write_units)),
                    )
            changes["indexes"] = tuple(indexes)
            used = {r.hash.name} | ({r.range.name} if r.range else set())
            for i in indexes:
                used.add(i.hash.name)
                if i.range:
                    used.add(i.range.name)
            changes["attributes"] = tuple(
                KeyElement(n, k) for n, k in definitions.items() if n in used
            )
        stream = req.get("StreamSpecification")
        if stream is not None:
            enabled, view_type = _parse_stream(stream)
            if enabled and r.stream_enabled:
                raise ValidationError(
                    f"Table already has an enabled stream: {table.arn}/stream/{r.stream_label}"
                )
            if not enabled and not r.stream_enabled:
                raise ValidationError("Table already has no stream enabled")
            changes["stream_enabled"] = enabled
            changes["stream_view_type"] = view_type
            kept = tuple(p for p in r.past_streams if now - p.disabled_s < STREAM_RETENTION_S)
            if enabled:
                changes["stream_label"] = _stream_label(now)
            elif r.stream_label is not None and r.stream_view_type is not None:
                kept += (PastStream(r.stream_label, r.stream_view_type, now),)
            changes["past_streams"] = kept
        if "SSESpecification" in req:
            changes["sse"] = _parse_sse(req["SSESpecification"], self.region)
        if req.get("TableClass"):
            changes["table_class"] = req["TableClass"]
        if "DeletionProtectionEnabled" in req:
            changes["deletion_protection"] = bool(req["DeletionProtectionEnabled"])
        if not changes and not updates:
            raise ValidationError(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        if changes.get("indexes") is not None:
            _check_projected_count(list(changes["indexes"]))
        if changes.get("billing_mode") == "PAY_PER_REQUEST":
            changes["indexes"] = tuple(
                _with(i, read_units=0, write_units=0) if i.is_global else i
                for i in changes.get("indexes", r.indexes)
            )
        # The answer shows the table as AWS does while the change is applied: UPDATING, with
        # the throughput it had. The change itself completes at once (a millisecond later).
        throughput_changed = (changes.get("read_units"), changes.get("write_units")) != (
            None,
            None,
        ) and (changes["read_units"], changes["write_units"]) != (r.read_units, r.write_units)
        answer_record = None
        if throughput_changed and "billing_mode" not in changes:
            shown = {k: v for k, v in changes.items() if k.startswith("last_")}
            answer_record = _with_table(r, **shown)
            for stamp in shown:
                changes[stamp] = round(now + 0.001, 3)
        new_record = _with_table(r, **changes)
        batch = WriteBatch()
        for owner in dropped:
            batch.put(spaces.META, keys.pack(_DROPPED) + owner, b"")
        table = self._save(new_record, batch)
        self.forget_stats(table)
        for owner in dropped:
            self._spawn(self._drop_keys(owner))
        for iname in created:
            self._spawn(self._backfill(table.name, iname))
        if answer_record is not None:
            return self.describe(self._compile(answer_record), "UPDATING")
        updating = created or dropped or "billing_mode" in changes
        return self.describe(table, "UPDATING" if updating else None)

    async def _backfill(self, table_name: str, index_name: str) -> None:
        """Index the existing items of a new GSI, a chunk at a time, then mark it ACTIVE.

        Each chunk is read and written with no await in between, so a concurrent write
        (which maintains the CREATING index itself) can never be overwritten by a stale
        entry.
        """
        await asyncio.sleep(0)
        cursor: bytes | None = None
        while True:
            table = self.tables.get(table_name)
            if table is None or index_name not in table.indexes:
                return
            index = table.indexes[index_name]
            end = keycodec.after_prefix(table.prefix)
            batch = WriteBatch()
            count = 0
            last: bytes | None = None
            start = table.prefix if cursor is None else keycodec.after(cursor)
            for key, value in self.store.scan(spaces.ITEMS, start, end):
                for entry_key, entry_value in index_entries(index, key, decode_item(value)):
                    batch.put(spaces.INDEXES, entry_key, entry_value)
                last = key
                count += 1
                if count >= BACKFILL_CHUNK_ITEMS:
                    break
            if len(batch):
                await self.store.commit(batch)
            if count < BACKFILL_CHUNK_ITEMS:
                break
            cursor = last
            await asyncio.sleep(0)
        table = self.tables.get(table_name)
        if table is None or index_name not in table.indexes:
            return
        indexes = tuple(
            _with(i, status="ACTIVE", backfilling=False) if i.name == index_name else i
            for i in table.record.indexes
        )
        self._save(_with_table(table.record, indexes=indexes))

    # -- tags ----------------------------------------------------------------------------

    def _by_arn(self, arn: Any, empty: str | None = None, listed: Any = None) -> Table:
        """The table an ARN names, checked in AWS's order: a well-formed table ARN, then
        (``empty``) a non-empty list of tags or tag keys, then the table itself."""
        if arn is None:
            raise ValidationError("Invalid TableArn")
        checks = Constraints()
        checks.length(arn, "resourceArn", 1, 1283)
        checks.raise_if_any()
        name = ""
        if isinstance(arn, str) and arn.startswith("arn:aws:dynamodb:"):
            parts = arn.split(":", 5)
            resource = parts[5] if len(parts) == 6 else ""
            if resource.startswith("table/"):
                name = resource[len("table/") :].split("/", 1)[0]
        if not 3 <= len(name) <= 255 or not TABLE_NAME_RE.fullmatch(name):
            raise ValidationError(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        if empty is not None and not listed:
            raise ValidationError(empty)
        table = self.tables.get(name)
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: ResourcArn: {arn} not found")
        return table

    async def tag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("ResourceArn") is None:
            raise ValidationError("Invalid TableArn")
        checks = Constraints()
        checks.not_null(req.get("Tags"), "tags")
        checks.raise_if_any()
        table = self._by_arn(
            req.get("ResourceArn"), "Atleast one Tag needs to be provided as Input.", req["Tags"]
        )
        tags = dict(table.record.tags)
        tags.update(_parse_tags(req["Tags"]))
        if len(tags) > TAGS_MAX:
            raise LimitExceeded("The number of tags exceeds the limit of 50")
        self._save(_with_table(table.record, tags=tags))
        await self.store.durable(self.last_sequence)
        return {}

    async def untag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("ResourceArn") is None:
            raise ValidationError("Invalid TableArn")
        checks = Constraints()
        checks.not_null(req.get("TagKeys"), "tagKeys")
        checks.raise_if_any()
        try:
            table = self._by_arn(
                req.get("ResourceArn"),
                "Atleast one Tag Key needs to be provided as Input.",
                req["TagKeys"],
            )
        except ResourceNotFound:
            raise ResourceNotFound("Requested resource not found") from None
        tags = {k: v for k, v in table.record.tags.items() if k not in set(req["TagKeys"])}
        self._save(_with_table(table.record, tags=tags))
        await self.store.durable(self.last_sequence)
        return {}

    def list_tags(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self._by_arn(req.get("ResourceArn"))
        return {"Tags": [{"Key": k, "Value": v} for k, v in table.record.tags.items()]}

    # -- TTL -----------------------------------------------------------------------------

    def _named(self, name: str) -> Table:
        """The table called ``name``; ResourceNotFound in the control plane's words."""
        table = self.tables.get(name) or self.tables.get(table_name_from(name))
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return table

    def describe_ttl(self, name: str) -> dict[str, Any]:
        table = self._named(name)
        r = table.record
        doc: dict[str, Any] = {"TimeToLiveStatus": "ENABLED" if r.ttl_enabled else "DISABLED"}
        if r.ttl_enabled and r.ttl_attribute:
            doc["AttributeName"] = r.ttl_attribute
        return {"TimeToLiveDescription": doc}

    def update_ttl(self, req: dict[str, Any]) -> dict[str, Any]:
        checks = Constraints()
        checks.table_name(req.get("TableName"))
        spec: Any = req.get("TimeToLiveSpecification")
        if checks.not_null(spec, "timeToLiveSpecification"):
            name = spec.get("AttributeName")
            if checks.not_null(name, "timeToLiveSpecification.attributeName"):
                checks.length(name, "timeToLiveSpecification.attributeName", 0, 255)
            checks.not_null(spec.get("Enabled"), "timeToLiveSpecification.enabled")
        checks.raise_if_any()
        if not spec["AttributeName"]:
            raise ValidationError("TimeToLiveSpecification.AttributeName must be non empty")
        table = self._named(req["TableName"])
        enabled = bool(spec["Enabled"])
        r = table.record
        if enabled and r.ttl_enabled:
            raise ValidationError("TimeToLive is already enabled")
        if not enabled and not r.ttl_enabled:
            raise ValidationError("TimeToLive is already disabled")
        self._save(
            _with_table(
                r, ttl_enabled=enabled, ttl_attribute=spec["AttributeName"] if enabled else None
            )
        )
        if not enabled:  # AWS names no attribute when it turns TTL off
            return {"TimeToLiveSpecification": {"Enabled": False}}
        return {
            "TimeToLiveSpecification": {"AttributeName": spec["AttributeName"], "Enabled": True}
        }


# -- helpers -------------------------------------------------------------------------------


def _with(record: IndexRecord, **changes: Any) -> IndexRecord:
    import msgspec

    return msgspec.structs.replace(record, **changes)


def _with_table(record: TableRecord, **changes: Any) -> TableRecord:
    import msgspec

    return msgspec.structs.replace(record, **changes)


def _check_throughput(checks: Constraints, throughput: Any, path: str) -> None:
    if throughput is None:
        return
    read = throughput.get("ReadCapacityUnits")
    write = throughput.get("WriteCapacityUnits")
    if checks.not_null(read, f"{path}.readCapacityUnits"):
        checks.range(read, f"{path}.readCapacityUnits", 1, None)
    if checks.not_null(write, f"{path}.writeCapacityUnits"):
        checks.range(write, f"{path}.writeCapacityUnits", 1, None)


def _parse_key_schema(
    schema: list[dict[str, Any]], definitions: dict[str, str]
) -> tuple[KeyElement, KeyElement | None]:
    names: list[str] = [e["AttributeName"] for e in schema]
    missing = [n for n in names if n not in definitions]
    if missing:
        raise ValidationError(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(str(n) for n in names)}], "
            f"AttributeDefinitions: [{', '.join(definitions)}]"
        )
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationError(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if schema[0].get("KeyType") != "HASH":
        raise ValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    hash_ = KeyElement(names[0], definitions[names[0]])
    if len(schema) == 1:
        return hash_, None
    if schema[1].get("KeyType") != "RANGE":
        raise ValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    return hash_, KeyElement(names[1], definitions[names[1]])


def _structures(value: Any) -> list[dict[str, Any]]:
    """The members of a list of structures (a member of another type cannot be decoded)."""
    for member in value:
        if not isinstance(member, dict):
            raise SerializationError("Unexpected field type")
    return list(value)


def _check_key_schema(checks: Constraints, schema: Any, path: str) -> None:
    # AWS prints a list of structures with Java's toString: Class@hash.
    shown = (
        "'["
        + ", ".join(
            f"com.amazonaws.dynamodb.v20120810.KeySchemaElement@{zlib.crc32(repr(e).encode()):x}"
            for e in schema
        )
        + "]'"
    )
    checks.length(schema, path, 1, 2, shown if schema else None)
    for i, element in enumerate(_structures(schema)):
        base = f"{path}.{i + 1}.member"
        checks.not_null(element.get("AttributeName"), f"{base}.attributeName")
        if checks.not_null(element.get("KeyType"), f"{base}.keyType"):
            checks.enum(element["KeyType"], f"{base}.keyType", KEY_KINDS)


def _check_index_update(checks: Constraints, update: dict[str, Any], base: str) -> None:
    """Model constraints of one GlobalSecondaryIndexUpdate (Update, Create or Delete)."""
    for action_name, path in (("Update", "update"), ("Create", "create"), ("Delete", "delete")):
        action = update.get(action_name)
        if action is None:
            continue
        if not isinstance(action, dict):
            raise SerializationError("Unexpected field type")
        at = f"{base}.{path}"
        if checks.not_null(action.get("IndexName"), f"{at}.indexName"):
            checks.index_name(action["IndexName"], f"{at}.indexName")
        if action_name == "Create":
            if checks.not_null(action.get("KeySchema"), f"{at}.keySchema"):
                _check_key_schema(checks, action["KeySchema"], f"{at}.keySchema")
            if checks.not_null(action.get("Projection"), f"{at}.projection"):
                _check_projection(checks, action["Projection"], f"{at}.projection")
            _check_throughput(
                checks, action.get("ProvisionedThroughput"), f"{at}.provisionedThroughput"
            )
        elif action_name == "Update" and checks.not_null(
            action.get("ProvisionedThroughput"), f"{at}.provisionedThroughput"
        ):
            _check_throughput(
                checks, action["ProvisionedThroughput"], f"{at}.provisionedThroughput"
            )


def _check_projection(checks: Constraints, projection: Any, path: str) -> None:
    if not isinstance(projection, dict):
        raise SerializationError("Unexpected field type")
    checks.enum(projection.get("ProjectionType"), f"{path}.projectionType", PROJECTION_TYPES)
    checks.length(projection.get("NonKeyAttributes"), f"{path}.nonKeyAttributes", 1, 20)


def _throughput_units(throughput: dict[str, Any]) -> tuple[int, int]:
    read, write = int(throughput["ReadCapacityUnits"]), int(throughput["WriteCapacityUnits"])
    for value, name in ((read, "ReadCapacityUnits"), (write, "WriteCapacityUnits")):
        if value > THROUGHPUT_UNITS_MAX:
            raise ValidationError(f"Given value {value} for {name} is out of bounds")
    return read, write


def _check_projected_count(indexes: list[IndexRecord]) -> None:
    total: set[str] = set()
    for i in indexes:
        total.update(i.non_key)
    if len(total) > PROJECTED_ATTRIBUTES_MAX:
        raise LimitExceeded(
            "One or more parameter values were invalid: Number of projected attributes in all "
            "indexes exceeds limit of 100"
        )


def _parse_stream(spec: dict[str, Any] | None) -> tuple[bool, str | None]:
    if spec is None:
        return False, None
    enabled = spec.get("StreamEnabled")
    view_type = spec.get("StreamViewType")
    if enabled is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'streamSpecification.streamEnabled' "
            "failed to satisfy constraint: Member must not be null"
        )
    if view_type is not None and view_type not in STREAM_VIEW_TYPES:
        raise ValidationError(
            f"1 validation error detected: Value '{view_type}' at "
            "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(STREAM_VIEW_TYPES)}]"
        )
    if enabled and view_type is None:
        raise ValidationError(
            "StreamSpecification: You must specify a StreamViewType when StreamEnabled is set "
            "to true"
        )
    return bool(enabled), view_type if enabled else None


def _parse_sse(spec: dict[str, Any] | None, region: str) -> dict[str, Any] | None:
    if not spec or not spec.get("Enabled"):
        return None
    key = spec.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{uuid.uuid5(uuid.NAMESPACE_URL, key)}"
    return {"Status": "ENABLED", "SSEType": spec.get("SSEType") or "KMS", "KMSMasterKeyArn": key}


def _parse_tags(tags: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, tag in enumerate(tags):
        checks = Constraints()
        key: Any = tag.get("Key")
        value: Any = tag.get("Value")
        if checks.not_null(key, f"tags.{i + 1}.member.key"):
            checks.length(key, f"tags.{i + 1}.member.key", 1, 128)
        if checks.not_null(value, f"tags.{i + 1}.member.value"):
            checks.length(value, f"tags.{i + 1}.member.value", 0, 256)
        checks.raise_if_any()
        out[key] = value
    if len(out) > TAGS_MAX:
        raise LimitExceeded("The number of tags exceeds the limit of 50")
    return out


def _stream_label(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
