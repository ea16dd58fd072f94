"""``Catalogue``: the tables of one store, compiled, in memory.

Table records live in the TABLES space; the catalogue keeps their compiled form
(``Table``) in memory, replaced on every change, so data-plane requests never re-read
metadata. Every control-plane module reads and saves tables through it.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import msgspec

from strata.service.tables.constraints import table_name_from
from strata.service.tables.encryption import TableKeyProvider, register
from strata.service.tables.schema import Table, TableRecord, compile_table
from strata.service.tables.service_errors import ResourceNotFound
from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

ACCOUNT_ID: Final = "000000000000"

Record = TypeVar("Record", bound=msgspec.Struct)


class Catalogue:
    def __init__(
        self, store: Store, region: str = "us-east-1", table_keys: TableKeyProvider | None = None
    ) -> None:
        self.store = store
        self.region = region
        self.table_keys = table_keys  # the key service, for tables encrypted with KMS
        self.tables: dict[str, Table] = {}
        self.changed: set[int] = set()  # ids of tables written since their last count
        self.change_log_bytes = 0  # change-log bytes written since start (``changelog``)
        self.last_sequence = 0  # of the last metadata write: ``store.durable`` it
        for _, value in store.scan(spaces.TABLES, b""):
            record = records.decode(value, TableRecord)
            self.tables[record.name] = self.compile(record)

    def arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"

    def compile(self, record: TableRecord) -> Table:
        if record.sse_key_id and self.table_keys is not None:
            register(self.table_keys, record, self.store.clock.now_s)
        return compile_table(record, self.arn(record.name))

    def get(self, name: str) -> Table:
        """The table named ``name`` (or by ARN) for the data plane; ResourceNotFound when
        missing, or still being created (a restore loading it)."""
        table = self.tables.get(name)
        if table is None:
            table = self.tables.get(table_name_from(name))
        if table is None or table.record.status == "CREATING":
            raise ResourceNotFound()
        return table

    def named(self, name: str) -> Table:
        """The table called ``name``; ResourceNotFound in the control plane's words."""
        table = self.tables.get(name) or self.tables.get(table_name_from(name))
        if table is None:
            raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
        return table

    def save(self, record: TableRecord, batch: WriteBatch | None = None) -> Table:
        """Apply ``record`` (with ``batch``) and swap in its compiled form; the caller
        waits for ``store.durable(last_sequence)`` before answering."""
        batch = batch if batch is not None else WriteBatch()
        batch.put(spaces.TABLES, keys.pack(record.name), records.encode(record))
        self.last_sequence = self.store.apply(batch)
        table = self.compile(record)
        self.tables[record.name] = table
        return table


def revised(record: Record, **changes: Any) -> Record:
    """``record`` with ``changes`` (records are frozen)."""
    return msgspec.structs.replace(record, **changes)
