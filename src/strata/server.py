"""Run the ASGI app on an HTTP server (granian, or uvicorn with uvloop and httptools)."""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import socket
import sys

from strata import __version__, datadir, listener, logs
from strata.app import Strata, build
from strata.config import Config
from strata.credentials import FILE_NAME
from strata.datadir import DataDirInUse

log = logging.getLogger("strata")

BACKLOG = 2048  # connections the kernel queues while the server is busy

# What each `server` choice imports; all of it comes with a plain `pip install strata`
# (tests/unit/test_server.py checks the [project] dependencies).
SERVER_MODULES = {
    "granian": ("granian", "granian.server.embed", "uvloop"),
    "uvicorn": ("uvicorn", "uvloop", "httptools"),
}


def missing_server_module(server: str) -> str | None:
    """Why the chosen HTTP server cannot run here, or None: checked before any start-up work."""
    for module in SERVER_MODULES[server]:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return (
                f"strata: server '{server}' cannot start: module '{module}' is not importable"
                f" ({exc}); reinstall strata (`pip install strata`) or choose another server"
                f" with STRATA_SERVER ({', '.join(sorted(SERVER_MODULES))})"
            )
    return None


def _command() -> str:
    """How this shell can run ``strata`` again: ``make serve`` runs ``.venv/bin/strata``."""
    argv0 = sys.argv[0] if sys.argv else ""
    on_path = shutil.which("strata")
    if os.path.basename(argv0) != "strata" or not os.path.dirname(argv0):
        return "strata"
    if on_path is not None and os.path.abspath(on_path) == os.path.abspath(argv0):
        return "strata"
    relative = os.path.relpath(argv0)
    return os.path.abspath(argv0) if relative.startswith("..") else relative


def _banner(strata: Strata) -> str:
    config = strata.config
    endpoint = f"http://{config.host}:{config.port}"
    command = _command()
    data_flag = "" if config.data_dir == Config().data_dir else f" --data-dir {config.data_dir}"
    lines = [
        f"Strata {__version__}: S3 and DynamoDB on {endpoint}",
        f"  data directory: {strata.store.engine.path.rsplit('/', 1)[0]}",
    ]
    if not config.auth:
        lines.append(
            "  authentication is OFF (auth = false): any access key works, e.g. test/test,"
            " in any region"
        )
    elif strata.root_generated:
        lines += [
            "  Root credentials were generated (stored with mode 0600 in",
            f"  {config.data_dir}/{FILE_NAME}):",
            f"    AWS_ACCESS_KEY_ID={strata.root.access_key}",
            f"    AWS_SECRET_ACCESS_KEY={strata.root.secret_key}",
            f"  `{command} keys show{data_flag}` prints them again.",
        ]
    else:
        lines.append(f"  credentials: `{command} keys show{data_flag}` prints the root key")
    lines.append(f"  try: AWS_ENDPOINT_URL={endpoint} aws s3 ls")
    return "\n".join(lines)


def serve(config: Config) -> int:
    """Start-up in the order that keeps failures cheap and clear, then serve until a signal.

    1. The server module imports (else a message, not a traceback).
    2. The data directory's lock, before anything touches the directory.
    3. The open-file limit, then the listening socket: a busy port fails here, by name.
    4. Only then the engine, blob GC and credentials (``build``); the banner with a new
       root key is printed once the app has started on the listening socket.
    """
    missing = missing_server_module(config.server)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    logs.configure(config.log_level, config.log_format)
    if config.access_log:
        logging.getLogger("strata.access").setLevel(logging.INFO)
    else:
        logging.getLogger("strata.access").setLevel(logging.WARNING)
    try:
        held = datadir.lock(config.data_dir)
    except DataDirInUse as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    try:
        return _serve_locked(config)
    finally:
        held.release()


def _serve_locked(config: Config) -> int:
    before, after = listener.raise_fd_limit()
    if after != before:
        log.info("open-file limit raised from %d to %d (the hard limit)", before, after)
    connections_max = config.max_connections or listener.default_max_connections(after)
    log.info("serving at most %d connections at once", connections_max)
    try:
        sock = listener.bind(config.host, config.port, BACKLOG)
    except listener.ListenError as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    try:
        strata = build(config)
    except BaseException:
        sock.close()
        raise
    started = False

    def announce() -> None:
        nonlocal started
        started = True
        print(_banner(strata), flush=True)

    strata.app.startup_hooks.append(announce)  # last: after every other start-up hook
    try:
        if config.server == "granian":
            code = _serve_granian(strata, sock, connections_max)
        else:
            code = _serve_uvicorn(strata, sock, connections_max)
    finally:
        strata.close()
    if not started and strata.root_generated:
        print(
            f"strata: start-up failed; the generated root credentials are kept in"
            f" {config.data_dir}/{FILE_NAME}"
            f" (`strata keys list --show-secrets --data-dir {config.data_dir}`)",
            file=sys.stderr,
        )
    return code if started else (code or 1)


def _serve_granian(strata: Strata, sock: socket.socket, connections_max: int) -> int:
    """Granian's embedded server: Rust HTTP, our ASGI app on this process's uvloop."""
    import asyncio
    import signal

    import uvloop
    from granian._granian import SocketHolder
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    from strata.silent_connections import SilentConnectionCloser

    config = strata.config
    closer = SilentConnectionCloser(sock.fileno(), sock.getsockname()[1], config.header_timeout_s)
    fd = sock.detach()  # granian owns the descriptor from here

    class PreboundServer(Server):  # type: ignore[misc]
        """Serves our socket instead of binding its own with SO_REUSEPORT (listener.py)."""

        def _init_shared_socket(self) -> None:
            self._ssp = None
            self._shd = SocketHolder(fd, False, BACKLOG)  # type: ignore[assignment,call-arg]
            self._sfd = fd  # type: ignore[assignment]

    # hyper's header_read_timeout also bounds the wait for a keep-alive connection's next
    # request: granian has one timer for both, the shorter of the two settings.
    head_timeout_s = min(config.header_timeout_s, config.keep_alive_timeout_s)
    server = PreboundServer(
        strata.app,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        backlog=BACKLOG,
        backpressure=connections_max,
        http1_settings=HTTP1Settings(header_read_timeout=int(head_timeout_s * 1000)),
        log_enabled=False,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    closer.start()
    try:
        uvloop.run(main())
    finally:
        closer.stop()
    return 0


def _serve_uvicorn(strata: Strata, sock: socket.socket, connections_max: int) -> int:
    import uvicorn

    from strata.uvicorn_protocol import GuardedHttpToolsProtocol

    config = strata.config
    protocol = GuardedHttpToolsProtocol.configured(
        header_timeout_s=config.header_timeout_s, connections_max=connections_max
    )

    server = uvicorn.Server(
        uvicorn.Config(
            strata.app,
            host=config.host,
            port=config.port,
            loop="uvloop",
            http=protocol,
            lifespan="on",
            access_log=False,
            server_header=False,
            log_level=config.log_level,
            timeout_keep_alive=config.keep_alive_timeout_s,  # type: ignore[arg-type]  # call_later
            backlog=BACKLOG,
        )
    )
    server.run(sockets=[sock])
    return 0 if server.started else 1
