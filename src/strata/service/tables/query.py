"""Query and Scan: one range scan of the engine, paged as DynamoDB pages.

A Query turns its key condition into one key range (partition prefix plus the encoded
sort-key bounds, see ``keycodec``) and walks it forwards or backwards; it never reads
outside the partition. A Scan walks the table's (or index's) whole range, or one
parallel segment's slice of the hash space. Both stop at ``Limit`` items examined or at
1 MB read, whichever comes first, and then return ``LastEvaluatedKey``; the filter runs
after that, as in DynamoDB, so a page may hold fewer items than it examined.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from strata import limits
from strata.service.tables import capacity, exprs, keycodec
from strata.service.tables.codec import decode_item, raw_item
from strata.service.tables.errors import ValidationError
from strata.service.tables.expressions import KeyCondition, KeyTerm
from strata.service.tables.expressions.bind import MSG_KEY_TERMS
from strata.service.tables.indexes import entry_key
from strata.service.tables.items import MSG_KEY_SCHEMA, key_bytes
from strata.service.tables.schema import Index, KeyElement, Table
from strata.service.tables.tables import TableService
from strata.service.tables.values import (
    Item,
    compare_values,
    item_size,
    render_value,
    validate_item,
)
from strata.storage import keys, spaces
from strata.storage.store import Store

INVALID: Final = "One or more parameter values were invalid: "
SELECTS: Final = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
MSG_BAD_START: Final = "The provided starting key is invalid: "
MSG_START_SIZE: Final = "Exclusive Start Key must have same size as table's key schema"
MSG_START_OUTSIDE: Final = (
    "The provided starting key is outside query boundaries based on provided conditions"
)
MSG_START_NOT_IN_RANGE: Final = "The provided starting key does not match the range key predicate"


class QueryService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store: Store = tables.store

    # -- shared ----------------------------------------------------------------------------

    def _target(self, req: dict[str, Any]) -> tuple[Table, Index | None]:
        table = self.tables.get(req["TableName"])
        name = req.get("IndexName")
        if name is None:
            return table, None
        index = table.indexes.get(name)
        if index is None or not index.queryable:
            raise ValidationError(f"The table does not have the specified index: {name}")
        if index.is_global and req.get("ConsistentRead"):
            raise ValidationError("Consistent reads are not supported on global secondary indexes")
        return table, index

    def _select(self, req: dict[str, Any], index: Index | None, has_projection: bool) -> str:
        select = req.get("Select")
        if select is None:
            if has_projection:
                return "SPECIFIC_ATTRIBUTES"
            return "ALL_PROJECTED_ATTRIBUTES" if index is not None else "ALL_ATTRIBUTES"
        if select == "SPECIFIC_ATTRIBUTES":
            if not has_projection:
                raise ValidationError(
                    "Must specify the AttributesToGet or ProjectionExpression when choosing to "
                    "get SPECIFIC_ATTRIBUTES"
                )
            return str(select)
        if has_projection:
            what = (
                "ProjectionExpression"
                if req.get("ProjectionExpression") is not None
                else "AttributesToGet"
            )
            if select == "COUNT":
                raise ValidationError(
                    f"Cannot specify the {what} when choosing to get only the COUNT"
                )
            raise ValidationError(f"Cannot specify the {what} when choosing to get {select}")
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise ValidationError(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        if (
            select == "ALL_ATTRIBUTES"
            and index is not None
            and index.is_global
            and index.projected is not None
        ):
            raise ValidationError(
                f"{INVALID}Select type ALL_ATTRIBUTES is not supported for global secondary "
                f"index {index.name} because its projection type is not ALL"
            )
        return str(select)

    def _start_key(self, table: Table, index: Index | None, start: Any) -> bytes | None:
        """The engine key of ExclusiveStartKey (the page continues strictly after it)."""
        if start is None:
            return None
        try:
            start = validate_item(start)
        except ValidationError as exc:
            raise ValidationError(MSG_BAD_START + exc.message) from None
        wanted = set(table.key_names) | (set(index.key_names) if index else set())
        if len(start) != len(wanted):
            raise ValidationError(MSG_START_SIZE)
        if set(start) != wanted:
            raise ValidationError(MSG_BAD_START + MSG_KEY_SCHEMA)
        try:
            base = key_bytes(table, start, schema_message=True)
        except ValidationError as exc:
            raise ValidationError(MSG_BAD_START + exc.message) from None
        if index is None:
            return base
        for element, _ in index.elements:
            if element.kind not in start[element.name]:
                raise ValidationError(MSG_BAD_START + MSG_KEY_SCHEMA)
        key = entry_key(index, base, start)
        assert key is not None
        return key

    def _page(
        self,
        req: dict[str, Any],
        table: Table,
        index: Index | None,
        rows: Iterator[tuple[bytes, bytes]],
        compiled: exprs.Compiled,
        select: str,
    ) -> dict[str, Any]:
        limit = req.get("Limit")
        filter_ = compiled.filter
        projection = compiled.projection
        fetch_base = (
            index is not None
            and not index.is_global
            and index.projected is not None
            and (
                select == "ALL_ATTRIBUTES"
                or (projection is not None and not projection.attribute_names <= index.projected)
            )
        )
        rcc = req.get("ReturnConsumedCapacity")
        want_capacity = rcc is not None and rcc != "NONE"
        decode_all = filter_ is not None or projection is not None or fetch_base
        items: list[Any] = []
        scanned = 0
        count = 0
        read_bytes = 0
        size_total = 0
        last: Item | None = None
        stopped = False
        if not decode_all and not want_capacity:
            # The common page: stored items spliced into the answer as they are.
            append = None if select == "COUNT" else items.append
            stop_at = limit if limit is not None else float("inf")
            page_max = limits.page_bytes_max
            for _, value in rows:
                scanned += 1
                read_bytes += len(value)
                if append is not None:
                    append(raw_item(value))
                if scanned >= stop_at or read_bytes >= page_max:
                    last = decode_item(value)
                    stopped = True
                    break
            count = scanned
        else:
            for _, value in rows:
                scanned += 1
                read_bytes += len(value)
                item: Item | None = None
                if decode_all or want_capacity:
                    item = decode_item(value)
                    if want_capacity:
                        size_total += item_size(item)
                if fetch_base:
                    assert item is not None
                    base_raw = self.store.get(spaces.ITEMS, key_bytes(table, item))
                    if base_raw is not None:
                        item = decode_item(base_raw)
                if filter_ is None or filter_.evaluate(item):  # type: ignore[arg-type]
                    count += 1
                    if select != "COUNT":
                        if projection is not None:
                            assert item is not None
                            items.append(projection.apply(item))
                        elif item is not None and fetch_base:
                            items.append(item)
                        else:
                            items.append(raw_item(value))
                if (limit is not None and scanned >= limit) or read_bytes >= limits.page_bytes_max:
                    last = item if item is not None else decode_item(value)
                    stopped = True
                    break
        capacity.USAGE.read(table.name, read_bytes, bool(req.get("ConsistentRead")))
        out: dict[str, Any] = {}
        if select != "COUNT":
            out["Items"] = items
        out["Count"] = count
        out["ScannedCount"] = scanned
        if stopped and last is not None:
            names = table.key_names + (index.key_names if index else ())
            out["LastEvaluatedKey"] = {n: last[n] for n in dict.fromkeys(names) if n in last}
        if want_capacity:
            consumed = capacity.Consumed(table.name, read=True)
            units = capacity.read_units(size_total, bool(req.get("ConsistentRead")))
            if index is None:
                consumed.table = units
            else:
                consumed.add_index(index.name, index.is_global, units)
            out["ConsumedCapacity"] = consumed.document(rcc, split=False)
        return out

    # -- Query -----------------------------------------------------------------------------

    def query(self, req: dict[str, Any]) -> dict[str, Any]:
        table, index = self._target(req)
        if req.get("KeyConditionExpression") is None and req.get("KeyConditions") is None:
            raise ValidationError(
                "Either the KeyConditions or KeyConditionExpression parameter must be "
                "specified in the request."
            )
        compiled = exprs.compile_request(req, key=True, filter=True, projection=True)
        assert compiled.key is not None
        composite = index is not None and index.composite
        if len(compiled.key.terms) > 2 and not composite:
            raise ValidationError(MSG_KEY_TERMS)
        select = self._select(req, index, compiled.projection is not None)
        hash_el = index.hash if index else table.hash
        range_el = index.range if index else table.range
        if composite:
            assert index is not None
            partition, sort_prefix, range_el, term = _composite_partition(
                table, index, compiled.key
            )
        else:
            types = {hash_el.name: hash_el.kind}
            if range_el is not None:
                types[range_el.name] = range_el.kind
            hash_value, term = compiled.key.resolve(
                hash_el.name, range_el.name if range_el else None, types
            )
            hash_raw = hash_value[hash_el.kind]
            if hash_raw == "":
                _empty_key(hash_el)
            owner = index.prefix if index else table.prefix
            partition = keycodec.partition_prefix(owner, table.hasher, hash_el.kind, hash_raw)
            sort_prefix = partition
        start, end = _sort_range(sort_prefix, range_el, term)
        forward = req.get("ScanIndexForward", True)
        exclusive = self._start_key(table, index, req.get("ExclusiveStartKey"))
        if exclusive is not None:
            if not exclusive.startswith(partition):
                raise ValidationError(MSG_START_OUTSIDE)
            if not start <= exclusive < end:
                raise ValidationError(MSG_START_NOT_IN_RANGE)
            if forward:
                start = keycodec.after(exclusive)
            else:
                end = exclusive
        filter_ = compiled.filter
        if filter_ is not None:
            key_elements = (
                index.hash_elements + index.range_elements
                if composite and index is not None
                else (hash_el, range_el)
            )
            for element in key_elements:
                if element is not None and element.name in filter_.attribute_names:
                    what = (
                        "QueryFilter" if req.get("QueryFilter") is not None else "Filter Expression"
                    )
                    raise ValidationError(
                        f"{what} can only contain non-primary key attributes: Primary key "
                        f"attribute: {element.name}"
                    )
        space = spaces.INDEXES if index else spaces.ITEMS
        rows: Iterator[tuple[bytes, bytes]] = (
            iter(()) if start >= end else self.store.scan(space, start, end, reverse=not forward)
        )
        return self._page(req, table, index, rows, compiled, select)

    # -- Scan ------------------------------------------------------------------------------

    def scan(self, req: dict[str, Any]) -> dict[str, Any]:
        table, index = self._target(req)
        segment = req.get("Segment")
        total = req.get("TotalSegments")
        if segment is not None and total is None:
            raise ValidationError(
                "The TotalSegments parameter is required but was not present in the request "
                "when Segment parameter is present"
            )
        if total is not None and segment is None:
            raise ValidationError(
                "The Segment parameter is required but was not present in the request when "
                "parameter TotalSegments is present"
            )
        if segment is not None and total is not None and segment >= total:
            raise ValidationError(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
            )
        compiled = exprs.compile_request(req, filter=True, projection=True)
        select = self._select(req, index, compiled.projection is not None)
        owner = index.prefix if index else table.prefix
        if total is not None and total > 1:
            start, end_or_none = keycodec.segment_bounds(owner, int(segment or 0), total)
        else:
            start, end_or_none = owner, keys.prefix_end(owner)
        assert end_or_none is not None
        end = end_or_none
        exclusive = self._start_key(table, index, req.get("ExclusiveStartKey"))
        if exclusive is not None:
            start = max(start, keycodec.after(exclusive))
        space = spaces.INDEXES if index else spaces.ITEMS
        rows: Iterator[tuple[bytes, bytes]] = (
            iter(()) if start >= end else self.store.scan(space, start, end)
        )
        return self._page(req, table, index, rows, compiled, select)


def _empty_key(element: KeyElement) -> None:
    kind = "string" if element.kind == "S" else "binary"
    raise ValidationError(
        "One or more parameter values are not valid. The AttributeValue for a key "
        f"attribute cannot contain an empty {kind} value. Key: {element.name}"
    )


def _composite_partition(
    table: Table, index: Index, key: KeyCondition
) -> tuple[bytes, bytes, KeyElement | None, KeyTerm | None]:
    """A multi-attribute key's query: its partition, the prefix its sort equalities pin,
    the sort attribute of the last term and that term (see ``keycodec``)."""
    types = {element.name: element.kind for element, _ in index.elements}
    hash_values, equal_values, term = key.resolve_composite(
        tuple(e.name for e in index.hash_elements),
        tuple(e.name for e in index.range_elements),
        types,
    )
    hash_parts = []
    for element, value in zip(index.hash_elements, hash_values, strict=True):
        if value[element.kind] == "":
            _empty_key(element)
        hash_parts.append((element.kind, value[element.kind]))
    joined = keycodec.composite_value(hash_parts)
    partition = keycodec.composite_partition_prefix(index.prefix, table.hasher, joined)
    range_elements = index.range_elements
    pinned = [(e.kind, v[e.kind]) for e, v in zip(range_elements, equal_values, strict=False)]
    last = range_elements[len(equal_values)] if term is not None else None
    return partition, partition + keycodec.composite_value(pinned), last, term


def _sort_range(
    partition: bytes, range_el: KeyElement | None, term: KeyTerm | None
) -> tuple[bytes, bytes]:
    """The [start, end) engine range of one partition narrowed by the sort-key term.

    ``partition`` may also carry the leading sort attributes' equalities (a
    multi-attribute sort key): the term then narrows the range within that prefix.
    """
    end = keycodec.after_prefix(partition)
    if term is None or range_el is None:
        return partition, end
    kind = range_el.kind
    op = term.op
    if op == "BEGINS_WITH":
        raw = term.values[0][kind]
        if kind == "S":
            prefix = keys.encode_str(raw)[:-2]
        else:
            prefix = keys.encode_bytes(keycodec.value_bytes("B", raw))[:-2]
        low = partition + prefix
        return low, keycodec.after_prefix(low) if prefix else end
    first = partition + keycodec.encode_sort_value(kind, term.values[0][kind])
    if op == "EQ":
        return first, keycodec.after_prefix(first)
    if op == "LT":
        return partition, first
    if op == "LE":
        return partition, keycodec.after_prefix(first)
    if op == "GT":
        return keycodec.after_prefix(first), end
    if op == "GE":
        return first, end
    assert op == "BETWEEN"
    low_value, high_value = term.values
    order = compare_values(low_value, high_value)
    if order is not None and order > 0:
        raise ValidationError(
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: "
            f"{render_value(low_value)}, upper bound operand: AttributeValue: "
            f"{render_value(high_value)}"
        )
    second = partition + keycodec.encode_sort_value(kind, high_value[kind])
    return first, keycodec.after_prefix(second)
