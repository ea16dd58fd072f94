"""UpdateTable: throughput, billing mode, GSI create/update/delete, streams, SSE, table
class and deletion protection, checked in AWS's order, then one new table record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from strata.service.tables.catalogue import revised
from strata.service.tables.constraints import Constraints
from strata.service.tables.describe import describe
from strata.service.tables.drops import mark_dropped
from strata.service.tables.encryption import sse_changes
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import KeyElement, PastStream, id_prefix
from strata.service.tables.service_errors import LimitExceeded, ResourceNotFound
from strata.service.tables.specs import (
    BILLING_MODES,
    GSI_COUNT_MAX,
    INVALID,
    TABLE_CLASSES,
    check_defined,
    check_index_update,
    check_projected_count,
    check_throughput,
    index_record,
    parse_stream,
    stream_label,
    structures,
    throughput_units,
)
from strata.storage.store import WriteBatch

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService

STREAM_RETENTION_S: Final = 24 * 3600  # a disabled stream stays readable this long
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


async def update_table(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
    # 1. Model constraints, nested members included, in one message.
    checks = Constraints()
    checks.table_name(req.get("TableName"))
    checks.enum(req.get("BillingMode"), "billingMode", BILLING_MODES)
    checks.enum(req.get("TableClass"), "tableClass", TABLE_CLASSES)
    check_throughput(checks, req.get("ProvisionedThroughput"), "provisionedThroughput")
    updates: list[dict[str, Any]] | None = req.get("GlobalSecondaryIndexUpdates")
    for number, u in enumerate(structures(updates or []), 1):
        base = f"globalSecondaryIndexUpdates.{number}.member"
        check_index_update(checks, u, base)
    checks.raise_if_any()

    # 2. What needs no table: something to change, one action per index, bounds.
    throughput = req.get("ProvisionedThroughput")
    if throughput is not None:
        throughput_units(throughput)
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
    table = tables.named(req["TableName"])
    r = table.record
    changes: dict[str, Any] = {}
    now = round(tables.store.clock.now_s(), 3)
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
            throughput_units(update["ProvisionedThroughput"])
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
                INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
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
        new_read, new_write = throughput_units(throughput)
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
                    # A ValidationException, as AWS answers; the words are CreateTable's.
                    raise ValidationError(f"{INVALID}Duplicate index name: {iname}")
                check_defined(
                    [e["AttributeName"] for e in spec.get("KeySchema") or []], definitions
                )
                if sum(1 for i in indexes if i.is_global) >= GSI_COUNT_MAX:
                    raise LimitExceeded(
                        "Subscriber limit exceeded: The number of global secondary indexes "
                        "exceeds the limit of 20"
                    )
                record = index_record(
                    tables.store,
                    spec,
                    definitions,
                    True,
                    effective_billing,
                    {i.name for i in indexes},
                )
                record = revised(record, status="CREATING", backfilling=True)
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
                indexes[position] = revised(
                    found[0],
                    read_units=int(tp.get("ReadCapacityUnits", found[0].read_units)),
                    write_units=int(tp.get("WriteCapacityUnits", found[0].write_units)),
                )
        changes["indexes"] = tuple(indexes)
        used = {r.hash.name} | ({r.range.name} if r.range else set())
        for i in indexes:
            used.update(e.name for e in i.hash_elements + i.range_elements)
        changes["attributes"] = tuple(KeyElement(n, k) for n, k in definitions.items() if n in used)
    stream = req.get("StreamSpecification")
    if stream is not None:
        enabled, view_type = parse_stream(stream)
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
            changes["stream_label"] = stream_label(now)
        elif r.stream_label is not None and r.stream_view_type is not None:
            kept += (PastStream(r.stream_label, r.stream_view_type, now),)
        changes["past_streams"] = kept
    if "SSESpecification" in req:
        changes.update(sse_changes(tables, r.name, req["SSESpecification"], r))
    if req.get("TableClass"):
        changes["table_class"] = req["TableClass"]
    if "DeletionProtectionEnabled" in req:
        changes["deletion_protection"] = bool(req["DeletionProtectionEnabled"])
    if not changes and not updates and billing == r.billing_mode == "PAY_PER_REQUEST":
        return describe(tables, table, None)  # AWS takes on-demand to on-demand: no change
    if not changes and not updates:
        raise ValidationError(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    if changes.get("indexes") is not None:
        check_projected_count(list(changes["indexes"]))
    if changes.get("billing_mode") == "PAY_PER_REQUEST":
        changes["indexes"] = tuple(
            revised(i, read_units=0, write_units=0) if i.is_global else i
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
        answer_record = revised(r, **shown)
        for stamp in shown:
            changes[stamp] = round(now + 0.001, 3)
    new_record = revised(r, **changes)
    batch = WriteBatch()
    for owner in dropped:
        mark_dropped(batch, owner)
    table = tables.save(new_record, batch)
    tables.stats.forget(table)
    for owner in dropped:
        tables.drops.add(owner)
    for iname in created:
        tables.backfills.add((table.name, iname))
    if answer_record is not None:
        return describe(tables, tables.compile(answer_record), "UPDATING")
    updating = created or dropped or "billing_mode" in changes
    return describe(tables, table, "UPDATING" if updating else None)
