"""DynamoDB Streams over the change log: ListStreams, DescribeStream, GetShardIterator,
GetRecords.

A stream is named by its table and label (``<table arn>/stream/<label>``): the table's
current one, or one disabled less than ``STREAM_RETENTION_S`` ago (``PastStream``). It is
a window of stamps over the table's change log, from its label (when it was enabled) to
when it was disabled. Its shards are the log's partitions, one generation
(``changelog.GENERATION_S`` of store-clock time) at a time: a shard closes when its
generation ends (it then has an EndingSequenceNumber) and its child, the same partition
in the next generation (ParentShardId), opens. Shards whose generation ended more than
24 hours ago are gone, with their records, as AWS's are.

A shard iterator is an opaque token naming the shard and the sequence number after which
reading resumes; it expires ``ITERATOR_TTL_S`` after it was issued, as AWS's do. Reading
from a position the trim has passed (``changelog.trimmed_to``) is TrimmedDataAccess.
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
from strata.service.tables.changelog import Shard, stamp_at
from strata.service.tables.errors import ValidationError
from strata.service.tables.schema import Table, label_ms
from strata.service.tables.service_errors import (
    ExpiredIterator,
    ResourceNotFound,
    TrimmedDataAccess,
)
from strata.service.tables.tables import STREAM_RETENTION_S, TableService

ITERATOR_TTL_S: Final = 15 * 60
RECORDS_MAX: Final = 1000
RESPONSE_BYTES_MAX: Final = 1024 * 1024
LIST_LIMIT_MAX: Final = 100
SHARD_ID_PREFIX: Final = "shardId-"
_ITERATOR_TYPES: Final = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
_NEW_VIEWS: Final = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
_OLD_VIEWS: Final = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")


class _Iterator(msgspec.Struct, frozen=True, array_like=True):
    arn: str
    table_id: int
    partition: int
    generation: int
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
    end: int  # the first stamp after its window (disabled), or past every stamp

    @property
    def arn(self) -> str:
        return f"{self.table.arn}/stream/{self.label}"

    @property
    def start(self) -> int:
        """The first stamp of its window: when it was enabled."""
        return stamp_at(label_ms(self.label))

    def shard(self, partition: int, generation: int) -> Shard | None:
        start = max(self.start, changelog.generation_start(generation))
        end = min(self.end, changelog.generation_start(generation + 1))
        if start >= end or not 0 <= partition < changelog.PARTITIONS:
            return None
        return Shard(partition, generation, start, end)


def shard_id(shard: Shard) -> str:
    """``shardId-<first ms, 20 digits>-<partition, 8 hex>``: unique within a stream, and
    names its partition and generation."""
    return f"{SHARD_ID_PREFIX}{shard.start >> 16:020d}-{shard.partition:08x}"


def _parse_shard_id(value: Any) -> tuple[int, int] | None:
    """(partition, generation) named by a shard id, or None."""
    if not isinstance(value, str) or not value.startswith(SHARD_ID_PREFIX):
        return None
    ms_text, _, partition_text = value[len(SHARD_ID_PREFIX) :].partition("-")
    if len(ms_text) != 20 or not ms_text.isdigit() or len(partition_text) != 8:
        return None
    try:
        partition = int(partition_text, 16)
    except ValueError:
        return None
    return partition, changelog.generation_of(stamp_at(int(ms_text)))


def sequence_number(stamp: int) -> str:
    """A sequence number as AWS shows them: a decimal string, 21 digits (ordered as text)."""
    return f"{stamp:021d}"


class StreamService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables
        self.store = tables.store

    def _now_stamp(self) -> int:
        return stamp_at(int(self.store.clock.now_s() * 1000))

    def _horizon(self) -> int:
        """Shards that ended before this stamp are gone (24 hours ago)."""
        return stamp_at(int((self.store.clock.now_s() - STREAM_RETENTION_S) * 1000))

    # -- streams -------------------------------------------------------------------------

    def _streams(self, table: Table) -> list[_Stream]:
        now = self.store.clock.now_s()
        r = table.record
        found = [
            _Stream(table, p.label, p.view_type, False, stamp_at(int(p.disabled_s * 1000)))
            for p in r.past_streams
            if now - p.disabled_s < STREAM_RETENTION_S
        ]
        if r.stream_enabled and r.stream_label and r.stream_view_type:
            found.append(
                _Stream(table, r.stream_label, r.stream_view_type, True, changelog.STAMP_MAX + 1)
            )
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
        table_id = stream.table.record.table_id
        now = self._now_stamp()
        listed = changelog.shards(stream.start, stream.end, self._horizon(), now)
        if start is not None:
            ids = [shard_id(s) for s in listed]
            listed = listed[ids.index(start) + 1 :] if start in ids else []
        shards: list[dict[str, Any]] = []
        for shard in listed[: limit + 1]:
            numbers = {"StartingSequenceNumber": sequence_number(shard.start)}
            if shard.end <= now:  # its generation (or the stream) ended: closed
                found = changelog.bounds(
                    self.store, table_id, shard.partition, shard.start, shard.end
                )
                numbers["EndingSequenceNumber"] = sequence_number(
                    found[1] if found else shard.start
                )
            doc: dict[str, Any] = {"ShardId": shard_id(shard), "SequenceNumberRange": numbers}
            parent = stream.shard(shard.partition, shard.generation - 1)
            if parent is not None:
                doc["ParentShardId"] = shard_id(parent)
            shards.append(doc)
        table = stream.table
        key_schema = [{"AttributeName": table.hash.name, "KeyType": "HASH"}]
        if table.range is not None:
            key_schema.append({"AttributeName": table.range.name, "KeyType": "RANGE"})
        description: dict[str, Any] = {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
            "StreamViewType": stream.view_type,
            "CreationRequestDateTime": label_ms(stream.label) / 1000,
            "TableName": table.name,
            "KeySchema": key_schema,
            "Shards": shards[:limit],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = shards[limit - 1]["ShardId"]
        return {"StreamDescription": description}

    # -- reading -------------------------------------------------------------------------

    def _live_shard(self, stream: _Stream, partition: int, generation: int) -> Shard | None:
        """The stream's shard, unless it is gone (ended more than 24 hours ago)."""
        shard = stream.shard(partition, generation)
        if shard is None or shard.end <= self._horizon():
            return None
        return shard

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
        named = _parse_shard_id(wanted)
        shard = self._live_shard(stream, *named) if named is not None else None
        if shard is None or shard_id(shard) != wanted:
            raise ResourceNotFound(
                f"Requested resource not found: Shard does not exist: {wanted} in {stream.arn}"
            )
        table_id = stream.table.record.table_id
        trimmed = changelog.trimmed_to(self.store, table_id, shard.partition)
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
            if after < trimmed:
                raise TrimmedDataAccess()
            after = max(shard.start - 1, min(after, shard.end - 1))
        else:
            if number is not None:
                raise ValidationError(
                    "Cannot specify SequenceNumber when ShardIteratorType is TRIM_HORIZON or LATEST"
                )
            if kind == "TRIM_HORIZON":
                after = max(shard.start - 1, trimmed)
            else:
                after = min(max(self.store.hlc.now(), shard.start - 1), shard.end - 1)
        token = _Iterator(
            stream.arn,
            table_id,
            shard.partition,
            shard.generation,
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
        shard = self._live_shard(stream, token.partition, token.generation)
        if shard is None:
            raise TrimmedDataAccess()
        if token.after < changelog.trimmed_to(self.store, token.table_id, shard.partition):
            raise TrimmedDataAccess()  # a record it would have returned was trimmed
        closed = shard.end <= self._now_stamp()
        region = self.tables.region
        view = stream.view_type
        out: list[dict[str, Any]] = []
        size = 0
        after = token.after
        more = False
        for record in changelog.read(self.store, token.table_id, shard.partition, after, shard.end):
            doc, record_bytes = _record_doc(record, view, region, token)
            if len(out) >= limit or (out and size + record_bytes > RESPONSE_BYTES_MAX):
                more = True
                break
            out.append(doc)
            size += record_bytes
            after = record.stamp
        result: dict[str, Any] = {"Records": out}
        if not closed or more:  # a closed, drained shard has no next iterator
            result["NextShardIterator"] = _encode_token(
                _Iterator(token.arn, token.table_id, shard.partition, shard.generation, after, now)
            )
        return result


def _record_doc(
    record: changelog.ChangeRecord, view: str, region: str, token: _Iterator
) -> tuple[dict[str, Any], int]:
    """A record as the stream's view type shows it (the log may hold more: PITR)."""
    size = len(record.keys)
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": (record.stamp >> 16) // 1000,
        "Keys": msgspec.Raw(record.keys),
    }
    if record.new is not None and view in _NEW_VIEWS:
        data["NewImage"] = msgspec.Raw(record.new)
        size += len(record.new)
    if record.old is not None and view in _OLD_VIEWS:
        data["OldImage"] = msgspec.Raw(record.old)
        size += len(record.old)
    data["SequenceNumber"] = sequence_number(record.stamp)
    data["SizeBytes"] = size
    data["StreamViewType"] = view
    event_id = hashlib.md5(
        f"{token.table_id}/{token.partition}/{record.stamp}".encode(),
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


def iterator_stream_arn(value: Any) -> str:
    """The stream a shard iterator reads (what GetRecords is authorized on); raises
    ValidationError "Invalid ShardIterator" as GetRecords would."""
    return _decode_token(value).arn
