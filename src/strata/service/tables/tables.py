"""``TableService``: the table control plane of one store, its modules behind one object.

The catalogue (``catalogue.py``) with the operations of ``create``, ``describe``,
``update``, ``drops``, ``tagging`` and ``ttl_settings``, and the background jobs
(``drops``, ``backfill``, ``statistics``), each a ``JobQueue`` whose task ``start``
starts once, with the server's lifespan: request paths only ask for jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strata.service.tables import create, describe, drops, tagging, ttl_settings, update
from strata.service.tables.backfill import backfill
from strata.service.tables.catalogue import Catalogue
from strata.service.tables.encryption import TableKeyProvider
from strata.service.tables.jobs import JobQueue
from strata.service.tables.schema import Table
from strata.service.tables.statistics import IndexFigures, TableStatistics
from strata.service.tables.update import STREAM_RETENTION_S
from strata.storage.store import Store, WriteBatch

__all__ = ["STREAM_RETENTION_S", "TableService"]


class TableService(Catalogue):
    """Tables of one store: the in-memory catalogue and the control-plane operations."""

    def __init__(
        self, store: Store, region: str = "us-east-1", table_keys: TableKeyProvider | None = None
    ) -> None:
        super().__init__(store, region, table_keys)
        self.stats = TableStatistics(self)
        self.drops: JobQueue[bytes] = JobQueue(
            "table drops", lambda owner: drops.drop_keys(store, owner)
        )
        self.backfills: JobQueue[tuple[str, str]] = JobQueue(
            "index backfills", lambda job: backfill(self, job)
        )
        self.started = False
        # Stages what a DeleteTable keeps of the table in its batch (PITR's system backup).
        self.before_drop: Callable[[Table, WriteBatch], None] | None = None

    def start(self) -> None:
        """Start the background jobs and resume what a previous run left (drops, backfills)."""
        if self.started:
            return
        self.started = True
        for owner in drops.dropped_owners(self.store):
            self.drops.add(owner)
        for table in list(self.tables.values()):
            for index in table.indexes.values():
                if index.record.backfilling:
                    self.backfills.add((table.name, index.name))
        for queue in self._queues():
            queue.start()

    async def stop(self) -> None:
        """Cancel background work (shutdown, or the store is being replaced); ``start``
        resumes drops and backfills from what the store records."""
        for queue in self._queues():
            await queue.stop()
        self.started = False

    def _queues(self) -> tuple[JobQueue[Any], ...]:
        return (self.drops, self.backfills, self.stats.recounts)

    # -- operations (the modules' functions, on this catalogue) ----------------------------

    def create_table(self, req: dict[str, Any]) -> dict[str, Any]:
        return create.create_table(self, req)

    def describe(self, table: Table, status: str | None = None) -> dict[str, Any]:
        return describe.describe(self, table, status)

    def describe_table(self, name: str) -> dict[str, Any]:
        return describe.describe_table(self, name)

    def list_tables(self, start: str | None, limit: int | None) -> dict[str, Any]:
        return describe.list_tables(self, start, limit)

    async def delete_table(self, name: str) -> dict[str, Any]:
        return await drops.delete_table(self, name)

    async def update_table(self, req: dict[str, Any]) -> dict[str, Any]:
        return await update.update_table(self, req)

    async def tag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        return await tagging.tag_resource(self, req)

    async def untag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        return await tagging.untag_resource(self, req)

    def list_tags(self, req: dict[str, Any]) -> dict[str, Any]:
        return tagging.list_tags(self, req)

    def describe_ttl(self, name: str) -> dict[str, Any]:
        return ttl_settings.describe_ttl(self, name)

    def update_ttl(self, req: dict[str, Any]) -> dict[str, Any]:
        return ttl_settings.update_ttl(self, req)

    def statistics(self) -> list[tuple[Table, int, int, IndexFigures]]:
        return self.stats.statistics()

    def forget_stats(self, table: Table) -> None:
        self.stats.forget(table)
