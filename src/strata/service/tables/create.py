"""CreateTable: every check in AWS's order, then one table record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strata.service.tables import keycodec
from strata.service.tables.constraints import Constraints
from strata.service.tables.describe import describe
from strata.service.tables.encryption import sse_changes
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import IndexRecord, KeyElement, TableRecord
from strata.service.tables.service_errors import ResourceInUse
from strata.service.tables.specs import (
    BILLING_MODES,
    GSI_COUNT_MAX,
    GSI_KEY_SCHEMA_ELEMENTS_MAX,
    INVALID,
    KEY_TYPES,
    LSI_COUNT_MAX,
    TABLE_CLASSES,
    check_key_schema,
    check_projected_count,
    check_projection,
    check_throughput,
    index_record,
    parse_key_schema,
    parse_stream,
    parse_tags,
    stream_label,
    structures,
    throughput_units,
)

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService


def create_table(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
    table = tables.save(table_record(tables, req))
    return describe(tables, table, "CREATING")


def table_record(tables: TableService, req: dict[str, Any]) -> TableRecord:
    """The record a CreateTable request asks for, checked as AWS checks it (not saved)."""
    # 1. Model constraints, every one the request breaks in one message (AWS's order:
    #    definitions, name, billing, throughput, key schema, indexes).
    checks = Constraints()
    name = req.get("TableName")
    attrs_in: Any = req.get("AttributeDefinitions")
    if checks.not_null(attrs_in, "attributeDefinitions"):
        for i, a in enumerate(structures(attrs_in)):
            base = f"attributeDefinitions.{i + 1}.member"
            if checks.not_null(a.get("AttributeName"), f"{base}.attributeName"):
                checks.length(a["AttributeName"], f"{base}.attributeName", 1, 255)
            if checks.not_null(a.get("AttributeType"), f"{base}.attributeType"):
                checks.enum(a["AttributeType"], f"{base}.attributeType", KEY_TYPES)
    checks.table_name(name)
    billing = req.get("BillingMode")
    checks.enum(billing, "billingMode", BILLING_MODES)
    throughput = req.get("ProvisionedThroughput")
    check_throughput(checks, throughput, "provisionedThroughput")
    key_schema_in: Any = req.get("KeySchema")
    if checks.not_null(key_schema_in, "keySchema"):
        check_key_schema(checks, key_schema_in, "keySchema")
    checks.enum(req.get("TableClass"), "tableClass", TABLE_CLASSES)
    lsis_in = req.get("LocalSecondaryIndexes")
    gsis_in = req.get("GlobalSecondaryIndexes")
    for kind, listed in (
        ("localSecondaryIndexes", lsis_in),
        ("globalSecondaryIndexes", gsis_in),
    ):
        for i, ix in enumerate(structures(listed or [])):
            base = f"{kind}.{i + 1}.member"
            if checks.not_null(ix.get("IndexName"), f"{base}.indexName"):
                checks.index_name(ix["IndexName"], f"{base}.indexName")
            ks = ix.get("KeySchema")
            if checks.not_null(ks, f"{base}.keySchema"):
                most = GSI_KEY_SCHEMA_ELEMENTS_MAX if kind == "globalSecondaryIndexes" else 2
                check_key_schema(checks, ks, f"{base}.keySchema", most)
            proj = ix.get("Projection")
            if checks.not_null(proj, f"{base}.projection"):
                check_projection(checks, proj, f"{base}.projection")
            if kind == "globalSecondaryIndexes":
                check_throughput(
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
        read_units, write_units = throughput_units(throughput)

    # 3. The table's key schema against the attribute definitions.
    definitions: dict[str, str] = {}
    for a in attrs_in:
        definitions.setdefault(a["AttributeName"], a["AttributeType"])
    key_names = [e["AttributeName"] for e in key_schema_in]
    if len(key_names) > len(attrs_in):
        raise ValidationError("Invalid KeySchema: Some index key attribute have no definition")
    if len(definitions) != len(attrs_in):
        raise ValidationError("Cannot have two attributes with the same name")
    hash_, range_ = parse_key_schema(key_schema_in, definitions)
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
            record = index_record(tables.store, ix, definitions, False, billing, seen, hash_)
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
            record = index_record(tables.store, ix, definitions, True, billing, seen, hash_)
            used.update(e.name for e in record.hash_elements + record.range_elements)
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
    check_projected_count(index_records)
    now = tables.store.clock.now_s()

    stream_enabled, view_type = parse_stream(req.get("StreamSpecification"))
    tags = parse_tags(req.get("Tags") or [])
    if name in tables.tables:
        raise ResourceInUse(f"Table already exists: {name}")
    encryption = sse_changes(tables, name, req.get("SSESpecification"), None)
    table_id = tables.store.hlc.now()
    new_record = TableRecord(
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
        stream_label=stream_label(now) if stream_enabled else None,
        **encryption,
        table_class=req.get("TableClass") or "STANDARD",
        deletion_protection=bool(req.get("DeletionProtectionEnabled", False)),
        tags=tags,
        key_hash=keycodec.KEY_HASH_AWS,
    )
    return new_record
