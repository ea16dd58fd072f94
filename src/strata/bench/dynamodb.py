"""DynamoDB workloads: single operations and YCSB A-F, over the JSON protocol.

Record n lives at pk = "p<n // 100>", sk = "<n % 100>" (zero-padded): every partition holds
100 items, so Query has a realistic partition to page through and YCSB's "scan" (E) maps
to a Query from a sort key onwards. Items carry ten string fields, as YCSB's default
record does (1 KiB by default).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import string
import time
from dataclasses import dataclass
from typing import Any

import msgspec

from strata.bench.http import Client, Response
from strata.bench.runner import OpError
from strata.bench.s3 import Endpoint
from strata.bench.sigv4 import Signer
from strata.bench.units import format_size
from strata.bench.zipf import AcknowledgedCounter, ScrambledZipfian, Uniform, Zipfian, zeta

DYNAMODB_OPS = ("putitem", "getitem", "updateitem", "query", "batchwrite")
YCSB_WORKLOADS = ("a", "b", "c", "d", "e", "f")
ITEMS_PER_PARTITION = 100
FIELDS = 10
BATCH_ITEMS_MAX = 25
_INSERT_ID_STRIDE = 10**9  # inserted ids: records + process * stride + k, disjoint per process
_CONTENT_TYPE = "application/x-amz-json-1.0"

# YCSB core workloads: (read, update, insert, scan, read-modify-write) shares in percent.
YCSB_MIX: dict[str, tuple[int, int, int, int, int]] = {
    "a": (50, 50, 0, 0, 0),  # update heavy
    "b": (95, 5, 0, 0, 0),  # read mostly
    "c": (100, 0, 0, 0, 0),  # read only
    "d": (95, 0, 5, 0, 0),  # read latest
    "e": (0, 0, 5, 95, 0),  # short ranges
    "f": (50, 0, 0, 0, 50),  # read-modify-write
}


class _Count(msgspec.Struct):
    Count: int = -1


class _Unprocessed(msgspec.Struct):
    UnprocessedItems: dict[str, list[Any]] = {}


class _Described(msgspec.Struct):
    Table: dict[str, Any] = {}


_decode_count = msgspec.json.Decoder(_Count).decode
_decode_unprocessed = msgspec.json.Decoder(_Unprocessed).decode
_decode_described = msgspec.json.Decoder(_Described).decode
_encode = msgspec.json.encode


def error_code(response: Response) -> str:
    """'<status> <DynamoDB __type after #>' from an error response."""
    try:
        kind = msgspec.json.decode(response.body).get("__type", "")
    except (msgspec.DecodeError, AttributeError):
        kind = ""
    return f"{response.status} {str(kind).rsplit('#', 1)[-1] or 'NoType'}"


def record_key(n: int) -> dict[str, dict[str, str]]:
    """The primary key of record `n`."""
    return {
        "pk": {"S": f"p{n // ITEMS_PER_PARTITION:010d}"},
        "sk": {"S": f"{n % ITEMS_PER_PARTITION:03d}"},
    }


@dataclass(frozen=True, slots=True)
class DynamoSettings:
    """What a `strata bench dynamodb` run does besides where it connects."""

    op: str | None = None  # one of DYNAMODB_OPS, or None when a YCSB workload is set
    workload: str | None = None  # one of YCSB_WORKLOADS
    table: str = "strata-bench"
    records: int = 10_000
    item_bytes: int = 1024
    consistent: bool = False
    distribution: str = "uniform"  # for single ops: uniform | zipfian
    query_limit: int = 20
    batch_items: int = BATCH_ITEMS_MAX
    scan_length_max: int = 100
    prefill: bool = True


class DynamoWorkload:
    """One `strata bench dynamodb` configuration; see runner.Workload."""

    def __init__(self, endpoint: Endpoint, settings: DynamoSettings, timeout_s: float = 60.0):
        if (settings.op is None) == (settings.workload is None):
            raise ValueError("give exactly one of op and workload")
        if settings.op is not None and settings.op not in DYNAMODB_OPS:
            raise ValueError(f"unknown DynamoDB op {settings.op!r}")
        if settings.workload is not None and settings.workload not in YCSB_WORKLOADS:
            raise ValueError(f"unknown YCSB workload {settings.workload!r}")
        if not 1 <= settings.batch_items <= BATCH_ITEMS_MAX:
            raise ValueError("batch items must be 1..25")
        if settings.records < ITEMS_PER_PARTITION:
            raise ValueError(f"records must be at least {ITEMS_PER_PARTITION}")
        self.settings = settings
        self.endpoint_info = endpoint
        self.endpoint = endpoint.url
        self.host = endpoint.host
        self.port = endpoint.port
        self.timeout_s = timeout_s
        what = f"ycsb-{settings.workload}" if settings.workload else settings.op
        self.name = f"dynamodb {what}"
        self.signer = Signer(endpoint.access_key, endpoint.secret_key, endpoint.region, "dynamodb")
        self._field_bytes = max(1, (settings.item_bytes - 40) // FIELDS)
        alphabet = string.ascii_letters + string.digits
        seed_rng = random.Random(1)
        self._pool = "".join(seed_rng.choice(alphabet) for _ in range(64 * 1024))
        zeta(settings.records, 0.99)  # computed once here, inherited by forked processes
        self._rng = random.Random()
        self._chooser: Zipfian | ScrambledZipfian | Uniform = Uniform(settings.records)
        self._latest = Zipfian(settings.records)
        self._inserts = AcknowledgedCounter()
        self._process = 0
        self._mix = YCSB_MIX.get(settings.workload or "", (0, 0, 0, 0, 0))

    def params(self) -> dict[str, Any]:
        """Settings reported next to the figures."""
        s = self.settings
        return {
            "op": s.op,
            "workload": s.workload,
            "table": s.table,
            "records": s.records,
            "item_size": format_size(s.item_bytes),
            "consistent_read": s.consistent,
            "distribution": "zipfian" if s.workload else s.distribution,
            "query_limit": s.query_limit if s.op == "query" else None,
            "batch_items": s.batch_items if s.op == "batchwrite" else None,
        }

    # --- requests ---------------------------------------------------------------------
    async def call(self, client: Client, action: str, body: bytes) -> Response:
        """POST one JSON request; any status but 200 is an OpError."""
        headers = self.signer.sign(
            "POST",
            "/",
            "",
            [
                ("content-type", _CONTENT_TYPE),
                ("host", self.endpoint_info.host_header),
                ("x-amz-target", f"DynamoDB_20120810.{action}"),
            ],
            hashlib.sha256(body).hexdigest(),
            content_sha256_header=False,
        )
        response = await client.request("POST", "/", headers, body, keep_body=True)
        if response.status != 200:
            raise OpError(error_code(response), response.body[:200].decode("utf-8", "replace"))
        return response

    def item(self, n: int) -> dict[str, Any]:
        """A full record: key plus ten fields of random text."""
        item: dict[str, Any] = record_key(n)
        size = self._field_bytes
        top = len(self._pool) - size
        rng = self._rng
        for field in range(FIELDS):
            start = rng.randrange(top)
            item[f"f{field}"] = {"S": self._pool[start : start + size]}
        return item

    async def put_item(self, client: Client, n: int) -> int:
        body = _encode({"TableName": self.settings.table, "Item": self.item(n)})
        await self.call(client, "PutItem", body)
        return len(body)

    async def get_item(self, client: Client, n: int) -> int:
        body = _encode(
            {
                "TableName": self.settings.table,
                "Key": record_key(n),
                "ConsistentRead": self.settings.consistent,
            }
        )
        response = await self.call(client, "GetItem", body)
        if b'"Item"' not in response.body:
            raise OpError("ItemNotFound", f"record {n}")
        return response.body_bytes

    async def add_counter(self, client: Client, n: int) -> int:
        """UpdateItem with ADD: the atomic counter increment."""
        body = _encode(
            {
                "TableName": self.settings.table,
                "Key": record_key(n),
                "UpdateExpression": "ADD #c :one",
                "ExpressionAttributeNames": {"#c": "cnt"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        )
        await self.call(client, "UpdateItem", body)
        return len(body)

    async def set_field(self, client: Client, n: int) -> int:
        """UpdateItem with SET of one field: YCSB's update."""
        size = self._field_bytes
        start = self._rng.randrange(len(self._pool) - size)
        body = _encode(
            {
                "TableName": self.settings.table,
                "Key": record_key(n),
                "UpdateExpression": "SET #f = :v",
                "ExpressionAttributeNames": {"#f": f"f{self._rng.randrange(FIELDS)}"},
                "ExpressionAttributeValues": {":v": {"S": self._pool[start : start + size]}},
            }
        )
        await self.call(client, "UpdateItem", body)
        return len(body)

    async def query(self, client: Client, partition: int, limit: int, from_sk: int = 0) -> int:
        key = record_key(partition * ITEMS_PER_PARTITION + from_sk)
        request: dict[str, Any] = {
            "TableName": self.settings.table,
            "KeyConditionExpression": "pk = :p AND sk >= :s",
            "ExpressionAttributeValues": {":p": key["pk"], ":s": key["sk"]},
            "Limit": limit,
            "ConsistentRead": self.settings.consistent,
        }
        response = await self.call(client, "Query", _encode(request))
        expected = min(limit, ITEMS_PER_PARTITION - from_sk)
        count = _decode_count(response.body).Count
        if (partition + 1) * ITEMS_PER_PARTITION <= self.settings.records and count != expected:
            raise OpError("ShortQuery", f"{count} items, expected {expected}")
        return response.body_bytes

    async def batch_write(self, client: Client, ids: list[int]) -> int:
        requests = [{"PutRequest": {"Item": self.item(n)}} for n in ids]
        body = _encode({"RequestItems": {self.settings.table: requests}})
        response = await self.call(client, "BatchWriteItem", body)
        if _decode_unprocessed(response.body).UnprocessedItems:
            raise OpError("UnprocessedItems", "the server did not write the whole batch")
        return len(body)

    # --- runner.Workload ----------------------------------------------------------------
    async def create_table(self, client: Client) -> None:
        """CreateTable (on demand), then wait until DescribeTable says ACTIVE."""
        table = self.settings.table
        body = _encode(
            {
                "TableName": table,
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
            }
        )
        try:
            await self.call(client, "CreateTable", body)
        except OpError as exc:
            if not exc.code.endswith("ResourceInUseException"):
                raise
        deadline = time.monotonic() + 60
        while True:
            response = await self.call(client, "DescribeTable", _encode({"TableName": table}))
            if _decode_described(response.body).Table.get("TableStatus") == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise OpError("TableNotActive", f"{table} not ACTIVE after 60s")
            await asyncio.sleep(0.1)

    async def prepare(self, concurrency: int) -> None:
        """Create the table and load `records` items with BatchWriteItem."""
        if not self.settings.prefill:
            return
        client = Client(self.host, self.port, timeout_s=self.timeout_s)
        try:
            await self.create_table(client)
        finally:
            client.close()
        batches = iter(range(0, self.settings.records, BATCH_ITEMS_MAX))

        async def load() -> None:
            client = Client(self.host, self.port, timeout_s=self.timeout_s)
            try:
                for first in batches:
                    last = min(first + BATCH_ITEMS_MAX, self.settings.records)
                    await self._load_batch(client, list(range(first, last)))
            finally:
                client.close()

        await asyncio.gather(*(load() for _ in range(max(1, min(concurrency, 8)))))

    async def _load_batch(self, client: Client, ids: list[int]) -> None:
        body = _encode(
            {
                "RequestItems": {
                    self.settings.table: [{"PutRequest": {"Item": self.item(n)}} for n in ids]
                }
            }
        )
        for _ in range(100):
            response = await self.call(client, "BatchWriteItem", body)
            unprocessed = _decode_unprocessed(response.body).UnprocessedItems
            if not unprocessed:
                return
            body = _encode({"RequestItems": unprocessed})
            await asyncio.sleep(0.05)
        raise OpError("UnprocessedItems", "prefill batch never fully written")

    def bind(self, process_index: int, process_count: int) -> None:
        """Per-process random streams and insert counter."""
        self._rng = random.Random(os.getpid() ^ int(time.time_ns()))
        self._process = process_index
        records = self.settings.records
        if self.settings.workload is not None or self.settings.distribution == "zipfian":
            self._chooser = ScrambledZipfian(records, rng=self._rng)
        else:
            self._chooser = Uniform(records, rng=self._rng)
        self._latest = Zipfian(records, rng=self._rng)
        self._inserts = AcknowledgedCounter()

    def _insert_id(self, k: int) -> int:
        return self.settings.records + self._process * _INSERT_ID_STRIDE + k

    def _latest_id(self) -> int:
        """Workload D's read: rank 0 is the newest acknowledged insert of this process."""
        rank = self._latest.next()
        inserted = self._inserts.acknowledged
        if rank < inserted:
            return self._insert_id(inserted - 1 - rank)
        return max(0, self.settings.records - 1 - (rank - inserted))

    async def _insert(self, client: Client) -> int:
        k = self._inserts.take()
        moved = await self.put_item(client, self._insert_id(k))
        self._inserts.acknowledge(k)
        return moved

    async def run_once(self, client: Client, worker: int, seq: int) -> int:
        """One operation of the configured op, or one YCSB operation drawn from the mix."""
        op = self.settings.op
        if op is not None:
            if op == "getitem":
                return await self.get_item(client, self._chooser.next())
            if op == "putitem":
                return await self.put_item(client, self._chooser.next())
            if op == "updateitem":
                return await self.add_counter(client, self._chooser.next())
            if op == "query":
                partitions = self.settings.records // ITEMS_PER_PARTITION
                partition = self._rng.randrange(partitions)
                return await self.query(client, partition, self.settings.query_limit)
            ids = [self._chooser.next() for _ in range(self.settings.batch_items)]
            return await self.batch_write(client, list(dict.fromkeys(ids)))
        read, update, insert, scan, _ = self._mix
        pick = self._rng.randrange(100)
        if pick < read:
            n = self._latest_id() if self.settings.workload == "d" else self._chooser.next()
            return await self.get_item(client, n)
        if pick < read + update:
            return await self.set_field(client, self._chooser.next())
        if pick < read + update + insert:
            return await self._insert(client)
        if pick < read + update + insert + scan:
            n = self._chooser.next()
            partition, from_sk = divmod(n, ITEMS_PER_PARTITION)
            length = self._rng.randint(1, self.settings.scan_length_max)
            return await self.query(client, partition, length, from_sk)
        n = self._chooser.next()
        moved = await self.get_item(client, n)
        return moved + await self.set_field(client, n)
