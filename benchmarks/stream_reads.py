"""GetRecords throughput: how fast a consumer drains a table's stream.

`python -m benchmarks.stream_reads [--items 100000] [--reps 3]`

In-process on the service layer (no HTTP), real RocksDB in a temporary directory: a table
with a NEW_AND_OLD_IMAGES stream gets ``--items`` inserts then as many updates of the
same ~180-byte items (so half the records carry two images), written through
``Changes.stage`` in chunks of 500 as the write path does. Then, ``--reps`` times, every
shard of the stream is read from TRIM_HORIZON with ``GetRecords`` (Limit 1000) until it
answers no records, and each answer is encoded to JSON with msgspec (the protocol layer's
encoder): records/s, MB/s of the records' ``SizeBytes``, and CPU per record. The
median repetition is printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import msgspec

from benchmarks.changelog import write
from strata.service.tables.streams import StreamService
from strata.service.tables.tables import TableService
from strata.storage.clock import SystemClock
from strata.storage.store import LocalStore


def _drain(streams: StreamService, arn: str) -> tuple[int, int]:
    """Read every shard from TRIM_HORIZON; (records, their SizeBytes)."""
    shards: list[str] = []
    start: dict[str, str] = {}
    while True:
        page = streams.describe_stream({"StreamArn": arn, **start})["StreamDescription"]
        shards += [s["ShardId"] for s in page["Shards"]]
        if "LastEvaluatedShardId" not in page:
            break
        start = {"ExclusiveStartShardId": page["LastEvaluatedShardId"]}
    count = size = 0
    for shard in shards:
        iterator = streams.get_shard_iterator(
            {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
        )["ShardIterator"]
        while iterator:
            answer = streams.get_records({"ShardIterator": iterator, "Limit": 1000})
            msgspec.json.encode(answer)
            records = answer["Records"]
            if not records:
                break
            count += len(records)
            size += sum(r["dynamodb"]["SizeBytes"] for r in records)
            iterator = answer.get("NextShardIterator")
    return count, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        store = LocalStore(f"{data}/db", SystemClock())
        try:
            tables = TableService(store)
            tables.create_table(
                {
                    "TableName": "streamed",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "StreamSpecification": {
                        "StreamEnabled": True,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                }
            )
            write(tables, 0, args.items, "streamed")
            write(tables, 1, args.items, "streamed")
            streams = StreamService(tables)
            arn = streams.list_streams({"TableName": "streamed"})["Streams"][0]["StreamArn"]
            rounds = []
            for rep in range(args.reps):
                started, cpu = time.perf_counter(), time.process_time()
                count, size = _drain(streams, arn)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                rounds.append((count / wall, size / wall / 1e6, cpu / count * 1e6))
                print(
                    f"round {rep + 1}: {count} records ({size / 1e6:.1f} MB) in {wall:.2f} s: "
                    f"{count / wall:,.0f} records/s, {size / wall / 1e6:.1f} MB/s, "
                    f"{cpu / count * 1e6:.1f} us CPU/record",
                    flush=True,
                )
            print(
                f"median of {args.reps}: {statistics.median(r[0] for r in rounds):,.0f} "
                f"records/s, {statistics.median(r[1] for r in rounds):.1f} MB/s, "
                f"{statistics.median(r[2] for r in rounds):.1f} us CPU/record"
            )
        finally:
            store.close()


if __name__ == "__main__":
    main()
