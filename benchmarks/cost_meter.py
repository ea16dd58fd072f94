"""What the cost view adds per request: the meters on the request paths, timed alone.

``python -m benchmarks.cost_meter``: the S3 edge's ``meter_s3`` for a GET (response headers
scanned for the storage class), DynamoDB's ``capacity.USAGE.read``/``write``, and the
storage-time counters ``storage_time.stage`` adds to every object write's batch. Each is
timed over many calls (best of 5 repeats): in-process CPU, to set against a request's
30-40 µs.
"""

from __future__ import annotations

import argparse
import timeit

from strata.api.cost import meter_s3
from strata.api.http import Body, Request, Response
from strata.service.cost.usage import S3Usage
from strata.service.objects import storage_time
from strata.service.objects.records import ObjectVersion
from strata.service.tables.capacity import TableUsage
from strata.storage.store import WriteBatch


async def _nothing() -> dict[str, object]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _request() -> Request:
    request = Request(
        method="GET",
        raw_path="/bucket/key",
        query_string="",
        headers={"host": "localhost"},
        body=Body(_nothing),
        request_id="r",
    )
    request.operation = "GetObject"
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    usage = S3Usage()
    request = _request()
    headers = [
        ("etag", '"x"'), ("last-modified", "x"), ("content-type", "a/b"),
        ("accept-ranges", "bytes"), ("content-length", "4096"),
    ]  # fmt: skip
    response = Response(200, headers, b"x" * 4096)
    tables = TableUsage()
    version = ObjectVersion(
        version_id="null", stamp=1, last_modified_ms=1_700_000_000_000, size_bytes=4096,
        etag="x",
    )  # fmt: skip
    now_s = 1_765_000_000.0
    cases = {
        "meter_s3 (S3 GET)": lambda: meter_s3(usage, request, "bucket", response),
        "capacity.USAGE.read (GetItem)": lambda: tables.read("table", 700, True),
        "capacity.USAGE.write (PutItem)": lambda: tables.write("table", 700),
        "storage_time.stage (object write)": lambda: storage_time.stage(
            WriteBatch(), "bucket", version, 1, now_s
        ),
        "WriteBatch() alone (subtract from the line above)": WriteBatch,
        "reference: an empty function call": lambda: None,
    }
    for name, call in cases.items():
        best = min(timeit.repeat(call, number=args.calls, repeat=5)) / args.calls
        print(f"{name:<52} {best * 1e6:6.3f} µs")


if __name__ == "__main__":
    main()
