"""PartiQL SELECT -> the table service's reads: a Query per partition value, or a Scan.

A WHERE with an equality (or IN, or OR of equalities) on the partition key (on every
attribute of a multi-attribute one) reads those partitions, its sort-key terms (a
left-to-right prefix of equalities, then one comparison) narrowing each; anything else
scans, the rest of the WHERE evaluated on each item read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from strata.service.tables.errors import ValidationError
from strata.service.tables.partiql.planner import (
    _FLIPPED,
    Expressions,
    _key_equality,
    _top_name,
    conjuncts,
    is_value,
    join_and,
    split_key,
    value_of,
)
from strata.service.tables.partiql.tree import Between, Call, Compare, In, Node, Or, Param, Path
from strata.service.tables.schema import Table
from strata.service.tables.values import AttributeValue


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """How a SELECT reads: one Query per partition value, or a Scan (``partitions`` None).

    ``queries`` are the Query requests' key-condition members, one per partition value;
    ``scan`` the Scan's members. ``residual`` is the rest of the WHERE, evaluated on each
    item read (as a FilterExpression would be: after Limit counted the item).
    """

    table: str
    index: str | None
    queries: tuple[dict[str, Any], ...] | None
    residual: Node | None
    full_key: bool  # one partition, and the sort key (if any) by equality: a GetItem


def plan_select(
    table: Table,
    index_name: str | None,
    where: Node | None,
    params: list[AttributeValue],
    order_by: tuple[tuple[Path, bool], ...],
) -> ReadPlan:
    if index_name is not None:
        index = table.indexes.get(index_name)
        if index is None or not index.queryable:
            raise ValidationError(f"The table does not have the specified index: {index_name}")
        hash_names = tuple(e.name for e in index.hash_elements)
        range_names = tuple(e.name for e in index.range_elements)
    else:
        hash_names = (table.hash.name,)
        range_names = (table.range.name,) if table.range else ()
    terms = conjuncts(where)
    # One list of (attribute, value) per partition: IN/OR on a one-attribute partition key
    # gives several; a multi-attribute one needs an equality on each attribute.
    partitions: list[list[tuple[str, AttributeValue]]] | None = None
    rest: list[Node] = []
    if len(hash_names) == 1:
        for term in terms:
            found = (
                None if partitions is not None else _partition_values(term, hash_names[0], params)
            )
            if found is None:
                rest.append(term)
            else:
                partitions = [[(hash_names[0], value)] for value in found]
    else:
        pinned, rest = split_key(where, hash_names, params)
        if len(pinned) == len(hash_names):
            partitions = [[(name, pinned[name]) for name in hash_names]]
        else:
            rest = terms
    if partitions is None:
        if order_by:
            raise ValidationError(MSG_ORDER_SCAN if where is not None else MSG_ORDER_WHERE)
        return ReadPlan(table.name, index_name, None, join_and(rest), False)
    sort_terms = _sort_terms(rest, range_names)
    forward = True
    for key, descending in order_by:
        name = _top_name(key)
        if name not in hash_names + range_names:
            raise ValidationError(MSG_ORDER_KEY)
        if name in range_names:
            forward = not descending
    queries = []
    for partition in partitions:
        builder = Expressions(params)
        text = " AND ".join(f"{builder.name(n)} = {builder.value(v)}" for n, v in partition)
        for sort_term in sort_terms:
            text += " AND " + builder.condition(sort_term)
        query: dict[str, Any] = {"KeyConditionExpression": text, **builder.members()}
        if not forward:
            query["ScanIndexForward"] = False
        queries.append(query)
    exact = (
        index_name is None
        and len(partitions) == 1
        and (
            not range_names
            or (
                len(sort_terms) == 1
                and isinstance(sort_terms[0], Compare)
                and sort_terms[0].op == "="
            )
        )
    )
    return ReadPlan(table.name, index_name, tuple(queries), join_and(rest), exact)


MSG_ORDER_WHERE: Final = "Must have WHERE clause in the statement when using ORDER BY clause."
MSG_ORDER_SCAN: Final = (
    "ORDER BY requires an equality or IN condition on the partition key in the WHERE clause"
)
MSG_ORDER_KEY: Final = "ORDER BY is supported only on the key attributes of the table or index"


def _partition_values(
    term: Node, hash_name: str, params: list[AttributeValue]
) -> list[AttributeValue] | None:
    """The partition values a WHERE term pins: ``h = v``, ``h IN [...]``, ``h = a OR h = b``."""
    equality = _key_equality(term, (hash_name,))
    if equality is not None:
        return [value_of(equality[1], params)]
    if isinstance(term, In) and _top_name(term.operand) == hash_name:
        options = term.options
        if len(options) == 1 and isinstance(options[0], Param):
            listed = params[options[0].index].get("L")
            if isinstance(listed, list):
                return _distinct(listed)
        if all(is_value(option) for option in options):
            return _distinct([value_of(option, params) for option in options])
        return None
    if isinstance(term, Or):
        values: list[AttributeValue] = []
        pending: list[Node] = [term]
        while pending:
            current = pending.pop()
            if isinstance(current, Or):
                pending += [current.right, current.left]
                continue
            found = _key_equality(current, (hash_name,))
            if found is None:
                return None
            values.append(value_of(found[1], params))
        return _distinct(values)
    return None


def _distinct(values: list[AttributeValue]) -> list[AttributeValue]:
    seen: list[AttributeValue] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _sort_terms(rest: list[Node], range_names: tuple[str, ...]) -> list[Node]:
    """The WHERE terms (taken out of ``rest``) a key condition can hold on the sort key:
    left to right, an equality on each attribute until one has another condition (or none).
    """
    chosen: list[Node] = []
    for name in range_names:
        term = next((t for t in rest if _key_equality(t, (name,)) is not None), None)
        if term is None:
            term = next((t for t in rest if _sort_condition(t, name)), None)
        if term is None:
            break
        rest.remove(term)
        if isinstance(term, Compare) and _top_name(term.right) == name:
            term = Compare(_FLIPPED[term.op], term.right, term.left)
        chosen.append(term)
        if not (isinstance(term, Compare) and term.op == "="):
            break
    return chosen


def _sort_condition(term: Node, range_name: str) -> bool:
    """A term a KeyConditionExpression can hold for the sort key."""
    if isinstance(term, Compare) and term.op != "<>":
        return (_top_name(term.left) == range_name and is_value(term.right)) or (
            _top_name(term.right) == range_name and is_value(term.left)
        )
    if isinstance(term, Between):
        return _top_name(term.operand) == range_name and is_value(term.low) and is_value(term.high)
    if isinstance(term, Call) and term.name == "begins_with" and len(term.args) == 2:
        return _top_name(term.args[0]) == range_name and is_value(term.args[1])
    return False


def pins_partition(table: Table, index_name: str | None, where: Node | None) -> bool:
    """Whether a SELECT's WHERE names partition values (a Query) rather than scanning.

    ``dynamodb:FullTableScan`` in IAM conditions is this answer's negation.
    """
    index = table.indexes.get(index_name) if index_name is not None else None
    if index is not None and len(index.hash_elements) > 1:
        names = tuple(e.name for e in index.hash_elements)
        found = {eq[0] for t in conjuncts(where) if (eq := _key_equality(t, names)) is not None}
        return len(found) == len(names)
    hash_name = index.hash.name if index is not None else table.hash.name
    return any(_pins(term, hash_name) for term in conjuncts(where))


def _pins(term: Node, hash_name: str) -> bool:
    if _key_equality(term, (hash_name,)) is not None:
        return True
    if isinstance(term, In) and _top_name(term.operand) == hash_name:
        return all(is_value(option) for option in term.options)
    if isinstance(term, Or):
        return _pins(term.left, hash_name) and _pins(term.right, hash_name)
    return False
