"""The ``strata`` command: run the server, manage access keys, benchmark endpoints; the
commands that talk to a running server (snapshot, reset, ls) are in ``console.py``."""

from __future__ import annotations

import argparse
import os
import sys
import time

from strata import __version__
from strata.config import ConfigError, load


def _server(args: argparse.Namespace) -> int:
    from strata.app import StartupRefused
    from strata.server import serve

    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "https_port": args.https_port,
    }
    if args.recover_wal:
        overrides["wal_recovery"] = "point-in-time"
    try:
        config = load(args.config, overrides)
    except ConfigError as exc:
        print(f"strata: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return serve(config)
    except StartupRefused as exc:
        print(f"strata: refusing to start: {exc}", file=sys.stderr)
        return 1


def _tls(args: argparse.Namespace) -> int:
    from strata.tls import TlsError, write_selfsigned

    hosts = tuple(args.host) if args.host else ("localhost", "127.0.0.1", "::1")
    try:
        write_selfsigned(args.cert, args.key, hosts, args.days, force=args.force)
    except (TlsError, OSError) as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.cert} (self-signed for {', '.join(hosts)}, {args.days} days)")
    print(f"  and its key {args.key} (mode 0600)")
    print(f"  serve: strata server --tls-cert {args.cert} --tls-key {args.key}")
    print(f"  trust: AWS_CA_BUNDLE={args.cert}, or boto3 verify={args.cert!r}")
    return 0


def _data_dir(args: argparse.Namespace) -> str:
    if args.data_dir:
        return str(args.data_dir)
    try:
        return load(args.config).data_dir
    except ConfigError as exc:
        print(f"strata: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2)


def _keys(args: argparse.Namespace) -> int:
    from strata.credentials import KeyRing, generate_pair

    data_dir = _data_dir(args)
    ring = KeyRing(data_dir)
    if args.action == "create":
        pair = generate_pair()
        ring.add(pair)
        print(f"AWS_ACCESS_KEY_ID={pair.access_key}")
        print(f"AWS_SECRET_ACCESS_KEY={pair.secret_key}")
        print(f"(stored in {ring.path}; a running server picks it up within a second)")
        return 0
    if args.action == "list":
        pairs = ring.pairs()
        if not pairs:
            print(f"no keys in {ring.path} (the server creates the root key at first start)")
            return 0
        for pair in pairs:
            created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(pair.created_s))
            secret = pair.secret_key if args.show_secrets else pair.secret_key[:4] + "…"
            role = "root (primary)" if pair.root else "root"
            print(f"{pair.access_key}  {secret}  {role}  created {created} UTC")
        return 0
    if args.action == "show" and args.access_key is None:
        found = ring.root()
        if found is None:
            print(
                f"strata: no root key in {ring.path} (the server creates it at first start)",
                file=sys.stderr,
            )
            return 1
    else:
        found = next((p for p in ring.pairs() if p.access_key == args.access_key), None)
    if found is None:
        print(f"strata: no access key {args.access_key} in {ring.path}", file=sys.stderr)
        return 1
    if args.action == "show":
        # The lines a shell can `eval` or paste into an environment file.
        print(f"AWS_ACCESS_KEY_ID={found.access_key}")
        print(f"AWS_SECRET_ACCESS_KEY={found.secret_key}")
        return 0
    # delete
    if found.root:
        print(
            "strata: the root key cannot be deleted (set STRATA_ROOT_* to replace it)",
            file=sys.stderr,
        )
        return 1
    ring.remove(args.access_key)
    print(f"deleted {args.access_key}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from strata.verify import verify

    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"strata: configuration error: {exc}", file=sys.stderr)
        return 2
    volume_dirs = {
        "hot": config.volume_hot_dir,
        "cold": config.volume_cold_dir,
        "archive": config.volume_archive_dir,
    }
    return verify(_data_dir(args), volume_dirs=volume_dirs)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        from strata.bench.command import run

        code: int = run(argv[1:])
        return code
    parser = argparse.ArgumentParser(
        prog="strata", description="S3- and DynamoDB-compatible storage on one durable core."
    )
    parser.add_argument("--version", action="version", version=f"strata {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    server = commands.add_parser("server", help="run the server")
    server.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port for every service (default 4566)")
    server.add_argument("--data-dir", help="where data lives (default ./data)")
    server.add_argument("--config", help="TOML configuration file")
    server.add_argument(
        "--recover-wal",
        action="store_true",
        help="start even if the WAL lost acknowledged writes (wal_recovery = point-in-time)",
    )
    server.add_argument("--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key)")
    server.add_argument("--tls-key", help="PEM private key of --tls-cert")
    server.add_argument(
        "--https-port",
        type=int,
        help="port for HTTPS beside HTTP on --port (default: HTTPS on --port alone)",
    )
    server.set_defaults(func=_server)

    tls = commands.add_parser("tls", help="TLS certificates for local use")
    tls_actions = tls.add_subparsers(dest="action", required=True)
    selfsigned = tls_actions.add_parser(
        "selfsigned", help="write a self-signed certificate and its key (for local use)"
    )
    selfsigned.add_argument("--cert", default="strata-cert.pem", help="certificate file")
    selfsigned.add_argument("--key", default="strata-key.pem", help="key file (mode 0600)")
    selfsigned.add_argument(
        "--host",
        action="append",
        help="DNS name or IP address it is for (repeatable; default localhost, 127.0.0.1, ::1)",
    )
    selfsigned.add_argument("--days", type=int, default=365, help="days it is valid (365)")
    selfsigned.add_argument("--force", action="store_true", help="replace existing files")
    tls.set_defaults(func=_tls)

    keys = commands.add_parser("keys", help="manage access keys")
    keys_actions = keys.add_subparsers(dest="action", required=True)
    for name, text in (
        ("create", "create an access key of the account root (IAM users: aws iam ...)"),
        ("list", "list the root's access keys"),
    ):
        sub = keys_actions.add_parser(name, help=text)
        sub.add_argument("--data-dir")
        sub.add_argument("--config")
        if name == "list":
            sub.add_argument("--show-secrets", action="store_true", help="print whole secret keys")
    for name, text in (
        ("show", "print an access key and its secret (no ACCESS_KEY: the root key)"),
        ("delete", "delete an access key"),
    ):
        sub = keys_actions.add_parser(name, help=text)
        sub.add_argument("access_key", nargs=None if name == "delete" else "?")
        sub.add_argument("--data-dir")
        sub.add_argument("--config")
    keys.set_defaults(func=_keys)

    check = commands.add_parser(
        "verify", help="check a stopped server's data directory for damage (exit 1 if any)"
    )
    check.add_argument("--data-dir")
    check.add_argument("--config")
    check.set_defaults(func=_verify)

    commands.add_parser("bench", help="benchmark an S3 or DynamoDB endpoint (strata bench -h)")

    from strata.console import add_commands  # snapshot, reset, ls: talk to a running server

    add_commands(commands)

    args = parser.parse_args(argv)
    # Data is the operator's alone: files 0600 and directories 0700, or stricter.
    os.umask(os.umask(0) | 0o077)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
