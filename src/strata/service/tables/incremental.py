"""Incremental exports (``ExportType`` INCREMENTAL_EXPORT): the items that changed in a
period, each once, with its state before and after, read from the change log.

The period is ``[ExportFromTime, ExportToTime)`` inside the PITR window, 15 minutes to
24 hours long, as AWS's. For every item changed in it, one line of DynamoDB JSON as AWS
writes them::

    {"Metadata":{"WriteTimestampMicros":{"N":"..."}},"Keys":{...},
     "OldImage":{...},"NewImage":{...}}

``OldImage`` is the item as it was when the period began (absent: it did not exist; only
with ``NEW_AND_OLD_IMAGES``), ``NewImage`` the item as it was when the period ended
(absent: it was deleted), ``WriteTimestampMicros`` the time of its last change in the
period. Both images come from PITR's old images (``recovery.items_at``'s rule): an
item's state at T is the old image of its first change at or after T, or the item as the
checkpoint holds it when it has not changed since.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from strata.service.tables import changelog, keycodec
from strata.service.tables.codec import body_of, decode_body
from strata.service.tables.errors import ValidationError
from strata.service.tables.items import key_bytes
from strata.service.tables.schema import Table
from strata.service.tables.values import item_size
from strata.storage import spaces
from strata.storage.clock import stamp_ms

PERIOD_MIN_S: Final = 15 * 60
PERIOD_MAX_S: Final = 24 * 3600
VIEW_TYPES: Final = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
MANIFEST_VERSION: Final = "2023-08-01"


class OutsideWindow(Exception):
    """A time of the period outside the PITR window (InvalidExportTimeException)."""


@dataclass(frozen=True, slots=True)
class Period:
    from_s: float
    to_s: float
    view: str


def period(req: dict[str, Any], earliest_s: float, now_s: float) -> Period:
    """The request's period, checked (ValidationError; OutsideWindow for the window)."""
    if req.get("ExportTime") is not None:
        raise ValidationError("ExportTime cannot be specified for an incremental export")
    spec = req.get("IncrementalExportSpecification")
    if not isinstance(spec, dict) or spec.get("ExportFromTime") is None:
        raise ValidationError(
            "IncrementalExportSpecification.ExportFromTime is required for an incremental export"
        )
    view = spec.get("ExportViewType") or "NEW_AND_OLD_IMAGES"
    if view not in VIEW_TYPES:
        raise ValidationError(
            f"1 validation error detected: Value '{view}' at "
            "'incrementalExportSpecification.exportViewType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [NEW_IMAGE, NEW_AND_OLD_IMAGES]"
        )
    from_s = _seconds(spec["ExportFromTime"])
    to_s = _seconds(spec["ExportToTime"]) if spec.get("ExportToTime") is not None else now_s
    if from_s >= to_s:
        raise ValidationError("ExportFromTime must be earlier than ExportToTime")
    if not PERIOD_MIN_S <= to_s - from_s <= PERIOD_MAX_S:
        raise ValidationError(
            "The incremental export period must be at least 15 minutes and at most 24 hours"
        )
    if from_s < math.floor(earliest_s) or to_s > now_s + 1.0:
        raise OutsideWindow()
    return Period(from_s, min(to_s, now_s), view)


def _seconds(value: Any) -> float:
    try:
        when = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Invalid timestamp: {value}") from None
    if not math.isfinite(when):
        raise ValidationError(f"Invalid timestamp: {value}")
    return when


@dataclass(slots=True)
class _Change:
    keys: bytes  # the item's key attributes, as JSON
    before: bytes | None  # its state when the period began (None: absent)
    last_stamp: int  # its last change in the period
    after: bytes | None = None  # its state when the period ended, once known
    after_known: bool = False


def lines(reader: changelog.Scanner, table: Table, chosen: Period) -> Iterator[tuple[bytes, int]]:
    """(line, billed bytes) for every item changed in the period, partition by partition."""
    table_id = table.record.table_id
    start = changelog.stamp_at(int(chosen.from_s * 1000))
    end = changelog.stamp_at(int(chosen.to_s * 1000))
    for partition in range(changelog.PARTITIONS):
        changed: dict[bytes, _Change] = {}
        for record in changelog.read(
            reader, table_id, partition, start - 1, changelog.STAMP_MAX + 1
        ):
            key = key_bytes(table, decode_body(record.keys))
            change = changed.get(key)
            if record.stamp < end:
                if change is None:
                    changed[key] = _Change(record.keys, record.old, record.stamp)
                else:
                    change.last_stamp = record.stamp
            elif change is not None and not change.after_known:
                change.after, change.after_known = record.old, True
        for key, change in changed.items():
            if not change.after_known:  # unchanged since the period: as the checkpoint has it
                change.after = _stored_body(reader, key)
            yield _line(change, chosen.view)


def _stored_body(reader: changelog.Scanner, key: bytes) -> bytes | None:
    for found, value in reader.scan(spaces.ITEMS, key, keycodec.after(key)):
        if found == key:
            return bytes(body_of(value))
    return None


def _line(change: _Change, view: str) -> tuple[bytes, int]:
    micros = stamp_ms(change.last_stamp) * 1000
    parts = [
        b'{"Metadata":{"WriteTimestampMicros":{"N":"%d"}},"Keys":' % micros,
        change.keys,
    ]
    if view == "NEW_AND_OLD_IMAGES" and change.before is not None:
        parts += [b',"OldImage":', change.before]
    if change.after is not None:
        parts += [b',"NewImage":', change.after]
    parts.append(b"}\n")
    shown = change.after if change.after is not None else change.before
    billed = item_size(decode_body(shown)) if shown is not None else 0
    return b"".join(parts), billed
