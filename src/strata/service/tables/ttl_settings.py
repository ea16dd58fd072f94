"""DescribeTimeToLive and UpdateTimeToLive: the table's TTL setting (``expiry`` sweeps)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strata.service.tables.catalogue import revised
from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import TableRecord

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService


def ttl_description(r: TableRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"TimeToLiveStatus": "ENABLED" if r.ttl_enabled else "DISABLED"}
    if r.ttl_enabled and r.ttl_attribute:
        doc["AttributeName"] = r.ttl_attribute
    return doc


def describe_ttl(tables: TableService, name: str) -> dict[str, Any]:
    return {"TimeToLiveDescription": ttl_description(tables.named(name).record)}


def update_ttl(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
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
    table = tables.named(req["TableName"])
    enabled = bool(spec["Enabled"])
    r = table.record
    if enabled and r.ttl_enabled:
        raise ValidationError("TimeToLive is already enabled")
    if not enabled and not r.ttl_enabled:
        raise ValidationError("TimeToLive is already disabled")
    tables.save(
        revised(r, ttl_enabled=enabled, ttl_attribute=spec["AttributeName"] if enabled else None)
    )
    if not enabled:  # AWS names no attribute when it turns TTL off
        return {"TimeToLiveSpecification": {"Enabled": False}}
    return {"TimeToLiveSpecification": {"AttributeName": spec["AttributeName"], "Enabled": True}}
