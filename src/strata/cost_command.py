"""``strata cost``: what the running server's storage costs this month, accrued and projected.

It reads ``GET /_strata/cost`` (root key): per bucket and storage class, and per table,
the month's cost so far by the store clock and the whole month's if it goes on as now.
``--month YYYY-MM`` shows an earlier month; ``--json`` prints the document as is.

``strata cost --lifecycle rules.json s3://bucket`` previews a candidate lifecycle
configuration (the AWS CLI's JSON, or S3's XML) on the bucket: which versions would move
or expire when, within ``--days``, and the monthly storage cost before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from strata.remote import RemoteError, json_or_raise

_GB = 1024**3


def add_command(commands: Any, add_arguments: Any, remote: Any) -> None:
    cost = commands.add_parser(
        "cost", help="this month's storage cost per bucket, class and table (accrued, projected)"
    )
    cost.add_argument("--month", help="an earlier month, YYYY-MM (default: this one)")
    cost.add_argument("--json", action="store_true", help="the whole report as JSON")
    cost.add_argument(
        "--lifecycle", metavar="FILE", help="preview this lifecycle configuration (JSON or XML)"
    )
    cost.add_argument("target", nargs="?", help="s3://bucket, with --lifecycle")
    cost.add_argument("--days", type=int, default=365, help="preview horizon (default 365)")
    cost.add_argument("--limit", type=int, default=50, help="actions to list (default 50)")
    add_arguments(cost)
    cost.set_defaults(func=lambda args: cost_command(args, remote(args)))


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def _size(size: int) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", _GB), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def render(report: dict[str, Any]) -> list[str]:
    """The report as lines for a person: one row per class and table, then the totals."""
    period = report["period"]
    state = "closed" if period["closed"] else f"as of {period['at']}"
    lines = [f"Cost for {period['month']} ({state}), USD, counted from {period['counted_from']}"]
    lines.append(
        f"{'RESOURCE':<40} {'CLASS':<20} {'STORED':>10} {'GB-MONTHS':>11} "
        f"{'ACCRUED':>12} {'PROJECTED':>12}"
    )
    for bucket in report["buckets"]:
        for line in bucket["classes"]:
            lines.append(
                f"{'s3://' + bucket['bucket']:<40} {line['storage_class']:<20} "
                f"{_size(line['bytes']):>10} {line['gb_months']:>11.6f} "
                f"{_usd(line['accrued_usd']['total']):>12} "
                f"{_usd(line['projected_usd']['total']):>12}"
            )
    for table in report["tables"]:
        lines.append(
            f"{'dynamodb://' + table['table']:<40} {'(table)':<20} {_size(table['bytes']):>10} "
            f"{table['gb_months']:>11.6f} {_usd(table['accrued_usd']['total']):>12} "
            f"{_usd(table['projected_usd']['total']):>12}"
        )
    if not report["buckets"] and not report["tables"]:
        lines.append("(nothing stored or requested this month)")
    total = report["total"]
    lines.append(
        f"{'TOTAL':<40} {'':<20} {'':>10} {'':>11} "
        f"{_usd(total['accrued_usd']['total']):>12} {_usd(total['projected_usd']['total']):>12}"
    )
    parts = total["projected_usd"]
    lines.append(
        "projected: "
        + ", ".join(
            f"{kind.replace('_', ' ')} {_usd(parts[kind])}"
            for kind in ("storage", "requests", "retrieval", "early_deletion")
        )
    )
    return lines


def render_preview(result: dict[str, Any], limit: int) -> list[str]:
    before, after = result["monthly_storage_usd"]["before"], result["monthly_storage_usd"]["after"]
    counts = result["counts"]
    lines = [
        f"Lifecycle preview of s3://{result['bucket']} from {result['now']}, "
        f"{result['horizon_days']} days: {result['versions']} versions read",
        "actions: " + (", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"),
        f"monthly storage: {_usd(before)} now, {_usd(after)} after "
        f"({_usd(after - before)} a month)",
        f"one-time: transition requests {_usd(result['one_time_usd']['transition_requests'])}, "
        f"early deletion {_usd(result['one_time_usd']['early_deletion'])}",
    ]
    shown = result["actions"][:limit]
    if shown:
        lines.append(f"{'WHEN (UTC)':<21} {'ACTION':<21} {'FROM':<13} {'TO':<13} KEY")
    for action in shown:
        lines.append(
            f"{action['at']:<21} {action['action']:<21} {action['from_class']:<13} "
            f"{action['to_class'] or '-':<13} {action['key']}"
        )
    left = sum(counts.values()) - len(shown)
    if left > 0:
        lines.append(f"... and {left} more (--limit, --json)")
    return lines


def preview_command(args: argparse.Namespace, remote: Any) -> int:
    target = args.target or ""
    if not target.startswith("s3://") or not target[5:].strip("/"):
        print("strata: --lifecycle needs a bucket: s3://bucket", file=sys.stderr)
        return 2
    try:
        with open(args.lifecycle, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        print(f"strata: cannot read {args.lifecycle}: {exc.strerror}", file=sys.stderr)
        return 2
    query = [
        ("bucket", target[5:].strip("/")),
        ("days", str(args.days)),
        ("limit", str(max(args.limit, 0) if not args.json else 100_000)),
    ]
    try:
        status, answer = remote.call("POST", "/_strata/cost/lifecycle", query=query, body=body)
        result = json_or_raise(status, answer)
    except RemoteError as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("\n".join(render_preview(result, args.limit)))
    return 0


def cost_command(args: argparse.Namespace, remote: Any) -> int:
    if args.lifecycle:
        return preview_command(args, remote)
    query = [("month", args.month)] if args.month else []
    try:
        report = remote.admin("GET", "cost", query)
    except RemoteError as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("\n".join(render(report)))
    return 0
