"""``strata audit``: the running server's audit trail, newest first, filtered.

It reads ``GET /_strata/audit`` (root key) page by page. Times are UTC; ``--since`` takes a
duration back from now (``90s``, ``15m``, ``2h``, ``7d``) or an ISO 8601 time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from strata.remote import RemoteError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_command(commands: Any, add_arguments: Any, remote: Any) -> None:
    audit = commands.add_parser(
        "audit", help="who did what: the audit trail of every API call, newest first"
    )
    audit.add_argument("--since", help="a duration back from now (15m, 2h, 7d) or ISO time")
    audit.add_argument("--until", help="ISO 8601 time (default: now)")
    audit.add_argument("--principal", help="an ARN, access key id or IAM user name")
    audit.add_argument("--event", help="an operation name, e.g. DeleteObject")
    audit.add_argument("--resource", help="bucket, bucket/key or table")
    audit.add_argument(
        "--error", nargs="?", const="*", help="only failed calls (optionally: this error code)"
    )
    audit.add_argument("--service", help="s3, dynamodb, streams, iam, sts or cloudtrail")
    audit.add_argument("--limit", type=int, default=100, help="records to show (default 100)")
    audit.add_argument("--json", action="store_true", help="one CloudTrail record per line")
    add_arguments(audit)
    audit.set_defaults(func=lambda args: audit_command(args, remote(args)))


def since_iso(text: str, now_s: float) -> str:
    match = _DURATION.match(text)
    if match is None:
        return text  # an ISO time: the server checks it
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_s - seconds))


def _query(args: argparse.Namespace) -> list[tuple[str, str]]:
    query = []
    if args.since:
        query.append(("start", since_iso(args.since, time.time())))
    for name, value in (
        ("end", args.until),
        ("principal", args.principal),
        ("event", args.event),
        ("resource", args.resource),
        ("error", args.error),
        ("service", args.service),
    ):
        if value:
            query.append((name, value))
    return query


def _who(event: dict[str, Any]) -> str:
    identity = event["userIdentity"]
    if identity["type"] == "Root":
        return "root"
    if identity["type"] == "AWSAccount":
        return "anonymous"
    name: str = identity.get("userName") or identity.get("arn", "?").rsplit("/", 1)[-1]
    return name


def _resource(event: dict[str, Any]) -> str:
    params = event.get("requestParameters") or {}
    if "bucketName" in params:
        key = params.get("key")
        return f"s3://{params['bucketName']}/{key}" if key else f"s3://{params['bucketName']}"
    if "tableName" in params:
        return f"dynamodb://{params['tableName']}"
    return "-"


def audit_command(args: argparse.Namespace, remote: Any) -> int:
    if args.limit < 1:
        print("strata: --limit must be at least 1", file=sys.stderr)
        return 2
    query = _query(args)
    shown = 0
    token = None
    if not args.json:
        print(f"{'TIME (UTC)':<20} {'PRINCIPAL':<16} {'EVENT':<26} {'RESOURCE':<40} RESULT")
    try:
        while shown < args.limit:
            page = [*query, ("limit", str(min(1000, args.limit - shown)))]
            if token:
                page.append(("next", token))
            result = remote.admin("GET", "audit", page)
            for event in result["events"]:
                shown += 1
                if args.json:
                    print(json.dumps(event, separators=(",", ":")))
                    continue
                outcome = event.get("errorCode") or "ok"
                print(
                    f"{event['eventTime'].replace('T', ' ').rstrip('Z'):<20} "
                    f"{_who(event):<16} {event['eventName']:<26} {_resource(event):<40} {outcome}"
                )
            token = result.get("next")
            if not token:
                break
    except RemoteError as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    if not args.json and shown == 0:
        print("(no matching calls)")
    return 0
