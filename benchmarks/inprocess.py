"""CPU per DynamoDB request, measured in-process: the server's cost without HTTP or noise.

`python -m benchmarks.inprocess --op getitem|putitem|updateitem|query|batchwrite [--profile]`
(`--changes on`: the table has a NEW_AND_OLD_IMAGES stream and PITR, so every write also
writes its change record with both images; `--sse on`: the table is encrypted with KMS, so
every item value is sealed on write and opened on read)

The app is built with `strata.app.build` (authentication on, real RocksDB in a temporary
data directory) and driven through its ASGI interface with requests signed by botocore,
exactly as a client would send them; no socket, no HTTP parser. The figure is
`time.thread_time()` of the event-loop thread divided by the number of requests: the CPU the
loop thread spends per request (SigV4, JSON, model checks, service, RocksDB, response).
Work on other threads (the group-commit WAL fsync of a durable write) is not counted, and
neither is time spent waiting, so the figure is far steadier than wall time on a shared,
noisy machine. It is reported as the median (and min/max) of `--reps` repetitions.

The workloads mirror `strata bench dynamodb` and the peer benchmark: a table with string
`pk` and `sk`, items of ten 98-character string fields (about 1 KiB) in partitions of 100;
PutItem writes whole items (durable: each waits for its WAL fsync), GetItem is consistent,
UpdateItem is `ADD #c :one`, Query reads 20 items of a 100-item partition
(`pk = :p AND sk >= :s`, Limit 20), BatchWriteItem puts 25 items. Requests are signed before
the clock starts and replayed round-robin from a pool of distinct keys. Reads run one at a
time; writes run 32 at a time (`--concurrency`), so they share WAL fsyncs as they do at 32
connections (one at a time, each write waits for its own fsync: slow, and the wake-up per
write is then most of the figure).

`--profile` runs one more repetition under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.asgi_harness import (
    ACCESS_KEY,
    HOST,
    SECRET_KEY,
    InProcessApp,
    Signed,
    cpu_per_request,
    runner,
    to_asgi,
)

TABLE = "bench"
ITEMS_PER_PARTITION = 100
PARTITIONS = 10
FIELDS = 10
FIELD_CHARS = 98
POOL_SIZE = 200
OPS = ("getitem", "putitem", "updateitem", "query", "batchwrite")
WRITES = ("putitem", "updateitem", "batchwrite")


def record_key(n: int) -> dict[str, dict[str, str]]:
    """The primary key of record `n` (as `strata bench dynamodb` names it)."""
    return {
        "pk": {"S": f"p{n // ITEMS_PER_PARTITION:010d}"},
        "sk": {"S": f"{n % ITEMS_PER_PARTITION:03d}"},
    }


class Harness(InProcessApp):
    """A Strata app in a temporary directory and a way to call it as a DynamoDB client."""

    CHANGES = False  # --changes on: the table has a NEW_AND_OLD_IMAGES stream and PITR
    SSE = False  # --sse on: SSESpecification with KMS (the AWS managed key)

    def __init__(self) -> None:
        super().__init__("strata-inprocess-")
        self.credentials = Credentials(ACCESS_KEY, SECRET_KEY)
        rng = random.Random(1)
        alphabet = string.ascii_letters + string.digits
        self.pool = "".join(rng.choice(alphabet) for _ in range(64 * 1024))
        self.rng = rng

    def sign(self, operation: str, document: dict[str, Any]) -> Signed:
        """An ASGI scope and body for one signed DynamoDB request."""
        body = json.dumps(document).encode()
        request = AWSRequest(
            "POST",
            f"http://{HOST}/",
            data=body,
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        SigV4Auth(self.credentials, "dynamodb", "us-east-1").add_auth(request)
        return to_asgi(request, "/", "", body)

    async def must(self, operation: str, document: dict[str, Any]) -> bytes:
        status, body = await self.call(self.sign(operation, document))
        if status != 200:
            raise SystemExit(f"{operation} failed: {status} {body[:300]!r}")
        return body

    def item(self, n: int) -> dict[str, Any]:
        """A full record: key plus ten fields of random text (about 1 KiB)."""
        item: dict[str, Any] = record_key(n)
        top = len(self.pool) - FIELD_CHARS
        for field in range(FIELDS):
            start = self.rng.randrange(top)
            item[f"f{field}"] = {"S": self.pool[start : start + FIELD_CHARS]}
        return item

    async def prepare(self) -> None:
        """Create the table and load PARTITIONS partitions of ITEMS_PER_PARTITION items."""
        await self.must(
            "CreateTable",
            {
                "TableName": TABLE,
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
                **(
                    {
                        "StreamSpecification": {
                            "StreamEnabled": True,
                            "StreamViewType": "NEW_AND_OLD_IMAGES",
                        }
                    }
                    if self.CHANGES
                    else {}
                ),
                **({"SSESpecification": {"Enabled": True, "SSEType": "KMS"}} if self.SSE else {}),
            },
        )
        if self.CHANGES:
            await self.must(
                "UpdateContinuousBackups",
                {
                    "TableName": TABLE,
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            )
        await self.load()

    async def load(self) -> None:
        """PARTITIONS partitions of ITEMS_PER_PARTITION items, 25 a batch."""
        records = PARTITIONS * ITEMS_PER_PARTITION
        for first in range(0, records, 25):
            requests = [{"PutRequest": {"Item": self.item(n)}} for n in range(first, first + 25)]
            await self.must("BatchWriteItem", {"RequestItems": {TABLE: requests}})

    def requests(self, op: str) -> list[Signed]:
        """POOL_SIZE signed requests of one kind, over distinct keys."""
        records = PARTITIONS * ITEMS_PER_PARTITION
        keys = [self.rng.randrange(records) for _ in range(POOL_SIZE)]
        documents: list[tuple[str, dict[str, Any]]]
        if op == "getitem":
            documents = [
                ("GetItem", {"TableName": TABLE, "Key": record_key(n), "ConsistentRead": True})
                for n in keys
            ]
        elif op == "putitem":
            documents = [("PutItem", {"TableName": TABLE, "Item": self.item(n)}) for n in keys]
        elif op == "updateitem":
            documents = [
                (
                    "UpdateItem",
                    {
                        "TableName": TABLE,
                        "Key": record_key(n),
                        "UpdateExpression": "ADD #c :one",
                        "ExpressionAttributeNames": {"#c": "cnt"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    },
                )
                for n in keys
            ]
        elif op == "query":
            documents = []
            for n in keys:
                key = record_key(n // ITEMS_PER_PARTITION * ITEMS_PER_PARTITION)
                documents.append(
                    (
                        "Query",
                        {
                            "TableName": TABLE,
                            "KeyConditionExpression": "pk = :p AND sk >= :s",
                            "ExpressionAttributeValues": {":p": key["pk"], ":s": key["sk"]},
                            "Limit": 20,
                            "ConsistentRead": True,
                        },
                    )
                )
        elif op == "batchwrite":
            documents = []
            for n in keys:
                ids = [(n + i) % records for i in range(25)]
                requests = [{"PutRequest": {"Item": self.item(i)}} for i in ids]
                documents.append(("BatchWriteItem", {"RequestItems": {TABLE: requests}}))
        else:
            raise ValueError(f"unknown op {op!r}")
        return [self.sign(operation, document) for operation, document in documents]


async def measure(
    op: str, count: int, reps: int, concurrency: int, profile: bool, sort: str, top: int
) -> dict[str, Any]:
    harness = Harness()
    try:
        await harness.prepare()
        result = await cpu_per_request(
            harness,
            harness.requests(op),
            count=count,
            reps=reps,
            concurrency=concurrency,
            warmup=min(count, 1000),
            profile=profile,
            sort=sort,
            top=top,
        )
        return {"op": op, **result}
    finally:
        await harness.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess", description=__doc__)
    parser.add_argument("--op", choices=(*OPS, "all"), default="all")
    parser.add_argument("--requests", type=int, default=3000, help="requests per repetition")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (median reported)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight (default: 1 for reads; 32 for durable writes, which then "
        "share WAL fsyncs as at 32 connections, instead of waiting for one fsync each)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumtime)")
    parser.add_argument("--top", type=int, default=40, help="functions listed with --profile")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", action="store_true", help="one JSON line per op")
    parser.add_argument("--audit", choices=("on", "off"), default="on", help="the audit trail")
    parser.add_argument(
        "--changes",
        choices=("on", "off"),
        default="off",
        help="a NEW_AND_OLD_IMAGES stream and PITR on the table (the change log written)",
    )
    parser.add_argument(
        "--sse",
        choices=("on", "off"),
        default="off",
        help="the table encrypted with KMS (SSESpecification): item values sealed",
    )
    args = parser.parse_args(argv)
    InProcessApp.AUDIT = args.audit == "on"
    Harness.CHANGES = args.changes == "on"
    Harness.SSE = args.sse == "on"
    run = runner(args.loop)
    for op in OPS if args.op == "all" else (args.op,):
        count = args.requests if op != "batchwrite" else max(1, args.requests // 10)
        concurrency = args.concurrency or (32 if op in WRITES else 1)
        result = run(measure(op, count, args.reps, concurrency, args.profile, args.sort, args.top))
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(
                f"{op:<11} {result['cpu_us_median']:8.1f} us CPU/request (median of "
                f"{result['reps']}; min {result['cpu_us_min']}, max {result['cpu_us_max']}; "
                f"{result['requests']} requests each, {concurrency} in flight)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
