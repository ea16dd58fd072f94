"""TagResource, UntagResource and ListTagsOfResource on tables (by ARN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strata.service.tables.catalogue import revised
from strata.service.tables.constraints import TABLE_NAME_RE, Constraints
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import Table
from strata.service.tables.service_errors import ResourceNotFound
from strata.service.tables.specs import check_tag_count, parse_tags

if TYPE_CHECKING:
    from strata.service.tables.tables import TableService


def _by_arn(tables: TableService, arn: Any, empty: str | None = None, listed: Any = None) -> Table:
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
    table = tables.tables.get(name)
    if table is None:
        raise ResourceNotFound(f"Requested resource not found: ResourcArn: {arn} not found")
    return table


async def tag_resource(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("ResourceArn") is None:
        raise ValidationError("Invalid TableArn")
    checks = Constraints()
    checks.not_null(req.get("Tags"), "tags")
    checks.raise_if_any()
    table = _by_arn(
        tables,
        req.get("ResourceArn"),
        "Atleast one Tag needs to be provided as Input.",
        req["Tags"],
    )
    tags = dict(table.record.tags)
    tags.update(parse_tags(req["Tags"]))
    check_tag_count(len(tags))
    tables.save(revised(table.record, tags=tags))
    await tables.store.durable(tables.last_sequence)
    return {}


async def untag_resource(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("ResourceArn") is None:
        raise ValidationError("Invalid TableArn")
    checks = Constraints()
    checks.not_null(req.get("TagKeys"), "tagKeys")
    checks.raise_if_any()
    try:
        table = _by_arn(
            tables,
            req.get("ResourceArn"),
            "Atleast one Tag Key needs to be provided as Input.",
            req["TagKeys"],
        )
    except ResourceNotFound:
        raise ResourceNotFound("Requested resource not found") from None
    tags = {k: v for k, v in table.record.tags.items() if k not in set(req["TagKeys"])}
    tables.save(revised(table.record, tags=tags))
    await tables.store.durable(tables.last_sequence)
    return {}


def list_tags(tables: TableService, req: dict[str, Any]) -> dict[str, Any]:
    table = _by_arn(tables, req.get("ResourceArn"))
    return {"Tags": [{"Key": k, "Value": v} for k, v in table.record.tags.items()]}
