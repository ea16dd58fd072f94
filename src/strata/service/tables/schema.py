"""Table metadata: the stored record (``TableRecord``) and its compiled, cached form (``Table``).

A ``TableRecord`` lives in the TABLES space under the table name. The service keeps one
``Table`` per record in memory: key attributes resolved, indexes compiled and the
DescribeTable document built once, so the hot path never re-parses metadata. Any change
writes a new record and replaces the cached ``Table``.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from strata.service.tables.keycodec import KEY_HASH_LEGACY, Hasher, hasher_for
from strata.storage import keys


class KeyElement(msgspec.Struct, frozen=True):
    name: str
    kind: str  # "S", "N" or "B"


class IndexRecord(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    index_id: int
    is_global: bool
    hash: KeyElement
    range: KeyElement | None = None
    projection_type: str = "ALL"  # ALL, KEYS_ONLY, INCLUDE
    non_key: tuple[str, ...] = ()
    status: str = "ACTIVE"  # CREATING, ACTIVE, DELETING
    backfilling: bool = False
    read_units: int = 0
    write_units: int = 0
    created_s: float = 0.0
    # A GSI's multi-attribute key: every partition-key (HASH) and sort-key (RANGE)
    # attribute in KeySchema order, set only when either has more than one (``hash`` and
    # ``range`` are then the first of each). Empty: a one-attribute key, as before.
    hash_keys: tuple[KeyElement, ...] = ()
    range_keys: tuple[KeyElement, ...] = ()

    @property
    def hash_elements(self) -> tuple[KeyElement, ...]:
        return self.hash_keys or (self.hash,)

    @property
    def range_elements(self) -> tuple[KeyElement, ...]:
        if self.range_keys:
            return self.range_keys
        return (self.range,) if self.range is not None else ()


class PastStream(msgspec.Struct, frozen=True):
    """A stream that was disabled: still readable for ``STREAM_RETENTION_S`` after."""

    label: str
    view_type: str
    disabled_s: float


class TableRecord(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    table_id: int
    created_s: float
    hash: KeyElement
    range: KeyElement | None = None
    attributes: tuple[KeyElement, ...] = ()  # AttributeDefinitions, in request order
    billing_mode: str = "PROVISIONED"
    read_units: int = 0
    write_units: int = 0
    billing_changed_s: float = 0.0
    indexes: tuple[IndexRecord, ...] = ()
    stream_enabled: bool = False
    stream_view_type: str | None = None
    stream_label: str | None = None
    past_streams: tuple[PastStream, ...] = ()
    # Point-in-time recovery: on since ``pitr_since_s`` (store clock), a window of days.
    pitr_enabled: bool = False
    pitr_since_s: float = 0.0
    pitr_days: int = 35
    sse: dict[str, Any] | None = None
    # KMS encryption of item values (service/tables/encryption.py): the data key's id and
    # the key wrapped by the table's KMS key; empty: values stored plain.
    sse_key_id: bytes = b""
    sse_wrapped_key: bytes = b""
    table_class: str = "STANDARD"
    deletion_protection: bool = False
    tags: dict[str, str] = {}
    ttl_attribute: str | None = None
    ttl_enabled: bool = False
    status: str = "ACTIVE"
    read_decreases: int = 0
    last_decrease_s: float = 0.0
    last_increase_s: float = 0.0
    # The partition hash in this table's keys (``keycodec``): AWS's for tables created
    # since it was adopted; records written before then have none and keep CRC-32.
    key_hash: str = KEY_HASH_LEGACY
    restore: dict[str, Any] | None = None  # a restored table's RestoreSummary (DescribeTable)


@dataclass(slots=True)
class Index:
    record: IndexRecord
    name: str
    is_global: bool
    hash: KeyElement
    range: KeyElement | None
    prefix: bytes  # escaped index id: every entry key starts with it
    hasher: Hasher  # the table's partition hash
    key_names: tuple[str, ...]  # index keys then table keys, without duplicates
    projected: frozenset[str] | None  # None: ALL attributes
    # Every key attribute with whether it is a partition (HASH) attribute, in KeySchema
    # order; ``composite``: a multi-attribute key (``indexes.entry_key``'s other path).
    elements: tuple[tuple[KeyElement, bool], ...] = ()
    composite: bool = False
    hash_elements: tuple[KeyElement, ...] = ()
    range_elements: tuple[KeyElement, ...] = ()

    @property
    def queryable(self) -> bool:
        return self.record.status == "ACTIVE" or (
            self.record.status == "CREATING" and not self.record.backfilling
        )


@dataclass(slots=True)
class Table:
    record: TableRecord
    name: str
    hash: KeyElement
    range: KeyElement | None
    prefix: bytes  # escaped table id: every item key starts with it
    hasher: Hasher  # partition hash (``TableRecord.key_hash``)
    key_names: tuple[str, ...]
    indexes: dict[str, Index]
    arn: str
    description: dict[str, Any] = field(default_factory=dict)
    stream_view: str | None = None  # the enabled stream's view type; None: no stream

    @property
    def writable_indexes(self) -> list[Index]:
        return [i for i in self.indexes.values() if i.record.status != "DELETING"]


def id_prefix(owner_id: int) -> bytes:
    """The escaped 8-byte id every key of a table (or index) begins with."""
    return keys.encode_bytes(owner_id.to_bytes(8, "big"))[:-2]


def compile_table(record: TableRecord, arn: str) -> Table:
    key_names = (record.hash.name,) + ((record.range.name,) if record.range else ())
    hasher = hasher_for(record.key_hash)
    indexes: dict[str, Index] = {}
    for ir in record.indexes:
        hash_elements, range_elements = ir.hash_elements, ir.range_elements
        names = [e.name for e in hash_elements + range_elements]
        for name in key_names:
            if name not in names:
                names.append(name)
        if ir.projection_type == "ALL":
            projected: frozenset[str] | None = None
        else:
            projected = frozenset(names) | frozenset(ir.non_key)
        indexes[ir.name] = Index(
            record=ir,
            name=ir.name,
            is_global=ir.is_global,
            hash=ir.hash,
            range=ir.range,
            prefix=id_prefix(ir.index_id),
            hasher=hasher,
            key_names=tuple(names),
            projected=projected,
            elements=tuple((e, True) for e in hash_elements)
            + tuple((e, False) for e in range_elements),
            composite=bool(ir.hash_keys or ir.range_keys),
            hash_elements=hash_elements,
            range_elements=range_elements,
        )
    return Table(
        record=record,
        name=record.name,
        hash=record.hash,
        range=record.range,
        prefix=id_prefix(record.table_id),
        hasher=hasher,
        key_names=key_names,
        indexes=indexes,
        arn=arn,
        stream_view=record.stream_view_type if record.stream_enabled else None,
    )


def label_ms(label: str) -> int:
    """A stream's id: its creation time in ms, read off its label (``%Y-%m-%dT%H:%M:%S.mmm``)."""
    seconds = calendar.timegm(time.strptime(label[:19], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1000 + int(label[20:23])
