"""DynamoDB Streams over the change log: ListStreams, DescribeStream, GetShardIterator,
GetRecords.

A stream is named by its table and label (``<table arn>/stream/<label>``): the table's
current one, or one disabled less than ``STREAM_RETENTION_S`` ago (``PastStream``), whose
shards are closed. Each stream has ``changelog.SHARDS_PER_STREAM`` shards, one per range of
the partition-key hash. A shard iterator is an opaque token naming the shard and the
sequence number after which reading resumes; it expires ``ITERATOR_TTL_S`` after it was
issued, as AWS's do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from strata.service.tables import changelog
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import Table, label_ms
from strata.service.tables.service_errors import ExpiredIterator, ResourceNotFound
from strata.service.tables.tables import STREAM_RETENTION_S, TableService

ITERATOR_TTL_S: Final = 15 * 60
RECORDS_MAX: Final = 1000
RESPONSE_BYTES_MAX: Final = 1024 * 1024
LIST_LIMIT_MAX: Final = 100
SHARD_ID_PREFIX: Final = "shardId-"
_ITERATOR_TYPES: Final = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


class _Iterator(msgspec.Struct, frozen=True, array_like=True):
    arn: str
    table_id: int
    stream: int
    shard: int
    after: int  # the next record returned has a sequence number above this
    issued_s: float


_encode_iterator = msgspec.msgpack.Encoder().encode
_decode_iterator = msgspec.msgpack.Decoder(_Iterator).decode


@dataclass(frozen=True, slots=True)
class _Stream:
    table: Table
    label: str
    view_type: str
    enabled: bool

    @property
    def arn(self) -> str:
        return f"{self.table.arn}/stream/{self.label}"

    @property
    def stream_id(self) -> int:
        return label_ms(self.label)


def shard_id(stream: int, shard: int) -> str:
    return f"{SHARD_ID_PREFIX}{stream:020d}-{shard:08x}"


def sequence_number(stamp: int) -> str:
    """A sequence number as AWS shows them: a decimal string, 21 digits (ordered as text)."""
    return f"{stamp:021d}"


class StreamService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store = tables.store

    # -- streams -------------------------------------------------------------------------

    def _streams(self, table: Table) -> list[_Stream]:
        now = self.store.clock.now_s()
        r = table.record
        found = [
            _Stream(table, p.label, p.view_type, False)
            for p in r.past_streams
            if now - p.disabled_s < STREAM_RETENTION_S
        ]
        if r.stream_enabled and r.stream_label and r.stream_view_type:
            found.append(_Stream(table, r.stream_label, r.stream_view_type, True))
        return found

    def _stream(self, arn: Any) -> _Stream:
        if not isinstance(arn, str) or "/stream/" not in arn:
            raise ValidationError(f"Invalid StreamArn: {arn}")
        table_arn, _, label = arn.rpartition("/stream/")
        table = self.tables.tables.get(table_arn.rpartition("table/")[2])
        if table is not None and table.arn == table_arn:
            for stream in self._streams(table):
                if stream.label == label:
                    return stream
        raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")

    def list_streams(self, req: dict[str, Any]) -> dict[str, Any]:
        limit = _limit(req.get("Limit"), LIST_LIMIT_MAX)
        name = req.get("TableName")
        if name is not None:
            table = self.tables.tables.get(name)
            if table is None:
                raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
            tables = [table]
        else:
            tables = list(self.tables.tables.values())
        streams = sorted((s for t in tables for s in self._streams(t)), key=lambda s: s.arn)
        start = req.get("ExclusiveStartStreamArn")
        if start is not None:
            streams = [s for s in streams if s.arn > start]
        out: dict[str, Any] = {
            "Streams": [
                {"StreamArn": s.arn, "TableName": s.table.name, "StreamLabel": s.label}
                for s in streams[:limit]
            ]
        }
        if len(streams) > limit:
            out["LastEvaluatedStreamArn"] = streams[limit - 1].arn
        return out

    def describe_stream(self, req: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(req.get("StreamArn"))
        limit = _limit(req.get("Limit"), LIST_LIMIT_MAX)
        start = req.get("ExclusiveStartShardId")
        stream_id = stream.stream_id
        table_id = stream.table.record.table_id
        shards: list[dict[str, Any]] = []
        first_stamp = stream_id << 16  # the stream's creation, as an HLC stamp
        ids = [shard_id(stream_id, n) for n in range(changelog.SHARDS_PER_STREAM)]
        for n, sid in enumerate(ids):
            if start is not None and sid <= start:
                continue
            bounds = changelog.shard_bounds(self.store, table_id, stream_id, n)
            numbers: dict[str, str] = {
                "StartingSequenceNumber": sequence_number(bounds[0] if bounds else first_stamp)
            }
            if not stream.enabled:
                numbers["EndingSequenceNumber"] = sequence_number(
                    bounds[1] if bounds else first_stamp
                )
            shards.append({"ShardId": sid, "SequenceNumberRange": numbers})
        table = stream.table
        key_schema = [{"AttributeName": table.hash.name, "KeyType": "HASH"}]
        if table.range is not None:
            key_schema.append({"AttributeName": table.range.name, "KeyType": "RANGE"})
        doc: dict[str, Any] = {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
            "StreamViewType": stream.view_type,
            "CreationRequestDateTime": stream_id / 1000,
            "TableName": table.name,
            "KeySchema": key_schema,
            "Shards": shards[:limit],
        }
        if len(shards) > limit:
            doc["LastEvaluatedShardId"] = shards[limit - 1]["ShardId"]
        return {"StreamDescription": doc}

    # -- reading -------------------------------------------------------------------------

    def get_shard_iterator(self, req: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(req.get("StreamArn"))
        kind = req.get("ShardIteratorType")
        if kind not in _ITERATOR_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        wanted = req.get("ShardId")
        shard = next(
            (
                n
                for n in range(changelog.SHARDS_PER_STREAM)
                if shard_id(stream.stream_id, n) == wanted
            ),
            None,
        )
        if shard is None:
            raise ResourceNotFound(
                f"Requested resource not found: Shard does not exist: {wanted} in {stream.arn}"
            )
        number = req.get("SequenceNumber")
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if number is None:
                raise ValidationError(
                    "Must specify SequenceNumber when ShardIteratorType is "
                    "AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER"
                )
            if not isinstance(number, str) or not number.isdigit() or len(number) > 40:
                raise ValidationError(f"Invalid SequenceNumber: {number}")
            value = int(number)
            after = value - 1 if kind == "AT_SEQUENCE_NUMBER" else value
            after = max(0, min(after, 2**64 - 1))
        else:
            if number is not None:
                raise ValidationError(
                    "Cannot specify SequenceNumber when ShardIteratorType is TRIM_HORIZON or LATEST"
                )
            after = 0 if kind == "TRIM_HORIZON" else self.store.hlc.now()
        token = _Iterator(
            stream.arn,
            stream.table.record.table_id,
            stream.stream_id,
            shard,
            after,
            self.store.clock.now_s(),
        )
        return {"ShardIterator": _encode_token(token)}

    def get_records(self, req: dict[str, Any]) -> dict[str, Any]:
        token = _decode_token(req.get("ShardIterator"))
        limit = _limit(req.get("Limit"), RECORDS_MAX)
        now = self.store.clock.now_s()
        if now - token.issued_s > ITERATOR_TTL_S:
            raise ExpiredIterator(
                "Iterator expired. The iterator was created at time "
                f"{_java_date(token.issued_s)} while right now it is {_java_date(now)} which is "
                "further in the future than the tolerated delay of 900000 milliseconds."
            )
        stream = self._stream(token.arn)
        if stream.table.record.table_id != token.table_id:
            raise ResourceNotFound(f"Requested resource not found: Stream: {token.arn} not found")
        region = self.tables.region
        view = stream.view_type
        out: list[dict[str, Any]] = []
        size = 0
        after = token.after
        for record in changelog.read_shard(
            self.store, token.table_id, token.stream, token.shard, after
        ):
            doc, record_bytes = _record_doc(record, view, region, token)
            if out and size + record_bytes > RESPONSE_BYTES_MAX:
                break
            out.append(doc)
            size += record_bytes
            after = record.stamp
            if len(out) >= limit:
                break
        result: dict[str, Any] = {"Records": out}
        drained = not out or after == token.after
        if stream.enabled or not drained:
            result["NextShardIterator"] = _encode_token(
                _Iterator(token.arn, token.table_id, token.stream, token.shard, after, now)
            )
        return result


def _record_doc(
    record: changelog.ChangeRecord, view: str, region: str, token: _Iterator
) -> tuple[dict[str, Any], int]:
    size = len(record.keys)
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": (record.stamp >> 16) // 1000,
        "Keys": msgspec.Raw(record.keys),
    }
    if record.new is not None:
        data["NewImage"] = msgspec.Raw(record.new)
        size += len(record.new)
    if record.old is not None:
        data["OldImage"] = msgspec.Raw(record.old)
        size += len(record.old)
    data["SequenceNumber"] = sequence_number(record.stamp)
    data["SizeBytes"] = size
    data["StreamViewType"] = view
    event_id = hashlib.md5(
        f"{token.table_id}/{token.stream}/{token.shard}/{record.stamp}".encode(),
        usedforsecurity=False,
    ).hexdigest()
    doc: dict[str, Any] = {
        "eventID": event_id,
        "eventName": changelog.EVENT_NAMES[record.event],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": data,
    }
    if record.expired:
        doc["userIdentity"] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    return doc, size


def _limit(value: Any, highest: int) -> int:
    if value is None:
        return highest
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1"
        )
    if value > highest:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {highest}"
        )
    return value


def _encode_token(token: _Iterator) -> str:
    return base64.urlsafe_b64encode(_encode_iterator(token)).decode("ascii")


def _decode_token(value: Any) -> _Iterator:
    if not isinstance(value, str) or not value:
        raise ValidationError("Invalid ShardIterator")
    try:
        return _decode_iterator(base64.urlsafe_b64decode(value.encode("ascii")))
    except (binascii.Error, msgspec.DecodeError, UnicodeEncodeError, ValueError):
        raise ValidationError("Invalid ShardIterator") from None


def _java_date(epoch_s: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_s))
