"""BatchGetItem and BatchWriteItem.

The whole request is validated before anything is read or written, as AWS does. A batch
write is then applied as one ``WriteBatch`` (items and their index entries), which is
stronger than AWS's per-item atomicity and costs one fsync for the lot. Nothing is ever
left unprocessed for throughput reasons; a BatchGetItem answer over 16 MB returns the
rest in ``UnprocessedKeys``.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

from strata.service.tables import capacity, exprs, item_collections
from strata.service.tables.changes import Changes, needs_old
from strata.service.tables.codec import decode_item, raw_item
from strata.service.tables.errors import ValidationError
from strata.service.tables.indexes import check_index_keys
from strata.service.tables.items import (
    check_size,
    key_bytes,
    validate_key,
    write_capacity,
)
from strata.service.tables.schema import Table
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item, item_size, validate_item_sized
from strata.storage import spaces
from strata.storage.store import Store

BATCH_GET_KEYS_MAX: Final = 100
BATCH_WRITE_REQUESTS_MAX: Final = 25
BATCH_GET_RESPONSE_BYTES_MAX: Final = 16 * 1024 * 1024
MSG_DUPLICATES: Final = "Provided list of item keys contains duplicates"

_WRITE_REQUEST_JAVA: Final = "com.amazonaws.dynamodb.v20120810.WriteRequest"


def _check_write_lists(request_items: dict[str, Any]) -> None:
    """Each table's list of 1 to 25 write requests, refused in AWS's member-path form: the
    whole map printed as Java prints it (``{t=[WriteRequest@hash, ...]}``)."""
    if all(
        0 < len(requests or ()) <= BATCH_WRITE_REQUESTS_MAX for requests in request_items.values()
    ):
        return
    shown = ", ".join(
        f"{name}=["
        + ", ".join(
            f"{_WRITE_REQUEST_JAVA}@{zlib.crc32(repr(r).encode()):x}" for r in requests or ()
        )
        + "]"
        for name, requests in request_items.items()
    )
    raise ValidationError(
        f"1 validation error detected: Value '{{{shown}}}' at 'requestItems' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have length less than or "
        f"equal to {BATCH_WRITE_REQUESTS_MAX}, Member must have length greater than or equal to 1]"
    )


Plan = tuple[str, Table, dict[str, Any], exprs.Compiled, list[tuple[Item, bytes]]]


class BatchService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store: Store = tables.store

    def batch_get_item(self, req: dict[str, Any]) -> dict[str, Any]:
        request_items: dict[str, Any] = req["RequestItems"]
        total = sum(len(spec.get("Keys") or []) for spec in request_items.values())
        if total > BATCH_GET_KEYS_MAX:
            raise ValidationError("Too many items requested for the BatchGetItem call")
        plans: list[
            tuple[str, Table, dict[str, Any], exprs.Compiled, list[tuple[Item, bytes]]]
        ] = []
        for name, spec in request_items.items():
            table = self.tables.get(name)
            keys_in = spec.get("Keys")
            if not keys_in:
                raise ValidationError(
                    f"1 validation error detected: Value '[]' at 'requestItems.{name}.member.keys' "
                    "failed to satisfy constraint: Member must have length greater than or equal "
                    "to 1"
                )
            compiled = exprs.compile_request(spec, projection=True)
            keys = [validate_key(table, key) for key in keys_in]
            if len({k for _, k in keys}) != len(keys):
                raise ValidationError(MSG_DUPLICATES)
            plans.append((name, table, spec, compiled, keys))
        rcc = req.get("ReturnConsumedCapacity")
        want_capacity = rcc is not None and rcc != "NONE"
        responses: dict[str, list[Any]] = {}
        unprocessed: dict[str, Any] = {}
        consumed_docs: list[dict[str, Any]] = []
        size = 0
        # --- a sequence of reads with no await in between: one consistent snapshot ---
        for name, table, spec, compiled, keys in plans:
            found: list[Any] = responses.setdefault(name, [])
            values = self.store.get_many(spaces.ITEMS, [k for _, k in keys])
            consumed = capacity.Consumed(table.name, read=True)
            consistent = bool(spec.get("ConsistentRead"))
            for (key_item, _), value in zip(keys, values, strict=True):
                if size > BATCH_GET_RESPONSE_BYTES_MAX:
                    left = unprocessed.setdefault(
                        name, {k: v for k, v in spec.items() if k != "Keys"}
                    )
                    left.setdefault("Keys", []).append(key_item)
                    continue
                capacity.USAGE.read(table.name, len(value) if value is not None else 0, consistent)
                if value is None:
                    if want_capacity:
                        consumed.table += capacity.read_units(0, consistent)
                    continue
                size += len(value)
                if compiled.projection is not None:
                    found.append(compiled.projection.apply(decode_item(value)))
                else:
                    found.append(raw_item(value))
                if want_capacity:
                    consumed.table += capacity.read_units(item_size(decode_item(value)), consistent)
            if want_capacity:
                doc = consumed.document(rcc)
                assert doc is not None
                consumed_docs.append(doc)
        out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
        if want_capacity:
            out["ConsumedCapacity"] = consumed_docs
        return out

    async def batch_write_item(self, req: dict[str, Any]) -> dict[str, Any]:
        request_items: dict[str, Any] = req["RequestItems"]
        _check_write_lists(request_items)
        total = sum(len(requests or []) for requests in request_items.values())
        if total > BATCH_WRITE_REQUESTS_MAX:
            raise ValidationError("Too many items requested for the BatchWriteItem call")
        planned: list[tuple[Table, bytes, Item | None]] = []  # item None: delete
        for name, requests in request_items.items():
            table = self.tables.get(name)
            seen: set[bytes] = set()
            for request in requests:
                put = request.get("PutRequest")
                delete = request.get("DeleteRequest")
                if (put is None) == (delete is None):
                    raise ValidationError(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                        if put is not None
                        else "1 validation error detected: Value null at "
                        f"'requestItems.{name}.member.1.member' failed to satisfy constraint: "
                        "Member must not be null"
                    )
                if put is not None:
                    item, size = validate_item_sized(put.get("Item"))
                    key = key_bytes(table, item)
                    if table.indexes:
                        check_index_keys(table, item)
                    check_size(size)
                    planned.append((table, key, item))
                else:
                    _, key = validate_key(table, delete.get("Key"))
                    planned.append((table, key, None))
                if key in seen:
                    raise ValidationError(MSG_DUPLICATES)
                seen.add(key)
        rcc = req.get("ReturnConsumedCapacity")
        want_capacity = rcc is not None and rcc != "NONE"
        consumed: dict[str, capacity.Consumed] = {}
        store = self.store
        changes = Changes(self.tables)
        collections: dict[str, dict[bytes, tuple[Item, int]]] = {}
        # --- no await from here until the batch is applied ---
        for table, key, new_item in planned:
            old: Item | None = None
            if needs_old(table) or want_capacity:
                old_raw = store.get(spaces.ITEMS, key)
                old = decode_item(old_raw) if old_raw is not None else None
            staged = changes.stage(table, key, old, new_item)
            if want_capacity:
                size = item_size(new_item) if new_item is not None else 0
                size = max(size, item_size(old) if old is not None else 0)
                c = consumed.setdefault(table.name, capacity.Consumed(table.name, read=False))
                write_capacity(table, c, size, staged.touched)
            if staged.collection is not None:
                present = new_item if new_item is not None else old
                assert present is not None
                per_table = collections.setdefault(table.name, {})
                per_table[item_collections.collection_key(table, present)] = (
                    present,
                    staged.collection,
                )
        sequence = changes.apply()
        # --- applied: now wait for durability ---
        await store.durable(sequence)
        for table, _, _ in planned:
            capacity.USAGE.write(table.name, 0)  # a unit each: old sizes are not read here
        out: dict[str, Any] = {"UnprocessedItems": {}}
        if want_capacity:
            out["ConsumedCapacity"] = [c.document(rcc) for c in consumed.values()]
        if req.get("ReturnItemCollectionMetrics") == "SIZE" and collections:
            out["ItemCollectionMetrics"] = {
                name: [
                    item_collections.metrics(self.tables.get(name), item, size)
                    for item, size in per_table.values()
                ]
                for name, per_table in collections.items()
            }
        return out
