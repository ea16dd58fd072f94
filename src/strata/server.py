"""Run the ASGI app on an HTTP server (granian, or uvicorn with uvloop and httptools)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import shutil
import socket
import ssl
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from strata import __version__, datadir, listener, logs, tls
from strata.app import Strata, build
from strata.config import Config
from strata.credentials import FILE_NAME
from strata.datadir import DataDirInUse

if TYPE_CHECKING:
    from granian.server.embed import Server as EmbeddedServer

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


@dataclass(frozen=True, slots=True)
class Listening:
    """One listening socket and whether its connections speak TLS."""

    sock: socket.socket
    port: int
    tls: bool

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


def listen_plan(config: Config) -> list[tuple[int, bool]]:
    """(port, tls) to listen on: plain HTTP, HTTPS alone, or both side by side."""
    if not config.tls_cert:
        return [(config.port, False)]
    if not config.https_port:
        return [(config.port, True)]
    return [(config.port, False), (config.https_port, True)]


def _endpoint(config: Config, port: int, scheme: str) -> str:
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"{scheme}://{host}:{port}"


def _banner(strata: Strata) -> str:
    config = strata.config
    endpoints = [
        _endpoint(config, port, "https" if on_tls else "http")
        for port, on_tls in listen_plan(config)
    ]
    endpoint = endpoints[0]
    command = _command()
    data_flag = "" if config.data_dir == Config().data_dir else f" --data-dir {config.data_dir}"
    lines = [
        f"Strata {__version__}: S3 and DynamoDB on {' and '.join(endpoints)}",
        f"  data directory: {strata.store.engine.path.rsplit('/', 1)[0]}",
    ]
    if config.tls_cert:
        lines.append(f"  TLS certificate: {config.tls_cert}")
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
    verify = f" --ca-bundle {config.tls_cert}" if endpoint.startswith("https") else ""
    lines.append(f"  try: AWS_ENDPOINT_URL={endpoint} aws s3 ls{verify}")
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
    context = None
    if config.tls_cert:
        try:  # before binding: a bad certificate is a message, not a worker's crash
            context = tls.server_context(config.tls_cert, config.tls_key)
        except tls.TlsError as exc:
            print(f"strata: {exc}", file=sys.stderr)
            return 2
    listening: list[Listening] = []
    try:
        for port, on_tls in listen_plan(config):
            listening.append(Listening(listener.bind(config.host, port, BACKLOG), port, on_tls))
    except listener.ListenError as exc:
        for each in listening:
            each.sock.close()
        print(f"strata: {exc}", file=sys.stderr)
        return 1
    try:
        strata = build(config)
    except BaseException:
        for each in listening:
            each.sock.close()
        raise
    started = False

    def announce() -> None:
        nonlocal started
        started = True
        print(_banner(strata), flush=True)

    serving = asyncio.Event()  # the app has started: granian's other listeners open
    strata.app.startup_hooks.append(serving.set)
    strata.app.startup_hooks.append(announce)  # last: after every other start-up hook
    try:
        if config.server == "granian":
            code = _serve_granian(strata, listening, connections_max, serving)
        else:
            code = _serve_uvicorn(strata, listening, connections_max, context)
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


def _serve_granian(
    strata: Strata, listening: list[Listening], connections_max: int, serving: asyncio.Event
) -> int:
    """Granian's embedded server: Rust HTTP (and TLS), our ASGI app on this process's uvloop.

    One embedded server per listening socket, all on one loop and one app: the first runs
    the app's lifespan, the others (``ASGINL``: no lifespan) open once it has started.
    """
    import signal

    import uvloop

    from strata.silent_connections import SilentConnectionCloser

    config = strata.config
    closers = [
        SilentConnectionCloser(each.sock.fileno(), each.port, config.header_timeout_s)
        for each in listening
    ]
    servers = [
        _granian_server(strata, each, connections_max, lifespan=index == 0)
        for index, each in enumerate(listening)
    ]

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for server in servers:
                server.stop()  # type: ignore[no-untyped-call]

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        first = asyncio.ensure_future(servers[0].serve())
        if len(servers) > 1:
            started = asyncio.ensure_future(serving.wait())
            await asyncio.wait([first, started], return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if not first.done():
                others = [asyncio.ensure_future(server.serve()) for server in servers[1:]]
                await asyncio.gather(*others)
        await first

    for closer in closers:
        closer.start()
    try:
        uvloop.run(main())
    finally:
        for closer in closers:
            closer.stop()
    return 0


def _granian_server(
    strata: Strata, listening: Listening, connections_max: int, *, lifespan: bool
) -> EmbeddedServer:
    from pathlib import Path

    from granian._granian import SocketHolder
    from granian.constants import Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    config = strata.config
    fd = listening.sock.detach()  # granian owns the descriptor from here

    class PreboundServer(Server):  # type: ignore[misc]
        """Serves our socket instead of binding its own with SO_REUSEPORT (listener.py)."""

        def _init_shared_socket(self) -> None:
            self._ssp = None
            self._shd = SocketHolder(fd, False, BACKLOG)  # type: ignore[assignment,call-arg]
            self._sfd = fd  # type: ignore[assignment]

    # hyper's header_read_timeout also bounds the wait for a keep-alive connection's next
    # request: granian has one timer for both, the shorter of the two settings.
    head_timeout_s = min(config.header_timeout_s, config.keep_alive_timeout_s)
    server: EmbeddedServer = PreboundServer(
        strata.app,
        address=config.host,
        port=listening.port,
        interface=Interfaces.ASGI if lifespan else Interfaces.ASGINL,
        backlog=BACKLOG,
        backpressure=connections_max,
        http1_settings=HTTP1Settings(header_read_timeout=int(head_timeout_s * 1000)),
        log_enabled=False,
        ssl_cert=Path(config.tls_cert) if listening.tls else None,
        ssl_key=Path(config.tls_key) if listening.tls else None,
        ssl_protocol_min=SSLProtocols.tls12,
    )
    return server


def _serve_uvicorn(
    strata: Strata,
    listening: list[Listening],
    connections_max: int,
    context: ssl.SSLContext | None,
) -> int:
    import uvicorn

    from strata.uvicorn_protocol import GuardedHttpToolsProtocol

    config = strata.config
    protocol = GuardedHttpToolsProtocol.configured(
        header_timeout_s=config.header_timeout_s, connections_max=connections_max
    )

    class TwoSchemeServer(uvicorn.Server):
        """uvicorn with a TLS context per socket: its own takes one for every socket."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.should_exit:
                return
            loop = asyncio.get_running_loop()
            for each in listening:
                if not each.tls:
                    continue
                server = await loop.create_server(
                    lambda: self.config.http_protocol_class(  # type: ignore[call-arg]
                        config=self.config,
                        server_state=self.server_state,
                        app_state=self.lifespan.state,
                    ),
                    sock=each.sock,
                    ssl=context,
                    ssl_handshake_timeout=config.header_timeout_s,
                    backlog=BACKLOG,
                )
                self.servers.append(server)

    server = TwoSchemeServer(
        uvicorn.Config(
            strata.app,
            host=config.host,
            port=config.port,
            loop="uvloop",
            http=protocol,
            lifespan="on",
            access_log=False,
            server_header=False,
            # The connection's address and scheme, never X-Forwarded-For/-Proto: uvicorn
            # trusts those from 127.0.0.1 by default, which let a local client choose its
            # aws:SourceIp and aws:SecureTransport.
            proxy_headers=False,
            log_level=config.log_level,
            timeout_keep_alive=config.keep_alive_timeout_s,  # type: ignore[arg-type]  # call_later
            backlog=BACKLOG,
        )
    )
    server.run(sockets=[each.sock for each in listening if not each.tls])
    return 0 if server.started else 1
