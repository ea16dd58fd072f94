"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

``tokens`` (text -> tokens) and ``syntax`` (tokens -> ``tree``, cached by text) parse;
``planner`` turns a tree into the table service's own requests, with conditions in the
expression language; ``executor`` (``PartiqlService``) runs them through the item, query
and transaction services. ``statement_access`` tells the protocol layer which IAM action
(``dynamodb:PartiQLSelect`` ...) a statement needs on which table or index.
"""

from __future__ import annotations

from strata.service.tables.errors import ValidationError
from strata.service.tables.partiql.executor import PartiqlService
from strata.service.tables.partiql.syntax import parse_statement
from strata.service.tables.partiql.tree import Delete, Exists, Insert, Select, Update

__all__ = ["PartiqlService", "parse_statement", "statement_access"]

_ACTIONS = {Select: "PartiQLSelect", Exists: "PartiQLSelect", Insert: "PartiQLInsert"}


def statement_access(text: object) -> tuple[str, str, str | None] | None:
    """(IAM action, table, index) a statement needs; None when it does not parse (the
    service then answers its ValidationException)."""
    if not isinstance(text, str):
        return None
    try:
        statement = parse_statement(text).statement
    except ValidationError:
        return None
    target = statement.select.target if isinstance(statement, Exists) else statement.target
    if isinstance(statement, Update):
        action = "PartiQLUpdate"
    elif isinstance(statement, Delete):
        action = "PartiQLDelete"
    else:
        action = _ACTIONS[type(statement)]
    index = target.index if isinstance(statement, Select) else None
    return f"dynamodb:{action}", target.table, index
