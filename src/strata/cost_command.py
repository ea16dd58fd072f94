"""``strata cost``: what the running server's storage costs this month, accrued and projected.

It reads ``GET /_strata/cost`` (root key): per bucket and storage class, and per table,
the month's cost so far by the store clock and the whole month's if it goes on as now.
``--month YYYY-MM`` shows an earlier month; ``--json`` prints the document as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from strata.remote import RemoteError

_GB = 1024**3


def add_command(commands: Any, add_arguments: Any, remote: Any) -> None:
    cost = commands.add_parser(
        "cost", help="this month's storage cost per bucket, class and table (accrued, projected)"
    )
    cost.add_argument("--month", help="an earlier month, YYYY-MM (default: this one)")
    cost.add_argument("--json", action="store_true", help="the whole report as JSON")
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


def cost_command(args: argparse.Namespace, remote: Any) -> int:
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
