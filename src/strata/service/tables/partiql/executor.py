"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

Each statement is parsed (cached by text), planned into the table service's own requests
(``planner``), and run by the services that serve those requests: reads by ``QueryService``
and ``ItemService.get_item``, writes by ``ItemService`` and transactions by
``TransactionService``. So every PartiQL write goes through ``changes.Changes`` like any
other, streams and indexes included, and has the same atomicity and durability.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Final

import msgspec

from strata.service.tables import expressions as ex
from strata.service.tables.constraints import Constraints
from strata.service.tables.errors import (
    ConditionalCheckFailed,
    SerializationError,
    TablesError,
    ValidationError,
)
from strata.service.tables.items import ItemService
from strata.service.tables.partiql.planner import (
    MSG_INDEX_WRITE,
    Expressions,
    WritePlan,
    bind_parameters,
    full_key,
    join_and,
    plan_delete,
    plan_exists,
    plan_insert,
    plan_update,
)
from strata.service.tables.partiql.reads import pins_partition, plan_select
from strata.service.tables.partiql.syntax import parse_statement
from strata.service.tables.partiql.tree import (
    Delete,
    Exists,
    Insert,
    Node,
    Path,
    Select,
    Statement,
    Update,
)
from strata.service.tables.query import QueryService
from strata.service.tables.service_errors import (
    DuplicateItemExists,
    ItemCollectionSizeLimitExceeded,
    ResourceNotFound,
    TransactionCanceled,
    TransactionConflict,
)
from strata.service.tables.tables import TableService
from strata.service.tables.transactions import TransactionService
from strata.service.tables.values import AttributeValue, Item

IN_PAGE_ITEMS_MAX: Final = 10  # AWS pages an IN on the partition key by ten items
MSG_TOKEN: Final = "Invalid NextToken"
MSG_BATCH_KEY: Final = (
    "Select statements within BatchExecuteStatement must specify the primary key in the "
    "where clause"
)
MSG_BATCH_MIXED: Final = (
    "Unsupported operation: a batch must consist of either read statements or write "
    "statements, not both"
)
MSG_TX_MIXED: Final = (
    "Unsupported operation: a transaction must consist of either read statements or write "
    "statements, not both"
)
MSG_TX_RETURNING: Final = "RETURNING clause is not supported in ExecuteTransaction"
MSG_TX_INDEX: Final = "Reads on indices are not supported within transactions"
# BatchStatementError codes, most specific type first.
_BATCH_CODES: Final[tuple[tuple[type[TablesError], str], ...]] = (
    (DuplicateItemExists, "DuplicateItem"),
    (ConditionalCheckFailed, "ConditionalCheckFailed"),
    (ResourceNotFound, "ResourceNotFound"),
    (ItemCollectionSizeLimitExceeded, "ItemCollectionSizeLimitExceeded"),
    (TransactionConflict, "TransactionConflict"),
    (ValidationError, "ValidationError"),
    (SerializationError, "ValidationError"),
)
_decode = msgspec.json.decode
_encode = msgspec.json.encode


class PartiqlService:
    def __init__(
        self,
        tables: TableService,
        items: ItemService,
        queries: QueryService,
        transactions: TransactionService,
    ) -> None:
        self.tables = tables
        self.items = items
        self.queries = queries
        self.transactions = transactions

    # -- ExecuteStatement ---------------------------------------------------------------

    async def execute_statement(self, req: dict[str, Any]) -> dict[str, Any]:
        parsed = parse_statement(req["Statement"])
        params = bind_parameters(parsed.params_count, req.get("Parameters"))
        statement = parsed.statement
        rcc = req.get("ReturnConsumedCapacity")
        if isinstance(statement, Select):
            return self._select(statement, params, req)
        if isinstance(statement, Exists):
            raise ValidationError(MSG_EXISTS_ALONE)
        plan = self._plan_write(statement, params)
        out = await self._write(plan, req.get("ReturnValuesOnConditionCheckFailure"), rcc)
        attributes = out.get("Attributes")
        result: dict[str, Any] = {"Items": [attributes] if attributes else []}
        if out.get("ConsumedCapacity") is not None:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
        return result

    def _plan_write(self, statement: Statement, params: list[AttributeValue]) -> WritePlan:
        table = self.tables.get(statement_table(statement))
        if isinstance(statement, Exists):
            if statement.select.target.index is not None:
                raise ValidationError(MSG_INDEX_EXISTS)
            return plan_exists(table, statement.select.where, params)
        if isinstance(statement, Select):
            raise ValidationError(MSG_TX_MIXED)
        if statement.target.index is not None:
            raise ValidationError(MSG_INDEX_WRITE)
        if isinstance(statement, Insert):
            return plan_insert(table, statement.item, params)
        if isinstance(statement, Update):
            return plan_update(
                table, statement.actions, statement.where, statement.returning, params
            )
        return plan_delete(table, statement.where, statement.returning, params)

    async def _write(
        self, plan: WritePlan, on_failure: str | None, rcc: str | None
    ) -> dict[str, Any]:
        request = dict(plan.request)
        if on_failure is not None:
            request["ReturnValuesOnConditionCheckFailure"] = on_failure
        if rcc is not None:
            request["ReturnConsumedCapacity"] = rcc
        try:
            if plan.action == "Put":
                return await self.items.put_item(request)
            if plan.action == "Update":
                return await self.items.update_item(request)
            return await self.items.delete_item(request)
        except ConditionalCheckFailed:
            if plan.insert:
                raise DuplicateItemExists() from None
            raise

    def _select(
        self, select: Select, params: list[AttributeValue], req: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.tables.get(select.target.table)
        plan = plan_select(table, select.target.index, select.where, params, select.order_by)
        residual = _condition(plan.residual, params)
        digest = _digest(req)
        position, start = _read_token(req.get("NextToken"), digest)
        base: dict[str, Any] = {"TableName": plan.table}
        if plan.index is not None:
            base["IndexName"] = plan.index
        for member in ("ConsistentRead", "ReturnConsumedCapacity"):
            if req.get(member) is not None:
                base[member] = req[member]
        reach = _index_reach(plan.index, select.projection, residual)
        remaining: int | None = req.get("Limit")
        items: list[Any] = []
        consumed: list[dict[str, Any]] = []
        token: tuple[int, Any] | None = None
        queries = plan.queries
        while True:
            call = dict(base)
            if remaining is not None:
                call["Limit"] = remaining
            if start is not None:
                call["ExclusiveStartKey"] = start
            if queries is None:
                page = self.queries.scan({**call, **reach})
            else:
                if position >= len(queries):
                    break
                page = self.queries.query(_with_reach(call, queries[position], reach))
            _collect(page, residual, select.projection, items)
            if page.get("ConsumedCapacity") is not None:
                consumed.append(page["ConsumedCapacity"])
            start = page.get("LastEvaluatedKey")
            if start is not None:
                token = (position, start)
                break
            if queries is None:
                break
            position += 1
            if remaining is not None:
                remaining -= page["ScannedCount"]
            if position < len(queries) and (
                remaining == 0 or (len(queries) > 1 and len(items) >= IN_PAGE_ITEMS_MAX)
            ):
                token = (position, None)
                break
        out: dict[str, Any] = {"Items": items}
        if token is not None:
            out["NextToken"] = _write_token(digest, *token)
            if token[1] is not None:
                out["LastEvaluatedKey"] = token[1]
        if req.get("ReturnConsumedCapacity") not in (None, "NONE"):
            merged = merge_capacity(consumed)
            if merged:
                out["ConsumedCapacity"] = merged[0]
        return out

    def full_scan(self, text: str) -> bool:
        """Whether a statement is a SELECT that scans its table or index (IAM's
        ``dynamodb:FullTableScan``); False for anything else, or a table that is not there."""
        try:
            statement = parse_statement(text).statement
            if not isinstance(statement, Select):
                return False
            table = self.tables.get(statement.target.table)
        except (ValidationError, ResourceNotFound):
            return False
        return not pins_partition(table, statement.target.index, statement.where)

    # -- BatchExecuteStatement ----------------------------------------------------------

    async def batch_execute_statement(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req["Statements"]
        check_entries(entries, "statements")
        rcc = req.get("ReturnConsumedCapacity")
        parsed: list[tuple[Statement, list[AttributeValue]] | TablesError] = []
        for entry in entries:
            try:
                tree = parse_statement(entry.get("Statement"))
                parsed.append(
                    (tree.statement, bind_parameters(tree.params_count, entry.get("Parameters")))
                )
            except (ValidationError, SerializationError) as exc:
                parsed.append(exc)
        kinds = {isinstance(p[0], Select) for p in parsed if not isinstance(p, TablesError)}
        if len(kinds) > 1:
            raise ValidationError(MSG_BATCH_MIXED)
        responses: list[dict[str, Any]] = []
        consumed: list[dict[str, Any]] = []
        for entry, parsed_entry in zip(entries, parsed, strict=True):
            if isinstance(parsed_entry, TablesError):
                responses.append({"Error": _batch_error(parsed_entry)})
                continue
            statement, params = parsed_entry
            table_name: str | None = None
            try:
                if isinstance(statement, Select):
                    key, residual = self._batch_key(statement, params)
                    table_name = statement.target.table
                    response, capacity = self._get(
                        statement, key, residual, params, entry.get("ConsistentRead"), rcc
                    )
                else:
                    plan = self._plan_write(statement, params)
                    table_name = plan.request["TableName"]
                    out = await self._write(plan, None, rcc)
                    response = {"TableName": table_name}
                    if out.get("Attributes"):
                        response["Item"] = out["Attributes"]
                    capacity = out.get("ConsumedCapacity")
            except TablesError as exc:
                error: dict[str, Any] = {"Error": _batch_error(exc)}
                if table_name is not None:
                    error["TableName"] = table_name
                responses.append(error)
                continue
            responses.append(response)
            if capacity is not None:
                consumed.append(capacity)
        result: dict[str, Any] = {"Responses": responses}
        if rcc not in (None, "NONE"):
            result["ConsumedCapacity"] = merge_capacity(consumed)
        return result

    def _batch_key(
        self, select: Select, params: list[AttributeValue]
    ) -> tuple[dict[str, AttributeValue], Node | None]:
        if select.target.index is not None:
            raise ValidationError(MSG_BATCH_KEY)
        table = self.tables.get(select.target.table)
        try:
            key, rest = full_key(table, select.where, params)
        except ValidationError:
            raise ValidationError(MSG_BATCH_KEY) from None
        return key, join_and(rest)

    def _get(
        self,
        select: Select,
        key: dict[str, AttributeValue],
        residual: Node | None,
        params: list[AttributeValue],
        consistent: bool | None,
        rcc: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        request: dict[str, Any] = {"TableName": select.target.table, "Key": key}
        if consistent is not None:
            request["ConsistentRead"] = consistent
        if rcc is not None:
            request["ReturnConsumedCapacity"] = rcc
        condition = _condition(residual, params)
        out = self.items.get_item(request)
        response: dict[str, Any] = {"TableName": select.target.table}
        kept: list[Any] = []
        _collect(
            {"Items": [out["Item"]] if "Item" in out else []}, condition, select.projection, kept
        )
        if kept:
            response["Item"] = kept[0]
        return response, out.get("ConsumedCapacity")

    # -- ExecuteTransaction -------------------------------------------------------------

    async def execute_transaction(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req["TransactStatements"]
        check_entries(entries, "transactStatements")
        statements: list[tuple[Statement, list[AttributeValue]]] = []
        for position, entry in enumerate(entries):
            try:
                found = parse_statement(entry.get("Statement"))
                params = bind_parameters(found.params_count, entry.get("Parameters"))
            except ValidationError as exc:
                raise ValidationError(
                    f"Validation failed in TransactStatements[{position}]: {exc.message}"
                ) from None
            statement = found.statement
            if isinstance(statement, Update | Delete) and statement.returning is not None:
                raise ValidationError(MSG_TX_RETURNING)
            statements.append((statement, params))
        reads = [isinstance(s, Select) for s, _ in statements]
        if any(reads) and not all(reads):
            raise ValidationError(MSG_TX_MIXED)
        if all(reads):
            return self._transact_reads(statements, req.get("ReturnConsumedCapacity"))
        actions: list[dict[str, Any]] = []
        inserts: list[bool] = []
        for (statement, params), entry in zip(statements, entries, strict=True):
            try:
                plan = self._plan_write(statement, params)
            except ValidationError as exc:
                if exc.message.startswith("Where clause"):
                    reasons = [{"Code": "None"} for _ in statements]
                    reasons[len(actions)] = {"Code": "ValidationError", "Message": exc.message}
                    raise TransactionCanceled(reasons) from None
                raise
            spec = dict(plan.request)
            if entry.get("ReturnValuesOnConditionCheckFailure") is not None:
                spec["ReturnValuesOnConditionCheckFailure"] = entry[
                    "ReturnValuesOnConditionCheckFailure"
                ]
            actions.append({plan.action: spec})
            inserts.append(plan.insert)
        request: dict[str, Any] = {"TransactItems": actions}
        for member in ("ClientRequestToken", "ReturnConsumedCapacity"):
            if req.get(member) is not None:
                request[member] = req[member]
        try:
            out = await self.transactions.transact_write_items(request)
        except TransactionCanceled as exc:
            reasons = [
                {"Code": "DuplicateItem", "Message": DuplicateItemExists.default_message}
                if insert and reason.get("Code") == "ConditionalCheckFailed"
                else reason
                for reason, insert in zip(exc.reasons, inserts, strict=True)
            ]
            raise TransactionCanceled(reasons) from None
        result: dict[str, Any] = {}
        if out.get("ConsumedCapacity") is not None:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
        return result

    def _transact_reads(
        self, statements: list[tuple[Statement, list[AttributeValue]]], rcc: str | None
    ) -> dict[str, Any]:
        gets: list[dict[str, Any]] = []
        checks: list[tuple[Select, ex.Condition | None]] = []
        for statement, params in statements:
            assert isinstance(statement, Select)
            if statement.target.index is not None:
                raise ValidationError(MSG_TX_INDEX)
            table = self.tables.get(statement.target.table)
            key, rest = full_key(table, statement.where, params)
            gets.append({"Get": {"TableName": table.name, "Key": key}})
            checks.append((statement, _condition(join_and(rest), params)))
        request: dict[str, Any] = {"TransactItems": gets}
        if rcc is not None:
            request["ReturnConsumedCapacity"] = rcc
        out = self.transactions.transact_get_items(request)
        responses: list[dict[str, Any]] = []
        for found, (select, condition) in zip(out["Responses"], checks, strict=True):
            kept: list[Any] = []
            _collect(
                {"Items": [found["Item"]] if "Item" in found else []},
                condition,
                select.projection,
                kept,
            )
            responses.append({"Item": kept[0]} if kept else {})
        result: dict[str, Any] = {"Responses": responses}
        if out.get("ConsumedCapacity") is not None:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
        return result


MSG_EXISTS_ALONE: Final = "Unsupported operation: EXISTS can only be used in ExecuteTransaction"
MSG_INDEX_EXISTS: Final = MSG_TX_INDEX


def check_entries(entries: list[Any], member: str) -> None:
    """The model's constraints on each statement of a batch or transaction."""
    checks = Constraints()
    for position, entry in enumerate(entries, 1):
        path = f"{member}.{position}.member"
        statement = entry.get("Statement")
        if checks.not_null(statement, f"{path}.statement"):
            checks.length(statement, f"{path}.statement", 1, 8192)
        checks.length(entry.get("Parameters"), f"{path}.parameters", 1, None)
        checks.enum(
            entry.get("ReturnValuesOnConditionCheckFailure"),
            f"{path}.returnValuesOnConditionCheckFailure",
            ("ALL_OLD", "NONE"),
        )
    checks.raise_if_any()


def statement_table(statement: Statement) -> str:
    if isinstance(statement, Exists):
        return statement.select.target.table
    return statement.target.table


def _index_reach(
    index: str | None, projection: tuple[Path, ...] | None, residual: ex.Condition | None
) -> dict[str, Any]:
    """A read of an index naming its attributes asks for them: a local index then reads
    the ones it does not hold from the table, as DynamoDB's PartiQL does."""
    if index is None or projection is None:
        return {}
    wanted = {str(path.parts[0]) for path in projection}
    if residual is not None:
        wanted |= residual.attribute_names
    names = {f"#p{i}": name for i, name in enumerate(sorted(wanted))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _with_reach(
    call: dict[str, Any], query: dict[str, Any], reach: dict[str, Any]
) -> dict[str, Any]:
    if not reach:
        return {**call, **query}
    names = {**query.get("ExpressionAttributeNames", {}), **reach["ExpressionAttributeNames"]}
    return {**call, **query, **reach, "ExpressionAttributeNames": names}


def _condition(node: Node | None, params: list[AttributeValue]) -> ex.Condition | None:
    """The rest of a WHERE as a bound condition of the expression language."""
    if node is None:
        return None
    builder = Expressions(params)
    text = builder.condition(node)
    return ex.parse_filter(text, builder.names or None, builder.values or None)


def _collect(
    page: dict[str, Any],
    condition: ex.Condition | None,
    projection: tuple[Path, ...] | None,
    into: list[Any],
) -> None:
    """The page's items that satisfy ``condition``, projected as PartiQL projects."""
    for raw in page.get("Items", ()):
        if condition is None and projection is None:
            into.append(raw)
            continue
        item: Item = _decode(raw) if isinstance(raw, msgspec.Raw) else raw
        if condition is not None and not condition.evaluate(item):
            continue
        into.append(item if projection is None else project(item, projection))


def project(item: Item, paths: tuple[Path, ...]) -> Item:
    """SELECT's projection: each path answers under its last named part (``a.b[1]`` as
    ``b``, holding ``[element 1]``), as DynamoDB's PartiQL does."""
    out: Item = {}
    for path in paths:
        parts = path.parts
        last = max(i for i, part in enumerate(parts) if isinstance(part, str))
        if last == 0:
            out.update(ex.project(item, [parts]))
            continue
        parent = ex.resolve(item, parts[:last])
        members = parent.get("M") if parent is not None else None
        if isinstance(members, dict):
            out.update(ex.project(members, [parts[last:]]))
    return out


def merge_capacity(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ConsumedCapacity documents summed per table, in the order tables first appear."""
    by_table: dict[str, dict[str, Any]] = {}
    for document in documents:
        _add(by_table.setdefault(document["TableName"], {}), document)
    return list(by_table.values())


def _add(into: dict[str, Any], document: dict[str, Any]) -> None:
    for key, value in document.items():
        if isinstance(value, dict):
            _add(into.setdefault(key, {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[key] = into.get(key, 0.0) + value
        else:
            into[key] = value


def _digest(req: dict[str, Any]) -> str:
    """What a NextToken belongs to: the statement and its parameters."""
    body = _encode([req.get("Statement"), req.get("Parameters")])
    return hashlib.sha256(body).hexdigest()[:16]


def _write_token(digest: str, position: int, start: Any) -> str:
    body = _encode({"d": digest, "p": position, "k": start})
    return base64.urlsafe_b64encode(body).decode()


def _read_token(token: str | None, digest: str) -> tuple[int, Any]:
    """(partition position, ExclusiveStartKey) of a NextToken; (0, None) without one."""
    if token is None:
        return 0, None
    try:
        found = _decode(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ValidationError(MSG_TOKEN) from None
    if (
        not isinstance(found, dict)
        or found.get("d") != digest
        or type(found.get("p")) is not int
        or found["p"] < 0
        or not isinstance(found.get("k"), dict | None)
    ):
        raise ValidationError(MSG_TOKEN)
    return found["p"], found["k"]


def _batch_error(exc: TablesError) -> dict[str, Any]:
    for kind, code in _BATCH_CODES:
        if isinstance(exc, kind):
            return {"Code": code, "Message": exc.message}
    return {"Code": "InternalServerError", "Message": "Internal server error"}
