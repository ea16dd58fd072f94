"""Each DynamoDB call's IAM actions and resources, as AWS checks them, and the check.

Most operations are one action (``dynamodb:<Operation>``) on the table named by
``TableName`` (on its index, for a Query or Scan naming ``IndexName``). Batches are checked
per table (``dynamodb:BatchGetItem`` / ``dynamodb:BatchWriteItem``), transactions per item
with the item's own action (``dynamodb:PutItem``, ``dynamodb:ConditionCheckItem``, ...),
tagging on ``ResourceArn``, backups on ``BackupArn``, and the account-wide calls on ``*``.
PartiQL statements are checked each with its statement's action
(``dynamodb:PartiQLSelect``, ``PartiQLInsert``, ``PartiQLUpdate``, ``PartiQLDelete``) on
its table (a SELECT on an index: on the index).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from strata.api.dynamodb.condition_keys import (
    FOREIGN_KEYS,
    MULTI_ITEM,
    REQUEST_KEY_READERS,
    HashKey,
    multi_item_leading_keys,
    request_context,
)
from strata.api.http import Request
from strata.service.iam.access import AccessControl, AccessDenied, Context, Decision
from strata.service.iam.principal import Principal
from strata.service.iam.request_keys import RequestKeys
from strata.service.tables.catalogue import ACCOUNT_ID
from strata.service.tables.partiql import statement_access

ACCOUNT_WIDE: Final = frozenset(
    {"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListExports",
     "ListImports"}
)  # fmt: skip
# Operations on the ARN a member names: an export's, an import's, a table's by ARN.
BY_ARN_MEMBER: Final = {
    "DescribeExport": "ExportArn",
    "DescribeImport": "ImportArn",
    "ExportTableToPointInTime": "TableArn",
}
BY_BACKUP_ARN: Final = frozenset({"DescribeBackup", "DeleteBackup", "RestoreTableFromBackup"})
BY_RESOURCE_ARN: Final = frozenset({
    "TagResource", "UntagResource", "ListTagsOfResource", "PutResourcePolicy",
    "GetResourcePolicy", "DeleteResourcePolicy",
})  # fmt: skip
_PARTIQL_LISTS: Final = {
    "ExecuteStatement": None,
    "BatchExecuteStatement": "Statements",
    "ExecuteTransaction": "TransactStatements",
}
_TRANSACT_ACTIONS: Final = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def table_arn(region: str, account_id: str, table: str) -> str:
    if table.startswith("arn:"):
        return table  # DynamoDB takes a table's ARN wherever it takes its name
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{table}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def checks(operation: str, req: dict[str, Any], region: str, account: str) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs the call needs, in the order AWS looks at them."""
    action = f"dynamodb:{operation}"
    if operation in ACCOUNT_WIDE:
        return [(action, "*")]
    if operation in BY_RESOURCE_ARN:
        return [(action, _text(req.get("ResourceArn")))]
    if operation in BY_BACKUP_ARN:
        return [(action, _text(req.get("BackupArn")))]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = req.get("RequestItems")
        names = list(tables) if isinstance(tables, dict) else []
        return [(action, table_arn(region, account, name)) for name in names]
    if operation in _PARTIQL_LISTS:
        return _partiql_checks(operation, req, region, account)
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found: list[tuple[str, str]] = []
        items = req.get("TransactItems")
        for entry in items if isinstance(items, list) else []:
            if not isinstance(entry, dict):
                continue
            for kind, body in entry.items():
                item_action = _TRANSACT_ACTIONS.get(kind)
                if item_action is not None and isinstance(body, dict):
                    name = _text(body.get("TableName"))
                    pair = (item_action, table_arn(region, account, name))
                    if pair not in found:
                        found.append(pair)
        return found
    if operation in BY_ARN_MEMBER:
        return [(action, _text(req.get(BY_ARN_MEMBER[operation])))]
    if operation == "ImportTable":  # on the table it creates
        params = req.get("TableCreationParameters")
        created = params.get("TableName") if isinstance(params, dict) else None
        return [(action, table_arn(region, account, _text(created)))]
    if operation == "RestoreTableToPointInTime":  # on the source table
        source = req.get("SourceTableArn") or req.get("SourceTableName")
        return [(action, table_arn(region, account, _text(source)))]
    resource = table_arn(region, account, _text(req.get("TableName")))
    index = req.get("IndexName")
    if operation in ("Query", "Scan") and isinstance(index, str):
        resource = f"{resource}/index/{index}"
    return [(action, resource)]


def _partiql_checks(
    operation: str, req: dict[str, Any], region: str, account: str
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for action, resource, _ in _partiql_statements(operation, req, region, account):
        if (action, resource) not in found:
            found.append((action, resource))
    return found


def _partiql_statements(
    operation: str, req: dict[str, Any], region: str, account: str
) -> list[tuple[str, str, str]]:
    """(action, resource, statement) for each distinct statement's check."""
    member = _PARTIQL_LISTS[operation]
    entries = [req] if member is None else req.get(member)
    found: list[tuple[str, str, str]] = []
    for entry in entries if isinstance(entries, list) else []:
        text = entry.get("Statement") if isinstance(entry, dict) else None
        access = statement_access(text)
        if access is None:
            continue
        assert isinstance(text, str)
        action, table, index = access
        resource = table_arn(region, account, table)
        if index is not None:
            resource = f"{resource}/index/{index}"
        found.append((action, resource, text))
    return found


def _no_hash_key(table: str) -> str | None:
    return None


def authorize(
    access: AccessControl,
    request: Request,
    operation: str,
    req: dict[str, Any],
    region: str,
    full_scan: Callable[[str], bool] | None = None,
    hash_key: HashKey | None = None,
) -> None:
    """``full_scan`` tells whether a PartiQL SELECT scans (``dynamodb:FullTableScan``);
    ``hash_key`` names a table's partition key (``dynamodb:LeadingKeys``)."""
    principal = request.principal
    if operation in BY_RESOURCE_ARN:
        _check_owner(principal, f"dynamodb:{operation}", req.get("ResourceArn"))
    if principal is not None and principal.root:
        return  # the fast path: nothing below is built for root
    account = principal.account_id if principal is not None else ""
    context = {"aws:SourceIp": request.client_host}
    if operation in _PARTIQL_LISTS:
        done: set[tuple[str, str, str]] = set()
        for action, resource, text in _partiql_statements(operation, req, region, account):
            scans = action == "dynamodb:PartiQLSelect" and full_scan is not None and full_scan(text)
            key = (action, resource, str(scans))
            if key in done:
                continue
            done.add(key)
            extra = (
                {"dynamodb:FullTableScan": str(scans).lower()} if action.endswith("Select") else {}
            )
            access.authorize(principal, action, resource, {**context, **extra})
        return
    # the condition keys, each read alone or all built at most once, if a policy reads one
    keys = RequestKeys(
        (request, req),
        REQUEST_KEY_READERS,
        FOREIGN_KEYS,
        lambda: request_context(request, req, hash_key or _no_hash_key),
    )

    if operation not in MULTI_ITEM:
        for action, resource in checks(operation, req, region, account):
            access.authorize(principal, action, resource, keys)
        return
    for action, resource in checks(operation, req, region, account):

        def per_table(action: str = action, resource: str = resource) -> Context:
            leading = multi_item_leading_keys(
                operation, req, resource.rsplit("/", 1)[-1], action, hash_key or _no_hash_key
            )
            return keys() if leading is None else {**keys(), "dynamodb:LeadingKeys": leading}

        access.authorize(principal, action, resource, per_table)


class NotThisAccount(AccessDenied):
    """A tag operation on another account's (or another service's) ARN: AWS refuses it
    as it would a cross-account call no resource-based policy allows, root or not."""

    def __init__(self, principal: Principal | None, action: str, resource: str) -> None:
        super().__init__(principal, action, resource, Decision.IMPLICIT_DENY)
        if principal is not None and not principal.anonymous:
            self.message = (
                f"User: {principal.arn} is not authorized to perform: {action} on resource: "
                f"{resource} because no resource-based policy allows the {action} action"
            )


def _check_owner(principal: Principal | None, action: str, arn: Any) -> None:
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return  # not an ARN: the service's ValidationException
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return
    # The caller's account, and the one the catalogue writes into table ARNs (the same
    # unless account_id is set otherwise).
    own = parts[4] == ACCOUNT_ID or (principal is not None and parts[4] == principal.account_id)
    if parts[2] != "dynamodb" or not own:
        raise NotThisAccount(principal, action, arn)
