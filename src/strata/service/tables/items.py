"""Single-item operations: PutItem, GetItem, DeleteItem, UpdateItem.

Every write follows one order, with no ``await`` until the batch is applied: read the
current item, check the condition, stage the change (``changes.Changes``: the item, its
index entries and the rest, in one ``WriteBatch``), apply it (visible at once). Only then
``await store.durable``: the answer leaves once the WAL is fsynced. Two concurrent
conditional writes on one item therefore see each other: exactly one
``attribute_not_exists`` put wins.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from strata import limits
from strata.service.tables import capacity, exprs, item_collections, keycodec
from strata.service.tables.changes import Changes, needs_old
from strata.service.tables.codec import decode_item, encode_body, raw_item
from strata.service.tables.errors import ConditionalCheckFailed, SerializationError, ValidationError
from strata.service.tables.expressions import Path, Update
from strata.service.tables.indexes import KEY_CHARS_SAFE, check_index_keys, check_key_size
from strata.service.tables.schema import Table
from strata.service.tables.tables import TableService
from strata.service.tables.values import (
    Item,
    item_size,
    validate_item_sized,
    validate_value,
)
from strata.storage import spaces
from strata.storage.store import Store

INVALID: Final = "One or more parameter values were invalid: "
MSG_KEY_SCHEMA: Final = "The provided key element does not match the schema"
MSG_TOO_LARGE: Final = "Item size has exceeded the maximum allowed size"
MSG_BAD_RETURN: Final = "Return values set to invalid value"


def empty_key_message(name: str, kind: str) -> str:
    what = "string" if kind == "S" else "binary"
    return (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        f"cannot contain an empty {what} value. Key: {name}"
    )


def validate_key(table: Table, key: Any) -> tuple[Item, bytes]:
    """Check a Key against the table's schema; return it (numbers normalised) and its bytes."""
    if not isinstance(key, dict):
        raise SerializationError("Start of list found where not expected")
    checked: Item = {}
    for name, value in key.items():
        checked[name] = validate_value(value)
    if len(checked) != len(table.key_names):
        raise ValidationError(MSG_KEY_SCHEMA)
    return checked, key_bytes(table, checked, schema_message=True)


def key_bytes(table: Table, item: Item, schema_message: bool = False) -> bytes:
    """Bytes of the item's key; AWS's errors when a key attribute is missing or wrong."""
    h = table.hash
    hraw = _key_value(item, h.name, h.kind, schema_message)
    if len(hraw) > KEY_CHARS_SAFE:  # shorter keys always fit: no call on the hot path
        check_key_size(h.kind, hraw, True)
    r = table.range
    if r is None:
        return keycodec.item_key(table.prefix, table.hasher, h.kind, hraw, None, None)
    rraw = _key_value(item, r.name, r.kind, schema_message)
    if len(rraw) > KEY_CHARS_SAFE:
        check_key_size(r.kind, rraw, False)
    return keycodec.item_key(table.prefix, table.hasher, h.kind, hraw, r.kind, rraw)


def _key_value(item: Item, name: str, kind: str, schema_message: bool) -> str:
    """The raw value of one key attribute, or AWS's error for it."""
    value = item.get(name)
    if value is None:
        raise ValidationError(
            MSG_KEY_SCHEMA if schema_message else f"{INVALID}Missing the key {name} in the item"
        )
    raw = value.get(kind)
    if raw is None:
        if schema_message:
            raise ValidationError(MSG_KEY_SCHEMA)
        raise ValidationError(
            f"{INVALID}Type mismatch for key {name} expected: {kind} actual: {next(iter(value))}"
        )
    if raw == "":
        raise ValidationError(empty_key_message(name, kind))
    return raw  # type: ignore[no-any-return]


def key_of_item(table: Table, item: Item) -> Item:
    return {name: item[name] for name in table.key_names}


def check_item_size(item: Item) -> int:
    return check_size(item_size(item))


def check_encoded_size(item: Item, body: bytes) -> None:
    """``check_item_size`` knowing the item's JSON (``encode_body``).

    AWS's count is never more than the item's JSON (every name, string and number is in
    the JSON whole, binaries as longer base64, plus quotes and braces), so only an item
    whose JSON is over the limit needs to be counted.
    """
    if len(body) > limits.item_bytes_max:
        check_item_size(item)


def check_size(size: int) -> int:
    """AWS's error for an item of ``size`` bytes (``item_size``) past the limit."""
    if size > limits.item_bytes_max:
        raise ValidationError(MSG_TOO_LARGE)
    return size


def write_capacity(
    table: Table, consumed: capacity.Consumed, size: int, touched: dict[str, int], tx: bool = False
) -> None:
    consumed.table += capacity.write_units(size, tx)
    for name, writes in touched.items():
        index = table.indexes.get(name)
        if index is not None:
            consumed.add_index(name, index.is_global, writes * capacity.write_units(size, tx))


class ItemService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store: Store = tables.store

    # -- PutItem -------------------------------------------------------------------------

    async def put_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.tables.get(req["TableName"])
        return_values = req.get("ReturnValues") or "NONE"
        if return_values not in ("NONE", "ALL_OLD"):
            raise ValidationError(MSG_BAD_RETURN)
        item, size = validate_item_sized(req.get("Item"))
        key = key_bytes(table, item)
        if table.indexes:
            check_index_keys(table, item)
        check_size(size)
        condition = exprs.compile_request(req, condition=True).condition
        rcc = req.get("ReturnConsumedCapacity")
        body = encode_body(item)
        store = self.store
        changes = Changes(self.tables)
        old_raw: bytes | None = None
        old: Item | None = None
        need_old = (
            condition is not None
            or return_values == "ALL_OLD"
            or needs_old(table)
            or (rcc is not None and rcc != "NONE")
        )
        # --- no await from here until the batch is applied ---
        if need_old:
            old_raw = store.get(spaces.ITEMS, key)
            old = decode_item(old_raw) if old_raw is not None else None
            if condition is not None and not condition.evaluate(old or {}):
                raise _condition_failed(req, old)
        staged = changes.stage(table, key, old, item, body, old_raw=old_raw)
        sequence = changes.apply()
        # --- applied: now wait for durability ---
        await store.durable(sequence)
        capacity.USAGE.write(table.name, max(size, len(old_raw) if old_raw is not None else 0))
        out: dict[str, Any] = {}
        if return_values == "ALL_OLD" and old_raw is not None:
            out["Attributes"] = raw_item(old_raw)
        collection = staged.collection
        if collection is not None and req.get("ReturnItemCollectionMetrics") == "SIZE":
            out["ItemCollectionMetrics"] = item_collections.metrics(table, item, collection)
        if rcc is not None and rcc != "NONE":
            consumed = capacity.Consumed(table.name, read=False)
            write_capacity(table, consumed, max(size, item_size(old) if old else 0), staged.touched)
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out

    # -- GetItem -------------------------------------------------------------------------

    def get_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.tables.get(req["TableName"])
        _, key = validate_key(table, req.get("Key"))
        projection = exprs.compile_request(req, projection=True).projection
        value = self.store.get(spaces.ITEMS, key)
        out: dict[str, Any] = {}
        if value is not None:
            if projection is None:
                out["Item"] = raw_item(value)
            else:
                out["Item"] = projection.apply(decode_item(value))
        capacity.USAGE.read(
            table.name, len(value) if value is not None else 0, bool(req.get("ConsistentRead"))
        )
        rcc = req.get("ReturnConsumedCapacity")
        if rcc is not None and rcc != "NONE":
            consumed = capacity.Consumed(table.name, read=True)
            size = item_size(decode_item(value)) if value is not None else 0
            consumed.table = capacity.read_units(size, bool(req.get("ConsistentRead")))
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out

    # -- DeleteItem ----------------------------------------------------------------------

    async def delete_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.tables.get(req["TableName"])
        return_values = req.get("ReturnValues") or "NONE"
        if return_values not in ("NONE", "ALL_OLD"):
            raise ValidationError(MSG_BAD_RETURN)
        key_item, key = validate_key(table, req.get("Key"))
        condition = exprs.compile_request(req, condition=True).condition
        rcc = req.get("ReturnConsumedCapacity")
        store = self.store
        # --- no await from here until the batch is applied ---
        old_raw = store.get(spaces.ITEMS, key)
        old = decode_item(old_raw) if old_raw is not None else None
        if condition is not None and not condition.evaluate(old or {}):
            raise _condition_failed(req, old)
        touched: dict[str, int] = {}
        collection: int | None = None
        changes = Changes(self.tables)
        if old is not None:
            staged = changes.stage(table, key, old, None, old_raw=old_raw)
            touched, collection = staged.touched, staged.collection
            sequence = changes.apply()
            # --- applied: now wait for durability ---
            await store.durable(sequence)
        elif item_collections.has_collections(table):
            collection = changes.collection_size(table, key_item)
        capacity.USAGE.write(table.name, len(old_raw) if old_raw is not None else 0)
        out: dict[str, Any] = {}
        if return_values == "ALL_OLD" and old_raw is not None:
            out["Attributes"] = raw_item(old_raw)
        if collection is not None and req.get("ReturnItemCollectionMetrics") == "SIZE":
            out["ItemCollectionMetrics"] = item_collections.metrics(table, key_item, collection)
        if rcc is not None and rcc != "NONE":
            consumed = capacity.Consumed(table.name, read=False)
            write_capacity(table, consumed, item_size(old) if old else 0, touched)
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out

    # -- UpdateItem ----------------------------------------------------------------------

    async def update_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.tables.get(req["TableName"])
        return_values = req.get("ReturnValues") or "NONE"
        if return_values not in ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"):
            raise ValidationError(MSG_BAD_RETURN)
        key_item, key = validate_key(table, req.get("Key"))
        compiled = exprs.compile_request(req, condition=True, update=True)
        condition = compiled.condition
        update = compiled.update
        if update is not None:
            for path in update.paths:
                if path[0] in table.key_names:
                    raise ValidationError(
                        f"{INVALID}Cannot update attribute {path[0]}. This attribute is part "
                        "of the key"
                    )
        rcc = req.get("ReturnConsumedCapacity")
        store = self.store
        # --- no await from here until the batch is applied ---
        old_raw = store.get(spaces.ITEMS, key)
        old = decode_item(old_raw) if old_raw is not None else None
        if condition is not None and not condition.evaluate(old or {}):
            raise _condition_failed(req, old)
        if old is None and isinstance(update, Update) and update.removes_only:
            return self._nothing_updated(table, key_item, rcc)
        changed: tuple[Path, ...] = ()
        if update is None:
            new = old if old is not None else key_item
        else:
            result = update.apply(old if old is not None else key_item)
            new = result.item
            changed = result.updated_paths
        body = encode_body(new)
        check_encoded_size(new, body)
        if table.indexes:
            check_index_keys(table, new)
        changes = Changes(self.tables)
        staged = changes.stage(table, key, old, new, body, old_raw=old_raw)
        sequence = changes.apply()
        # --- applied: now wait for durability ---
        await store.durable(sequence)
        capacity.USAGE.write(table.name, max(len(body), len(old_raw) if old_raw is not None else 0))
        out: dict[str, Any] = {}
        collection = staged.collection
        if collection is not None and req.get("ReturnItemCollectionMetrics") == "SIZE":
            out["ItemCollectionMetrics"] = item_collections.metrics(table, new, collection)
        if return_values == "ALL_OLD":
            if old_raw is not None:
                out["Attributes"] = raw_item(old_raw)
        elif return_values == "ALL_NEW":
            out["Attributes"] = msgspec.Raw(body)
        elif return_values == "UPDATED_OLD":
            if old is not None:
                attrs = exprs.updated_parts(old, changed)
                if attrs:
                    out["Attributes"] = attrs
        elif return_values == "UPDATED_NEW":
            attrs = exprs.updated_parts(new, changed)
            if attrs:
                out["Attributes"] = attrs
        if rcc is not None and rcc != "NONE":
            consumed = capacity.Consumed(table.name, read=False)
            size = item_size(new)
            write_capacity(table, consumed, max(size, item_size(old) if old else 0), staged.touched)
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out

    @staticmethod
    def _nothing_updated(table: Table, key_item: Item, rcc: str | None) -> dict[str, Any]:
        """REMOVE actions on an absent item: AWS creates nothing and returns no attributes
        (whatever ReturnValues asks), but counts the write."""
        capacity.USAGE.write(table.name, 0)
        out: dict[str, Any] = {}
        if rcc is not None and rcc != "NONE":
            consumed = capacity.Consumed(table.name, read=False)
            write_capacity(table, consumed, item_size(key_item), {})
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out


def _condition_failed(req: dict[str, Any], old: Item | None) -> ConditionalCheckFailed:
    if req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
        return ConditionalCheckFailed(item=old)
    return ConditionalCheckFailed()
