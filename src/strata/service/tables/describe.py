"""DescribeTable's document, and ListTables."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Final

from strata.service.tables.schema import IndexRecord, KeyElement, Table

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService


def key_schema_doc(hash_: KeyElement, range_: KeyElement | None) -> list[dict[str, str]]:
    doc = [{"AttributeName": hash_.name, "KeyType": "HASH"}]
    if range_ is not None:
        doc.append({"AttributeName": range_.name, "KeyType": "RANGE"})
    return doc


def index_key_schema_doc(record: IndexRecord) -> list[dict[str, str]]:
    """An index's KeySchema: every HASH element, then every RANGE one (multi-attribute keys)."""
    if not (record.hash_keys or record.range_keys):
        return key_schema_doc(record.hash, record.range)
    return [{"AttributeName": e.name, "KeyType": "HASH"} for e in record.hash_elements] + [
        {"AttributeName": e.name, "KeyType": "RANGE"} for e in record.range_elements
    ]


def projection_doc(record: IndexRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"ProjectionType": record.projection_type}
    if record.non_key:
        doc["NonKeyAttributes"] = list(record.non_key)
    return doc


def table_id_text(table_id: int) -> str:
    """A table's ``TableId``: a UUID derived from its internal id."""
    return str(uuid.UUID(int=table_id * 0x1000193 % (1 << 128), version=4))


def describe(tables: TableService, table: Table, status: str | None = None) -> dict[str, Any]:
    r = table.record
    count, size, per_index = tables.stats.figures(table)
    doc: dict[str, Any] = {
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.kind} for a in r.attributes
        ],
        "TableName": r.name,
        "KeySchema": key_schema_doc(r.hash, r.range),
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
        "TableId": table_id_text(r.table_id),
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
            "KeySchema": index_key_schema_doc(ir),
            "Projection": projection_doc(ir),
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
    if r.restore is not None:
        doc["RestoreSummary"] = r.restore
    return doc


# What DeleteTable shows of the table it is deleting: AWS's own example and suites run
# against AWS (name, status, throughput, size, count, ARN, id, the on-demand summary),
# none of the schema: no KeySchema, AttributeDefinitions, indexes or CreationDateTime.
DELETING_MEMBERS: Final = (
    "TableName",
    "TableStatus",
    "ProvisionedThroughput",
    "TableSizeBytes",
    "ItemCount",
    "TableArn",
    "TableId",
    "BillingModeSummary",
)


def deleting_description(tables: TableService, table: Table) -> dict[str, Any]:
    """DeleteTable's TableDescription, in AWS's shape."""
    doc = describe(tables, table, "DELETING")
    return {member: doc[member] for member in DELETING_MEMBERS if member in doc}


def describe_table(tables: TableService, name: str) -> dict[str, Any]:
    return describe(tables, tables.named(name))


def list_tables(tables: TableService, start: str | None, limit: int | None) -> dict[str, Any]:
    names = sorted(tables.tables)
    if start is not None:
        names = [n for n in names if n > start]
    limit = limit or 100
    page = names[:limit]
    out: dict[str, Any] = {"TableNames": page}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = page[-1]
    return out
