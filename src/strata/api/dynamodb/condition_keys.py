"""The condition keys a DynamoDB request offers its policies (built only for non-root callers,
and only when a policy reads them).

``aws:SourceIp``, ``aws:SecureTransport``, ``aws:UserAgent``; ``dynamodb:Select`` and
``dynamodb:ReturnValues`` as sent; ``dynamodb:Attributes``, the attribute names a request
reads or writes (AttributesToGet / ProjectionExpression, a PutItem's item, the key);
``dynamodb:LeadingKeys``, the partition key values it addresses (Key, Item, or a Query's
partition key condition), which needs the table's partition key name (``hash_key``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from strata.api.http import Request

HashKey = Callable[[str], "str | None"]  # table name -> its partition key attribute name

_NAME: Final = r"(#?[A-Za-z0-9_.-]+)"
_EQUALS: Final = re.compile(_NAME + r"\s*=\s*(:[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)\s*=\s*" + _NAME)


def _scalar(value: Any) -> str | None:
    """An attribute value's text as IAM sees it (S, N or B), else None."""
    if isinstance(value, dict) and len(value) == 1:
        kind, raw = next(iter(value.items()))
        if kind in ("S", "N", "B") and isinstance(raw, str):
            return raw
    return None


def _resolve(name: str, names: Any) -> str:
    if name.startswith("#") and isinstance(names, dict):
        found = names.get(name)
        return found if isinstance(found, str) else name
    return name


def _leading_keys(req: dict[str, Any], hash_key: str | None) -> list[str] | None:
    if hash_key is None:
        return None
    for member in ("Key", "Item"):
        item = req.get(member)
        if isinstance(item, dict) and hash_key in item:
            value = _scalar(item[hash_key])
            return [value] if value is not None else None
    conditions = req.get("KeyConditions")
    if isinstance(conditions, dict):
        condition = conditions.get(hash_key)
        if isinstance(condition, dict):
            values = condition.get("AttributeValueList")
            if isinstance(values, list) and values:
                value = _scalar(values[0])
                return [value] if value is not None else None
    expression = req.get("KeyConditionExpression")
    if isinstance(expression, str):
        names, values = req.get("ExpressionAttributeNames"), req.get("ExpressionAttributeValues")
        for found in _EQUALS.finditer(expression):
            name, placeholder = (found.group(1), found.group(2))
            if name is None:
                name, placeholder = found.group(4), found.group(3)
            if _resolve(name, names) == hash_key and isinstance(values, dict):
                value = _scalar(values.get(placeholder))
                return [value] if value is not None else None
    return None


def _attributes(req: dict[str, Any]) -> list[str] | None:
    to_get = req.get("AttributesToGet")
    if isinstance(to_get, list):
        return [a for a in to_get if isinstance(a, str)]
    projection = req.get("ProjectionExpression")
    if isinstance(projection, str):
        names = req.get("ExpressionAttributeNames")
        tops = (p.strip().split(".", 1)[0].split("[", 1)[0] for p in projection.split(","))
        return [_resolve(t, names) for t in tops if t]
    item = req.get("Item")
    if isinstance(item, dict):
        return list(item)
    return None


def request_context(
    request: Request, req: dict[str, Any], hash_key: HashKey
) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {
        "aws:SourceIp": request.client_host,
        "aws:SecureTransport": "true" if request.secure else "false",
    }
    agent = request.headers.get("user-agent")
    if agent is not None:
        context["aws:UserAgent"] = agent
    for member in ("Select", "ReturnValues"):
        value = req.get(member)
        if isinstance(value, str):
            context[f"dynamodb:{member}"] = value
    attributes = _attributes(req)
    if attributes is not None:
        context["dynamodb:Attributes"] = attributes
    table = req.get("TableName")
    if isinstance(table, str):
        leading = _leading_keys(req, hash_key(table.rsplit("/", 1)[-1]))
        if leading is not None:
            context["dynamodb:LeadingKeys"] = leading
    return context


def _member(name: str) -> Callable[[tuple[Request, dict[str, Any]]], str | None]:
    def read(subject: tuple[Request, dict[str, Any]]) -> str | None:
        value = subject[1].get(name)
        return value if isinstance(value, str) else None

    return read


# request_context's cheap keys one by one (lower-cased), for RequestKeys; the attribute
# names and leading keys are found by building it. tests/unit/api/dynamodb checks they agree.
REQUEST_KEY_READERS: Final[dict[str, Callable[[tuple[Request, dict[str, Any]]], str | None]]] = {
    "aws:sourceip": lambda subject: subject[0].client_host,
    "aws:securetransport": lambda subject: "true" if subject[0].secure else "false",
    "aws:useragent": lambda subject: subject[0].headers.get("user-agent"),
    "dynamodb:select": _member("Select"),
    "dynamodb:returnvalues": _member("ReturnValues"),
}
# Keys of other services are never in a DynamoDB request.
FOREIGN_KEYS: Final = ("s3:", "iam:", "sts:", "kms:")


MULTI_ITEM: Final = frozenset(
    {"BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"}
)
_TRANSACT_KINDS: Final = {
    "dynamodb:PutItem": "Put",
    "dynamodb:UpdateItem": "Update",
    "dynamodb:DeleteItem": "Delete",
    "dynamodb:ConditionCheckItem": "ConditionCheck",
    "dynamodb:GetItem": "Get",
}


def _table_of(name: Any) -> str:
    return name.rsplit("/", 1)[-1] if isinstance(name, str) else ""


def _items_for(operation: str, req: dict[str, Any], table: str, action: str) -> list[Any]:
    """The key or item maps of a multi-item call that one (action, table) check covers."""
    found: list[Any] = []
    if operation in ("BatchGetItem", "BatchWriteItem"):
        requests = req.get("RequestItems")
        if not isinstance(requests, dict):
            return found
        for name, entry in requests.items():
            if _table_of(name) != table:
                continue
            if operation == "BatchGetItem":
                keys = entry.get("Keys") if isinstance(entry, dict) else None
                found.extend(keys if isinstance(keys, list) else [])
                continue
            for write in entry if isinstance(entry, list) else []:
                if not isinstance(write, dict):
                    continue
                put, delete = write.get("PutRequest"), write.get("DeleteRequest")
                if isinstance(put, dict):
                    found.append(put.get("Item"))
                elif isinstance(delete, dict):
                    found.append(delete.get("Key"))
        return found
    kind = _TRANSACT_KINDS.get(action)
    items = req.get("TransactItems")
    for entry in items if isinstance(items, list) and kind else []:
        body = entry.get(kind) if isinstance(entry, dict) else None
        if isinstance(body, dict) and _table_of(body.get("TableName")) == table:
            found.append(body.get("Item") if kind == "Put" else body.get("Key"))
    return found


def multi_item_leading_keys(
    operation: str, req: dict[str, Any], table: str, action: str, hash_key: HashKey
) -> list[str] | None:
    """``dynamodb:LeadingKeys`` of a batch or transaction for one table (and, in a
    transaction, one action): every partition key value it addresses there."""
    name = hash_key(table)
    if name is None:
        return None
    values = []
    for item in _items_for(operation, req, table, action):
        value = _scalar(item.get(name)) if isinstance(item, dict) else None
        if value is None:
            return None  # malformed: the call itself is refused for it
        values.append(value)
    return values or None
