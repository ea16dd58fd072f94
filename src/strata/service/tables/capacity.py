"""Capacity units as AWS counts them, and the ConsumedCapacity document.

A read unit covers 4 KB of a strongly consistent read (half for eventually consistent,
double in a transaction); a write unit covers 1 KB written (double in a transaction).
Query and Scan round the total size of the items they examined, not each item.
"""

from __future__ import annotations

from typing import Any, Final

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def read_units(size_bytes: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, -(-size_bytes // READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def write_units(size_bytes: int, transactional: bool = False) -> float:
    units = max(1, -(-size_bytes // WRITE_UNIT_BYTES))
    return float(units * 2 if transactional else units)


class TableUsage:
    """Read and write units by table since the last ``take``: what the cost view bills.

    Metered on every request, not only those asking for ConsumedCapacity, from sizes the
    operation already holds (the stored records' lengths, a batch write's item sizes), so
    it costs a dictionary update; those lengths stand for DynamoDB's item sizes, which
    ``Consumed`` computes exactly when a request asks."""

    __slots__ = ("reads", "writes")

    def __init__(self) -> None:
        self.reads: dict[str, float] = {}
        self.writes: dict[str, float] = {}

    def read(self, table: str, size_bytes: int, consistent: bool, tx: bool = False) -> None:
        self.reads[table] = self.reads.get(table, 0.0) + read_units(size_bytes, consistent, tx)

    def write(self, table: str, size_bytes: int, tx: bool = False) -> None:
        self.writes[table] = self.writes.get(table, 0.0) + write_units(size_bytes, tx)

    def take(self) -> tuple[dict[str, float], dict[str, float]]:
        """The units metered since the last call (reads, writes), and start again."""
        taken = self.reads, self.writes
        self.reads, self.writes = {}, {}
        return taken


USAGE: Final = TableUsage()


class Consumed:
    """Capacity consumed by one request on one table, split by table and index."""

    __slots__ = ("global_indexes", "local_indexes", "read", "table", "table_name")

    def __init__(self, table_name: str, read: bool) -> None:
        self.table_name = table_name
        self.read = read
        self.table = 0.0
        self.global_indexes: dict[str, float] = {}
        self.local_indexes: dict[str, float] = {}

    def add_index(self, name: str, is_global: bool, units: float) -> None:
        target = self.global_indexes if is_global else self.local_indexes
        target[name] = target.get(name, 0.0) + units

    def document(self, mode: str | None, split: bool = True) -> dict[str, Any] | None:
        """The ConsumedCapacity member for ReturnConsumedCapacity ``mode``, or None.

        ``split=False``: the aggregate ``CapacityUnits`` alone, as AWS answers GetItem,
        PutItem, UpdateItem, DeleteItem, Query and Scan (observed); transactions add the
        ``ReadCapacityUnits``/``WriteCapacityUnits`` split.
        """
        if mode is None or mode == "NONE":
            return None
        total = self.table + sum(self.global_indexes.values()) + sum(self.local_indexes.values())
        kind = "ReadCapacityUnits" if self.read else "WriteCapacityUnits"

        def units(value: float) -> dict[str, float]:
            return {"CapacityUnits": value, kind: value} if split else {"CapacityUnits": value}

        doc: dict[str, Any] = {"TableName": self.table_name, **units(total)}
        if mode == "INDEXES":
            doc["Table"] = units(self.table)
            if self.global_indexes:
                doc["GlobalSecondaryIndexes"] = {
                    name: units(value) for name, value in self.global_indexes.items()
                }
            if self.local_indexes:
                doc["LocalSecondaryIndexes"] = {
                    name: units(value) for name, value in self.local_indexes.items()
                }
        return doc
