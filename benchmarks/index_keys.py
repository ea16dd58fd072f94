"""CPU per request of a GSI with a one-attribute key against one with a multi-attribute key.

`python -m benchmarks.index_keys [--requests 2000] [--reps 3] [--rounds 3]`

Two apps built as `benchmarks.inprocess` builds one (authentication on, real RocksDB in a
temporary directory), each with the inprocess table (`pk`, `sk`, ~1 KiB items, 1,000 of
them) and one GSI: `g1` keyed by `a` (HASH) and `c` (RANGE), or `g4` keyed by `a`, `b`
(HASH) and `c`, `d` (RANGE). Every item carries `a`..`d`, ten partitions of the index.
PutItem writes a whole item (base item and its index entry, durable, 32 at a time);
Query reads 20 entries of one index partition (`a = :a AND c >= :c`, with `b = :b` and
`d`'s prefix on `g4`). The two shapes alternate per round in one process, so the ratio
is measured side by side; the figures are medians of the rounds' medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from benchmarks.asgi_harness import Signed, cpu_per_request, runner
from benchmarks.inprocess import PARTITIONS, POOL_SIZE, TABLE, Harness

SHAPES = ("one", "multi")


class IndexHarness(Harness):
    def __init__(self, shape: str) -> None:
        super().__init__()
        self.shape = shape

    def item(self, n: int) -> dict[str, Any]:
        item = super().item(n)
        item["a"] = {"S": f"group{n % PARTITIONS}"}
        item["b"] = {"N": str(n % PARTITIONS)}
        item["c"] = {"S": f"{n // PARTITIONS:06d}"}
        item["d"] = {"N": str(n)}
        return item

    async def prepare(self) -> None:
        if self.shape == "one":
            index = [{"AttributeName": "a", "KeyType": "HASH"}]
            index.append({"AttributeName": "c", "KeyType": "RANGE"})
        else:
            index = [{"AttributeName": n, "KeyType": "HASH"} for n in ("a", "b")]
            index += [{"AttributeName": n, "KeyType": "RANGE"} for n in ("c", "d")]
        types = {"pk": "S", "sk": "S", "a": "S", "b": "N", "c": "S", "d": "N"}
        used = {"pk", "sk"} | {e["AttributeName"] for e in index}
        await self.must(
            "CreateTable",
            {
                "TableName": TABLE,
                "AttributeDefinitions": [
                    {"AttributeName": n, "AttributeType": t} for n, t in types.items() if n in used
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "gix",
                        "KeySchema": index,
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        await self.load()

    def requests(self, op: str) -> list[Signed]:
        if op == "putitem":
            return super().requests(op)
        documents = []
        for _ in range(POOL_SIZE):
            group = self.rng.randrange(PARTITIONS)
            values: dict[str, Any] = {":a": {"S": f"group{group}"}, ":c": {"S": "000040"}}
            condition = "a = :a AND c >= :c"
            if self.shape == "multi":
                values[":b"] = {"N": str(group)}
                condition = "a = :a AND b = :b AND c >= :c"
            document = {
                "TableName": TABLE,
                "IndexName": "gix",
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "Limit": 20,
            }
            documents.append(self.sign("Query", document))
        return documents


async def measure(shape: str, op: str, count: int, reps: int) -> float:
    harness = IndexHarness(shape)
    try:
        await harness.prepare()
        result = await cpu_per_request(
            harness,
            harness.requests(op),
            count=count,
            reps=reps,
            concurrency=32 if op == "putitem" else 1,
            warmup=min(count, 1000),
            profile=False,
            sort="tottime",
            top=0,
        )
        return float(result["cpu_us_median"])
    finally:
        await harness.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.index_keys", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    run = runner(args.loop)
    for op in ("putitem", "query"):
        figures: dict[str, list[float]] = {shape: [] for shape in SHAPES}
        for _ in range(args.rounds):
            for shape in SHAPES:
                figures[shape].append(run(measure(shape, op, args.requests, args.reps)))
        one, multi = (statistics.median(figures[s]) for s in SHAPES)
        print(
            json.dumps(
                {
                    "op": op,
                    "one_attribute_us": one,
                    "multi_attribute_us": multi,
                    "ratio": round(multi / one, 3),
                    "rounds": figures,
                }
            )
        )


if __name__ == "__main__":
    main()
