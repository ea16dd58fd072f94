"""The ``strata`` commands that talk to a running server: ``snapshot``, ``reset``, ``ls``,
``clock``.

They reach it through ``strata.remote`` (standard library only). ``strata ls`` without an
argument asks ``GET /_strata/summary`` (one request: the server counts each bucket's
objects and bytes, which S3's own API gives only by listing every key);
``ls s3://bucket/prefix`` and ``ls dynamodb://table`` use ListObjectsV2 and Scan, as any
client would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from typing import Any

from strata import audit_command, cost_command
from strata.remote import Remote, RemoteError, find_credentials, find_endpoint, find_region

S3_NAMESPACE = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="server URL (default: $AWS_ENDPOINT_URL or :4566)")
    parser.add_argument(
        "--data-dir", help="a local data directory whose root key signs (when AWS_* are unset)"
    )
    parser.add_argument("--config", help="TOML configuration file (for its data_dir)")


def add_commands(commands: Any) -> None:
    """Add ``snapshot``, ``reset``, ``ls`` and ``clock`` to the ``strata`` command's
    subparsers."""
    snapshot = commands.add_parser("snapshot", help="save, restore, list or delete snapshots")
    actions = snapshot.add_subparsers(dest="action", required=True)
    for name, text in (
        ("save", "snapshot the whole store of the running server"),
        ("restore", "replace the whole store by a snapshot"),
        ("delete", "delete a snapshot"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("name")
        if name == "save":
            sub.add_argument("--replace", action="store_true", help="overwrite a snapshot")
        add_arguments(sub)
    add_arguments(actions.add_parser("list", help="list snapshots"))
    snapshot.set_defaults(func=snapshot_command)

    reset = commands.add_parser("reset", help="remove every bucket, object, table and item")
    add_arguments(reset)
    reset.set_defaults(func=reset_command)

    ls = commands.add_parser(
        "ls", help="buckets and tables; s3://bucket/prefix keys; dynamodb://table items"
    )
    ls.add_argument("target", nargs="?", help="s3://bucket[/prefix] or dynamodb://table")
    ls.add_argument("--recursive", action="store_true", help="s3: every key, no PRE folders")
    ls.add_argument("--limit", type=int, help="keys (default 1000) or items (default 20)")
    add_arguments(ls)
    ls.set_defaults(func=ls_command)

    clock = commands.add_parser("clock", help="show the store clock or move it forward")
    clock_actions = clock.add_subparsers(dest="action", required=True)
    add_arguments(clock_actions.add_parser("show", help="the store clock and its offset"))
    advance = clock_actions.add_parser("advance", help="move it ahead: 90s, 15m, 12h, 31d")
    advance.add_argument("duration")
    add_arguments(advance)
    set_to = clock_actions.add_parser("set", help="move it to an ISO 8601 time (UTC if naive)")
    set_to.add_argument("time")
    add_arguments(set_to)
    clock.set_defaults(func=clock_command)
    audit_command.add_command(commands, add_arguments, _remote)
    cost_command.add_command(commands, add_arguments, _remote)


def _remote(args: argparse.Namespace) -> Remote:
    data_dir = args.data_dir
    if data_dir is None:
        from strata.config import ConfigError, load

        try:
            data_dir = load(args.config).data_dir
        except ConfigError:
            data_dir = None
    credentials = find_credentials(data_dir)
    return Remote(find_endpoint(args.endpoint), credentials, find_region())


def _fail(exc: RemoteError) -> int:
    print(f"strata: {exc}", file=sys.stderr)
    return 1


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _when(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_s))


# -- snapshot, reset -----------------------------------------------------------------------


def snapshot_command(args: argparse.Namespace) -> int:
    try:
        remote = _remote(args)
        if args.action == "list":
            listed = remote.admin("GET", "snapshots")["snapshots"]
            if not listed:
                print("no snapshots")
            for info in listed:
                size = human_bytes(info["db_bytes"] + info["blob_bytes"])
                print(
                    f"{info['name']:<24} {_when(info['created_s'])} UTC  "
                    f"{info['blobs']:>8,} blobs  {size:>10}"
                )
        elif args.action == "save":
            query = [("replace", "true")] if args.replace else []
            info = remote.admin("POST", f"snapshots/{args.name}", query)
            size = human_bytes(info["db_bytes"] + info["blob_bytes"])
            print(f"saved snapshot {args.name}: {info['blobs']:,} blobs, {size}")
        elif args.action == "delete":
            remote.admin("DELETE", f"snapshots/{args.name}")
            print(f"deleted snapshot {args.name}")
        else:
            return _restore(remote, args.name)
    except RemoteError as exc:
        return _fail(exc)
    return 0


def _restore(remote: Remote, name: str) -> int:
    """Print each stage as the server reports it."""
    for event in remote.admin_events("POST", f"snapshots/{name}/restore"):
        stage = event.get("stage")
        elapsed = f"{event.get('elapsed_s', 0):.2f} s"
        if stage == "staging":
            print(f"[{elapsed}] staging snapshot {name} ({event.get('blobs', 0):,} blobs)")
        elif stage == "swapping":
            running = event.get("running_requests", 0)
            print(f"[{elapsed}] swapping the store ({running} requests running)")
        elif stage == "done":
            interrupted = event.get("interrupted", 0)
            note = f"; {interrupted} requests were interrupted" if interrupted else ""
            print(f"[{elapsed}] restored snapshot {name}{note}")
            return 0
        elif stage == "failed":
            print(f"strata: restore failed: {event.get('message')}", file=sys.stderr)
            return 1
        sys.stdout.flush()
    print("strata: the server ended the restore without an answer", file=sys.stderr)
    return 1


def reset_command(args: argparse.Namespace) -> int:
    try:
        result = _remote(args).admin("POST", "reset")
    except RemoteError as exc:
        return _fail(exc)
    print(f"reset: every bucket and table removed in {result['elapsed_s']:.2f} s")
    return 0


# -- ls ------------------------------------------------------------------------------------


def ls_command(args: argparse.Namespace) -> int:
    target: str | None = args.target
    try:
        remote = _remote(args)
        if target is None:
            _summary(remote)
        elif target.startswith("s3://"):
            bucket, _, prefix = target[len("s3://") :].partition("/")
            if not bucket:
                _summary(remote, tables=False)
            else:
                _objects(remote, bucket, prefix, args.recursive, args.limit or 1000)
        elif target.startswith("dynamodb://"):
            table = target[len("dynamodb://") :].strip("/")
            if not table:
                _summary(remote, buckets=False)
            else:
                _items(remote, table, args.limit or 20)
        else:
            print("strata: ls takes s3://bucket[/prefix] or dynamodb://table", file=sys.stderr)
            return 2
    except RemoteError as exc:
        return _fail(exc)
    return 0


def _summary(remote: Remote, *, buckets: bool = True, tables: bool = True) -> None:
    summary = remote.admin("GET", "summary")
    if buckets:
        print(f"{'BUCKET':<40} {'OBJECTS':>10} {'SIZE':>11}  CREATED (UTC)")
        for b in summary["buckets"]:
            print(
                f"{'s3://' + b['name']:<40} {b['objects']:>10,} {human_bytes(b['size_bytes']):>11}"
                f"  {_when(b['created_ms'] / 1000)}"
            )
        if not summary["buckets"]:
            print("(no buckets)")
    if buckets and tables:
        print()
    if tables:
        print(f"{'TABLE':<40} {'ITEMS':>10} {'SIZE':>11}  STATUS  GSIS")
        for t in summary["tables"]:
            print(
                f"{'dynamodb://' + t['name']:<40} {t['items']:>10,} "
                f"{human_bytes(t['size_bytes']):>11}  {t['status']:<6}  {t['indexes']}"
            )
        if not summary["tables"]:
            print("(no tables)")


def _objects(remote: Remote, bucket: str, prefix: str, recursive: bool, limit: int) -> None:
    from defusedxml import ElementTree

    shown = 0
    token = ""
    while shown < limit:
        query = [("list-type", "2"), ("prefix", prefix), ("max-keys", str(min(1000, limit)))]
        if not recursive:
            query.append(("delimiter", "/"))
        if token:
            query.append(("continuation-token", token))
        root = ElementTree.fromstring(remote.s3("GET", f"/{bucket}", query))
        for common in root.iter(f"{S3_NAMESPACE}CommonPrefixes"):
            print(f"{'PRE':>41} {common.findtext(f'{S3_NAMESPACE}Prefix')}")
            shown += 1
        for item in root.iter(f"{S3_NAMESPACE}Contents"):
            modified = (item.findtext(f"{S3_NAMESPACE}LastModified") or "")[:19].replace("T", " ")
            size = int(item.findtext(f"{S3_NAMESPACE}Size") or 0)
            storage_class = item.findtext(f"{S3_NAMESPACE}StorageClass") or "STANDARD"
            key = item.findtext(f"{S3_NAMESPACE}Key")
            print(f"{modified}  {size:>12,}  {storage_class:<12} {key}")
            shown += 1
        token = root.findtext(f"{S3_NAMESPACE}NextContinuationToken") or ""
        if root.findtext(f"{S3_NAMESPACE}IsTruncated") != "true" or not token:
            return
    print(f"(first {shown} shown; --limit N for more)")


def plain_value(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as plain JSON (numbers exact, sets as lists)."""
    ((kind, inner),) = value.items()
    if kind == "N":
        return Decimal(inner)
    if kind == "NS":
        return [Decimal(n) for n in inner]
    if kind == "M":
        return {k: plain_value(v) for k, v in inner.items()}
    if kind == "L":
        return [plain_value(v) for v in inner]
    if kind == "NULL":
        return None
    return inner  # S, B (base64), BOOL, SS, BS


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _items(remote: Remote, table: str, limit: int) -> None:
    answer = remote.dynamodb("Scan", {"TableName": table, "Limit": limit})
    for item in answer.get("Items", []):
        plain = {name: plain_value(v) for name, v in sorted(item.items())}
        print(json.dumps(plain, default=_number, ensure_ascii=False))
    count = answer.get("Count", 0)
    more = " (more: --limit N)" if "LastEvaluatedKey" in answer else ""
    print(f"({count} items{more})", file=sys.stderr)


# -- clock ---------------------------------------------------------------------------------

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``15m``, ``12h``, ``31d`` or ``2w``; ValueError otherwise."""
    text = text.strip().lower()
    unit = _UNITS_S.get(text[-1:]) if text else None
    number = text[:-1] if unit is not None else text
    seconds = float(number) * (unit or 1)
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(text)
    return seconds


def clock_command(args: argparse.Namespace) -> int:
    change: dict[str, Any] | None = None
    if args.action == "advance":
        try:
            change = {"advance_s": parse_duration(args.duration)}
        except ValueError:
            print(
                f"strata: not a duration: {args.duration} (e.g. 90s, 15m, 12h, 31d)",
                file=sys.stderr,
            )
            return 2
    elif args.action == "set":
        change = {"set": args.time}
    try:
        shown = _remote(args).clock(change)
    except RemoteError as exc:
        return _fail(exc)
    print(f"{shown['now']}  (offset {shown['offset_s']:.3f} s)")
    return 0
