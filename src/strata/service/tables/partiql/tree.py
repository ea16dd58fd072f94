"""PartiQL syntax trees: what ``syntax.parse_statement`` builds from a statement's text.

Values keep parameters as ``Param(i)`` placeholders, so a tree depends on the text alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

PathPart: TypeAlias = str | int


@dataclass(frozen=True, slots=True)
class Path:
    parts: tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class Literal:
    value: dict[str, object]  # a scalar attribute value: S, N, BOOL or NULL


@dataclass(frozen=True, slots=True)
class Param:
    index: int  # position of the ``?`` in the statement, from 0


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class TupleValue:
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class BagValue:
    """``<< ... >>``: a DynamoDB set."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    op: str  # + or -
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between:
    operand: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In:
    operand: Node
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IsType:
    operand: Node
    type_name: str  # MISSING or NULL
    negated: bool


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


Node: TypeAlias = (
    Path
    | Literal
    | Param
    | ListValue
    | TupleValue
    | BagValue
    | Call
    | Arithmetic
    | Compare
    | Between
    | In
    | IsType
    | Not
    | And
    | Or
)


@dataclass(frozen=True, slots=True)
class Target:
    table: str
    index: str | None = None


@dataclass(frozen=True, slots=True)
class Select:
    target: Target
    projection: tuple[Path, ...] | None  # None: *
    where: Node | None
    order_by: tuple[tuple[Path, bool], ...]  # (key, descending)


@dataclass(frozen=True, slots=True)
class Insert:
    target: Target
    item: Node


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: Node


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class Update:
    target: Target
    actions: tuple[SetAction | RemoveAction, ...]
    where: Node | None
    returning: str | None  # "ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW"


@dataclass(frozen=True, slots=True)
class Delete:
    target: Target
    where: Node | None
    returning: str | None


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS(SELECT ...)``: a transaction's condition check."""

    select: Select


Statement: TypeAlias = Select | Insert | Update | Delete | Exists


@dataclass(frozen=True, slots=True)
class Parsed:
    statement: Statement
    params_count: int
