"""`strata bench s3|dynamodb ...`: argument parsing and the report; see package docstring.

Exit status: 0 when every request succeeded, 1 when any failed (the report lists the codes),
2 for bad arguments. A fast error is not a result, so a run with errors never exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from strata.bench.dynamodb import DYNAMODB_OPS, YCSB_WORKLOADS, DynamoSettings, DynamoWorkload
from strata.bench.http import HTTPError
from strata.bench.runner import OpError, RunSpec, Workload, execute, run_async
from strata.bench.s3 import S3_OPS, Endpoint, S3Workload, parse_endpoint
from strata.bench.stats import Report
from strata.bench.units import parse_duration, parse_size

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The `strata bench` argument parser (public so docs and tests can show it)."""
    parser = argparse.ArgumentParser(
        prog="strata bench",
        description="Load-test an S3 or DynamoDB endpoint: throughput, latency percentiles, "
        "errors by code. Any failed request makes the run fail.",
    )
    services = parser.add_subparsers(dest="service", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="http://HOST:PORT")
    common.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID"))
    common.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY"))
    common.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    common.add_argument("--concurrency", "-c", type=_positive, default=32, help="connections")
    common.add_argument("--duration", "-d", type=_duration, default=15.0, help="e.g. 15s, 1m")
    common.add_argument(
        "--warmup", type=_duration, default=0.0, help="run unmeasured first, e.g. 2s"
    )
    common.add_argument("--processes", "-p", type=_positive, default=1, help="generator processes")
    common.add_argument("--timeout", type=_duration, default=120.0, help="per request")
    common.add_argument("--no-prefill", action="store_true", help="data is already loaded")
    common.add_argument("--json", action="store_true", help="print one JSON document")
    common.add_argument("--quiet", "-q", action="store_true", help="no live progress line")

    s3 = services.add_parser("s3", parents=[common], help="S3 object operations")
    s3.add_argument("--op", choices=S3_OPS, default="put")
    s3.add_argument("--size", type=_size, default=4096, help="object size, e.g. 4KiB, 1MiB")
    s3.add_argument("--bucket", default="strata-bench")
    s3.add_argument(
        "--objects", type=_positive, default=None, help="objects to read from or overwrite"
    )
    s3.add_argument("--max-keys", type=_positive, default=1000, help="page size for --op list")

    ddb = services.add_parser("dynamodb", parents=[common], help="DynamoDB item operations")
    what = ddb.add_mutually_exclusive_group()
    what.add_argument("--op", choices=DYNAMODB_OPS, default=None)
    what.add_argument("--workload", choices=YCSB_WORKLOADS, default=None, help="YCSB A-F")
    ddb.add_argument("--table", default="strata-bench")
    ddb.add_argument("--records", type=_positive, default=10_000, help="items loaded first")
    ddb.add_argument("--item-size", type=_size, default=1024)
    ddb.add_argument("--consistent", action="store_true", help="strongly consistent reads")
    ddb.add_argument("--distribution", choices=("uniform", "zipfian"), default="uniform")
    ddb.add_argument("--query-limit", type=_positive, default=20)
    ddb.add_argument("--batch-items", type=int, default=25, choices=range(1, 26), metavar="1..25")
    return parser


def make_workload(args: argparse.Namespace) -> Workload:
    """Turn parsed arguments into a workload (raises ValueError on bad combinations)."""
    if not args.access_key or not args.secret_key:
        raise ValueError(
            "credentials missing: pass --access-key/--secret-key or set "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    host, port = parse_endpoint(args.endpoint)
    endpoint = Endpoint(args.endpoint, host, port, args.access_key, args.secret_key, args.region)
    if args.service == "s3":
        return S3Workload(
            endpoint,
            op=args.op,
            size_bytes=args.size,
            bucket=args.bucket,
            objects=args.objects,
            max_keys=args.max_keys,
            prefill=not args.no_prefill,
            timeout_s=args.timeout,
        )
    settings = DynamoSettings(
        op=args.op if args.op or args.workload else "putitem",
        workload=args.workload,
        table=args.table,
        records=args.records,
        item_bytes=args.item_size,
        consistent=args.consistent,
        distribution=args.distribution,
        query_limit=args.query_limit,
        batch_items=args.batch_items,
        prefill=not args.no_prefill,
    )
    return DynamoWorkload(endpoint, settings, timeout_s=args.timeout)


def benchmark(workload: Workload, spec: RunSpec) -> Report:
    """Prepare, then measure: the library entry point the peer benchmark uses too."""
    run_async(lambda: workload.prepare(spec.concurrency))
    return execute(workload, spec)


def run(argv: Sequence[str]) -> int:
    """Entry point of `strata bench`; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        workload = make_workload(args)
    except ValueError as exc:
        parser.error(str(exc))
    spec = RunSpec(
        concurrency=args.concurrency,
        duration_s=args.duration,
        warmup_s=args.warmup,
        processes=args.processes,
        progress=not args.quiet and not args.json,
    )
    if not args.json and not args.quiet:
        print(f"{workload.name}: preparing {workload.endpoint} ...", file=sys.stderr)
    try:
        run_async(lambda: workload.prepare(spec.concurrency))
    except (OpError, HTTPError) as exc:
        print(f"strata bench: setup failed: {exc}", file=sys.stderr)
        return 1
    report = execute(workload, spec)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.to_text())
    if not report.ok:
        print(
            "strata bench: FAILED: "
            + (", ".join(f"{code} x{count}" for code, count in report.errors.items()) or "no ops"),
            file=sys.stderr,
        )
        return 1
    return 0
