"""Run the ASGI app on an HTTP server (granian, or uvicorn with uvloop and httptools)."""

from __future__ import annotations

import importlib
import logging
import sys

from strata import __version__
from strata.app import Strata, build
from strata.config import Config
from strata.credentials import FILE_NAME

log = logging.getLogger("strata")

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


def _banner(strata: Strata) -> str:
    config = strata.config
    endpoint = f"http://{config.host}:{config.port}"
    lines = [
        f"Strata {__version__}: S3 and DynamoDB on {endpoint}",
        f"  data directory: {strata.store.engine.path.rsplit('/', 1)[0]}",
    ]
    if strata.root_generated:
        lines += [
            "  Root credentials were generated (shown only this once; stored with mode 0600 in",
            f"  {config.data_dir}/{FILE_NAME}):",
            f"    AWS_ACCESS_KEY_ID={strata.root.access_key}",
            f"    AWS_SECRET_ACCESS_KEY={strata.root.secret_key}",
        ]
    else:
        lines.append(
            f"  credentials: `strata keys list --data-dir {config.data_dir}` shows the access keys"
        )
    lines.append(f"  try: aws --endpoint-url {endpoint} s3 ls")
    return "\n".join(lines)


def serve(config: Config) -> int:
    missing = missing_server_module(config.server)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if config.access_log:
        logging.getLogger("strata.access").setLevel(logging.INFO)
    else:
        logging.getLogger("strata.access").setLevel(logging.WARNING)
    strata = build(config)
    print(_banner(strata), flush=True)
    try:
        if config.server == "granian":
            return _serve_granian(strata)
        return _serve_uvicorn(strata)
    finally:
        strata.close()


def _serve_granian(strata: Strata) -> int:
    """Granian's embedded server: Rust HTTP, our ASGI app on this process's uvloop."""
    import asyncio
    import signal

    import uvloop
    from granian.constants import Interfaces
    from granian.server.embed import Server

    config = strata.config
    server = Server(
        strata.app,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        backlog=2048,
        log_enabled=False,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    uvloop.run(main())
    return 0


def _serve_uvicorn(strata: Strata) -> int:
    import uvicorn

    config = strata.config

    server = uvicorn.Server(
        uvicorn.Config(
            strata.app,
            host=config.host,
            port=config.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            server_header=False,
            log_level=config.log_level,
            timeout_keep_alive=30,
            backlog=2048,
        )
    )
    server.run()
    return 0 if server.started else 1
