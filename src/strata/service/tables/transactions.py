"""TransactWriteItems and TransactGetItems: all or nothing, one consistent snapshot.

A write transaction is validated whole, then, with no ``await`` until the batch is
applied: every action's item is read, every condition checked, and either the whole
transaction goes into one ``WriteBatch`` (items, index entries and the idempotency token
together) or nothing is written and ``TransactionCanceled`` lists a reason per action in
request order. A crash can therefore never leave half a transaction: the batch is one
atomic RocksDB write.

ClientRequestToken: the token, a digest of the request and an expiry are stored with the
transaction; the same token within 10 minutes returns success without writing again, and
with a different request it is ``IdempotentParameterMismatch``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from strata.service.tables import capacity, exprs, item_collections
from strata.service.tables.changes import Changes
from strata.service.tables.codec import decode_item, raw_item
from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions import Condition, Update
from strata.service.tables.expressions.legacy import LegacyUpdate
from strata.service.tables.indexes import check_index_keys
from strata.service.tables.items import (
    INVALID,
    check_item_size,
    key_bytes,
    validate_key,
    write_capacity,
)
from strata.service.tables.schema import Table
from strata.service.tables.service_errors import (
    IdempotentParameterMismatch,
    ItemCollectionSizeLimitExceeded,
    TransactionCanceled,
)
from strata.service.tables.tables import TableService
from strata.service.tables.values import Item, item_size, validate_item
from strata.storage import keys, spaces
from strata.storage.store import Store

TOKEN_TTL_S: Final = 600.0
MSG_SAME_ITEM: Final = "Transaction request cannot include multiple operations on one item"
TRANSACTION_BYTES_MAX: Final = 4 * 1024 * 1024
# AWS's exact words for this were not found; these are its documentation's.
MSG_TOO_LARGE: Final = "The aggregate size of the items in the transaction cannot exceed 4 MB"
ACTIONS: Final = ("ConditionCheck", "Put", "Delete", "Update")


class TokenRecord(msgspec.Struct, frozen=True):
    digest: str
    expires_s: float


_token_encoder = msgspec.msgpack.Encoder()
_token_decoder = msgspec.msgpack.Decoder(TokenRecord)


@dataclass(slots=True)
class Action:
    kind: str
    table: Table
    key: bytes
    key_item: Item
    spec: dict[str, Any]
    condition: Condition | None
    item: Item | None = None  # Put
    update: Update | LegacyUpdate | None = None


class TransactionService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store: Store = tables.store

    def _plan(self, entry: Any, position: int) -> Action:
        if not isinstance(entry, dict):
            raise ValidationError("Invalid TransactItem")
        present = [k for k in ACTIONS if entry.get(k) is not None]
        if len(present) != 1:
            raise ValidationError(
                "TransactItems can only contain one of Check, Put, Update or Delete"
            )
        kind = present[0]
        spec = entry[kind]
        table = self.tables.get(spec.get("TableName", ""))
        if kind == "Put":
            item = validate_item(spec.get("Item"))
            key = key_bytes(table, item)
            if table.indexes:
                check_index_keys(table, item)
            check_item_size(item)
            compiled = exprs.compile_request(spec, condition=True)
            key_item = {n: item[n] for n in table.key_names}
            return Action(kind, table, key, key_item, spec, compiled.condition, item=item)
        key_item, key = validate_key(table, spec.get("Key"))
        if kind == "Update":
            compiled = exprs.compile_request(spec, condition=True, update=True)
            if compiled.update is None:
                raise ValidationError(
                    "1 validation error detected: Value null at "
                    f"'transactItems.{position}.member.update.updateExpression' failed to "
                    "satisfy constraint: Member must not be null"
                )
            for path in compiled.update.paths:
                if path[0] in table.key_names:
                    raise ValidationError(
                        f"{INVALID}Cannot update attribute {path[0]}. This attribute is part "
                        "of the key"
                    )
            return Action(
                kind, table, key, key_item, spec, compiled.condition, update=compiled.update
            )
        compiled = exprs.compile_request(spec, condition=True)
        if kind == "ConditionCheck" and compiled.condition is None:
            raise ValidationError(
                "1 validation error detected: Value null at "
                f"'transactItems.{position}.member.conditionCheck.conditionExpression' failed "
                "to satisfy constraint: Member must not be null"
            )
        return Action(kind, table, key, key_item, spec, compiled.condition)

    async def transact_write_items(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req["TransactItems"]
        actions = [self._plan(entry, i + 1) for i, entry in enumerate(entries)]
        if len({(id(a.table), a.key) for a in actions}) != len(actions):
            raise ValidationError(MSG_SAME_ITEM)
        if sum(item_size(a.item) for a in actions if a.item is not None) > TRANSACTION_BYTES_MAX:
            raise ValidationError(MSG_TOO_LARGE)
        token = req.get("ClientRequestToken")
        rcc = req.get("ReturnConsumedCapacity")
        want_capacity = rcc is not None and rcc != "NONE"
        store = self.store
        now = store.clock.now_s()
        token_key: bytes | None = None
        digest = ""
        # --- no await from here until the batch is applied ---
        if token is not None:
            token_key = keys.pack("transact-write", token)
            body = {k: v for k, v in req.items() if k != "ReturnConsumedCapacity"}
            digest = hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()
            stored = store.get(spaces.TOKENS, token_key)
            if stored is not None:
                record = _token_decoder.decode(memoryview(stored)[1:])
                if record.expires_s > now:
                    if record.digest != digest:
                        raise IdempotentParameterMismatch(
                            "The request uses the same client token as a previous, but "
                            "non-identical request."
                        )
                    return self._capacity_only(actions, str(rcc)) if want_capacity else {}
        olds: list[Item | None] = []
        reasons: list[dict[str, Any]] = []
        failed = False
        for action in actions:
            raw = store.get(spaces.ITEMS, action.key)
            old = decode_item(raw) if raw is not None else None
            olds.append(old)
            if action.condition is not None and not action.condition.evaluate(old or {}):
                failed = True
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                wants_item = action.spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                if wants_item and raw is not None:
                    reason["Item"] = raw_item(raw)
                reasons.append(reason)
            else:
                reasons.append({"Code": "None"})
        if failed:
            raise TransactionCanceled(reasons)
        changes = Changes(self.tables)
        consumed: dict[str, capacity.Consumed] = {}
        collections: dict[str, dict[bytes, tuple[Item, int]]] = {}
        for position, (action, old) in enumerate(zip(actions, olds, strict=True)):
            touched: dict[str, int] = {}
            size = item_size(old) if old is not None and want_capacity else 0
            table = action.table
            new: Item | None = None
            if action.kind == "Put":
                assert action.item is not None
                new = action.item
            elif action.kind == "Update":
                assert action.update is not None
                try:
                    new = action.update.apply(old if old is not None else action.key_item).item
                    check_item_size(new)
                    if table.indexes:
                        check_index_keys(table, new)
                except ValidationError as exc:
                    # An error that depends on the stored item cancels the transaction.
                    reasons = [{"Code": "None"} for _ in actions]
                    reasons[position] = {"Code": "ValidationError", "Message": exc.message}
                    raise TransactionCanceled(reasons) from None
            if action.kind != "ConditionCheck" and (old is not None or new is not None):
                try:
                    staged = changes.stage(table, action.key, old, new)
                except ItemCollectionSizeLimitExceeded as exc:
                    reasons = [{"Code": "None"} for _ in actions]
                    reasons[position] = {
                        "Code": "ItemCollectionSizeLimitExceeded",
                        "Message": exc.message,
                    }
                    raise TransactionCanceled(reasons) from None
                touched = staged.touched
                if staged.collection is not None:
                    present = new if new is not None else old
                    assert present is not None
                    collections.setdefault(table.name, {})[
                        item_collections.collection_key(table, present)
                    ] = (present, staged.collection)
            if want_capacity:
                if new is not None:
                    size = max(size, item_size(new))
                c = consumed.setdefault(table.name, capacity.Consumed(table.name, read=False))
                if action.kind == "ConditionCheck":
                    c.table += capacity.read_units(size, True, transactional=True)
                else:
                    write_capacity(table, c, size, touched, tx=True)
        if token_key is not None:
            record = TokenRecord(digest, now + TOKEN_TTL_S)
            changes.batch.put(spaces.TOKENS, token_key, b"\x01" + _token_encoder.encode(record))
        sequence = changes.apply()
        # --- applied: now wait for durability ---
        await store.durable(sequence)
        for action in actions:
            capacity.USAGE.write(action.table.name, 0, tx=True)
        out: dict[str, Any] = {}
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

    def _capacity_only(self, actions: list[Action], rcc: str) -> dict[str, Any]:
        consumed: dict[str, capacity.Consumed] = {}
        for action in actions:
            c = consumed.setdefault(
                action.table.name, capacity.Consumed(action.table.name, read=True)
            )
            c.table += capacity.read_units(0, True)
        return {"ConsumedCapacity": [c.document(rcc) for c in consumed.values()]}

    def transact_get_items(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req["TransactItems"]
        plans: list[tuple[Table, bytes, exprs.Compiled]] = []
        for position, entry in enumerate(entries):
            spec = entry.get("Get") if isinstance(entry, dict) else None
            if spec is None:
                raise ValidationError(
                    "1 validation error detected: Value null at 'transactItems.1.member.get' "
                    "failed to satisfy constraint: Member must not be null"
                )
            name = spec.get("TableName")
            if not isinstance(name, str):
                raise ValidationError(
                    f"1 validation error detected: Value null at 'transactItems.{position + 1}"
                    ".member.get.tableName' failed to satisfy constraint: Member must not be null"
                )
            table = self.tables.get(name)
            try:
                _, key = validate_key(table, spec.get("Key"))
            except ValidationError as exc:
                # AWS cancels the transaction, the key's fault its reason.
                reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in entries]
                reasons[position] = {"Code": "ValidationError", "Message": exc.message}
                raise TransactionCanceled(reasons) from None
            plans.append((table, key, exprs.compile_request(spec, projection=True)))
        if len({(id(t), k) for t, k, _ in plans}) != len(plans):
            raise ValidationError(MSG_SAME_ITEM)
        rcc = req.get("ReturnConsumedCapacity")
        want_capacity = rcc is not None and rcc != "NONE"
        consumed: dict[str, capacity.Consumed] = {}
        responses: list[dict[str, Any]] = []
        # --- reads with no await in between: one consistent snapshot ---
        for table, key, compiled in plans:
            raw = self.store.get(spaces.ITEMS, key)
            capacity.USAGE.read(table.name, len(raw) if raw is not None else 0, True, tx=True)
            if raw is None:
                responses.append({})
            elif compiled.projection is not None:
                responses.append({"Item": compiled.projection.apply(decode_item(raw))})
            else:
                responses.append({"Item": raw_item(raw)})
            if want_capacity:
                c = consumed.setdefault(table.name, capacity.Consumed(table.name, read=True))
                size = item_size(decode_item(raw)) if raw is not None else 0
                c.table += capacity.read_units(size, True, transactional=True)
        out: dict[str, Any] = {"Responses": responses}
        if want_capacity:
            out["ConsumedCapacity"] = [c.document(rcc) for c in consumed.values()]
        return out
