"""``TableOperations``: the table service's public surface, one method per operation.

The protocol layer looks operations up by their AWS name in ``routes()``; each takes the
decoded request document and returns the response document. ``start`` and ``stop`` run
the background work (drops, backfills, TTL expiry, change-log trim) with the server's
lifespan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from strata.service.tables import changelog
from strata.service.tables.backups import BackupService, checkpoints_of
from strata.service.tables.batch import BatchService
from strata.service.tables.encryption import TableKeyProvider
from strata.service.tables.expiry import SWEEP_INTERVAL_S, TtlSweeper
from strata.service.tables.exports import Documents, ExportService
from strata.service.tables.imports import ImportService
from strata.service.tables.items import ItemService
from strata.service.tables.partiql import PartiqlService
from strata.service.tables.query import QueryService
from strata.service.tables.recovery import PointInTimeRecovery
from strata.service.tables.restores import Restores
from strata.service.tables.streams import StreamService
from strata.service.tables.tables import TableService
from strata.service.tables.transactions import TransactionService
from strata.service.tables.trim import ChangeLogTrimmer
from strata.storage.checkpoints import Checkpoints
from strata.storage.store import Store

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
SyncHandler = Callable[[dict[str, Any]], dict[str, Any]]

ENDPOINT_CACHE_MINUTES: Final = 1440


class TableOperations:
    def __init__(
        self,
        store: Store,
        region: str = "us-east-1",
        host: str = "localhost",
        ttl_sweep_interval_s: float = SWEEP_INTERVAL_S,
        checkpoints: Checkpoints | None = None,
        documents: Documents | None = None,
        table_keys: TableKeyProvider | None = None,
    ) -> None:
        self.store = store
        self.region = region
        self.host = host
        self.table_keys = table_keys
        self.tables = TableService(store, region, table_keys)
        self.items = ItemService(self.tables)
        self.queries = QueryService(self.tables)
        self.batches = BatchService(self.tables)
        self.transactions = TransactionService(self.tables)
        self.partiql = PartiqlService(self.tables, self.items, self.queries, self.transactions)
        self.streams = StreamService(self.tables)
        self.expiry = TtlSweeper(self.tables, ttl_sweep_interval_s)
        self.trimmer = ChangeLogTrimmer(self.tables)
        changelog.migrate(store)  # records of the layout before: once, before any reader
        # Restores of any kind (from a backup, to a point in time) load through this.
        self.restores = Restores(self.tables)
        checkpoints = checkpoints or checkpoints_of(store)
        self.backups = BackupService(self.tables, self.restores, checkpoints)
        self.documents = documents  # a bucket's objects, for exports and imports
        self.exports = ExportService(self.tables, checkpoints, documents)
        self.recovery = PointInTimeRecovery(self.tables, self.restores)
        self.recovery.deleted = self.backups
        self.exports.window = self.recovery.window
        self.imports = ImportService(self.tables, self.restores, documents)

    async def start(self) -> None:
        """Start background work (server start-up): resume drops and backfills, sweep TTL."""
        self.tables.start()
        self.expiry.start()
        self.trimmer.start()
        self.backups.start()
        self.restores.start()
        self.exports.start()

    async def stop(self) -> None:
        """Stop all background work (server shutdown or store replaced, before the store
        closes)."""
        await self.trimmer.stop()
        await self.exports.stop()
        await self.restores.stop()
        await self.backups.stop()
        await self.expiry.stop()
        await self.tables.stop()

    def sync_routes(self) -> dict[str, SyncHandler]:
        """The operations that never wait (reads and metadata): plain functions."""
        t = self.tables
        return {
            "DescribeTable": lambda r: {"Table": t.describe_table(r["TableName"])},
            "ListTables": lambda r: t.list_tables(r.get("ExclusiveStartTableName"), r.get("Limit")),
            "ListTagsOfResource": t.list_tags,
            "DescribeTimeToLive": lambda r: t.describe_ttl(r["TableName"]),
            "DescribeLimits": lambda r: self.describe_limits(),
            "DescribeEndpoints": lambda r: self.describe_endpoints(),
            "DescribeBackup": self.backups.describe_backup,
            "ListBackups": self.backups.list_backups,
            "DescribeExport": self.exports.describe_export,
            "ListExports": self.exports.list_exports,
            "DescribeImport": self.imports.describe_import,
            "ListImports": self.imports.list_imports,
            "DescribeContinuousBackups": self.recovery.describe_continuous_backups,
            "GetItem": self.items.get_item,
            "Query": self.queries.query,
            "Scan": self.queries.scan,
            "BatchGetItem": self.batches.batch_get_item,
            "TransactGetItems": self.transactions.transact_get_items,
        }

    def stream_routes(self) -> dict[str, SyncHandler]:
        """The DynamoDB Streams operations (target ``DynamoDBStreams_20120810``)."""
        s = self.streams
        return {
            "ListStreams": s.list_streams,
            "DescribeStream": s.describe_stream,
            "GetShardIterator": s.get_shard_iterator,
            "GetRecords": s.get_records,
        }

    def routes(self) -> dict[str, Handler]:
        """Every operation as a coroutine function (``sync_routes`` wrapped)."""
        t = self.tables
        i = self.items

        def sync(fn: SyncHandler) -> Handler:
            async def run(req: dict[str, Any]) -> dict[str, Any]:
                return fn(req)

            return run

        routes: dict[str, Handler] = {name: sync(fn) for name, fn in self.sync_routes().items()}
        routes.update(
            {
                "CreateTable": self._create_table,
                "DeleteTable": self._delete_table,
                "UpdateTable": self._update_table,
                "TagResource": t.tag_resource,
                "UntagResource": t.untag_resource,
                "UpdateTimeToLive": self._update_ttl,
                "CreateBackup": self.backups.create_backup,
                "DeleteBackup": self.backups.delete_backup,
                "RestoreTableFromBackup": self.backups.restore_table_from_backup,
                "ExportTableToPointInTime": self.exports.export_table,
                "ImportTable": self.imports.import_table,
                "UpdateContinuousBackups": self.recovery.update_continuous_backups,
                "RestoreTableToPointInTime": self.recovery.restore_table_to_point_in_time,
                "PutItem": i.put_item,
                "DeleteItem": i.delete_item,
                "UpdateItem": i.update_item,
                "BatchWriteItem": self.batches.batch_write_item,
                "TransactWriteItems": self.transactions.transact_write_items,
                "ExecuteStatement": self.partiql.execute_statement,
                "BatchExecuteStatement": self.partiql.batch_execute_statement,
                "ExecuteTransaction": self.partiql.execute_transaction,
            }
        )
        return routes

    async def _create_table(self, req: dict[str, Any]) -> dict[str, Any]:
        description = self.tables.create_table(req)
        await self._sync()
        return {"TableDescription": description}

    async def _delete_table(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"TableDescription": await self.tables.delete_table(req["TableName"])}

    async def _update_table(self, req: dict[str, Any]) -> dict[str, Any]:
        description = await self.tables.update_table(req)
        await self._sync()
        return {"TableDescription": description}

    async def _update_ttl(self, req: dict[str, Any]) -> dict[str, Any]:
        result = self.tables.update_ttl(req)
        await self._sync()
        return result

    async def _sync(self) -> None:
        """Wait until the last metadata change is durable."""
        await self.store.durable(self.tables.last_sequence)

    def describe_limits(self) -> dict[str, Any]:
        return {
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }

    def describe_endpoints(self) -> dict[str, Any]:
        return {
            "Endpoints": [
                {
                    "Address": f"dynamodb.{self.region}.amazonaws.com",
                    "CachePeriodInMinutes": ENDPOINT_CACHE_MINUTES,
                }
            ]
        }
