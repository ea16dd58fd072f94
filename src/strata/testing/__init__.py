"""Strata in your tests: a real server process, started in well under a second.

From any test framework::

    from strata.testing import Server

    with Server() as server:
        s3 = boto3.client("s3", **server.client_kwargs())
        s3.create_bucket(Bucket="b")
        server.reset()  # everything but credentials gone

With pytest the plugin (entry point ``strata``, this package) adds fixtures:
``strata_server`` (one server for the whole session), ``s3_client`` and
``dynamodb_client`` (boto3 clients on it) and ``strata_reset`` (an empty store for the
test that uses it). Nothing starts unless a test asks for one of them. Importing this
module needs neither pytest nor boto3.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from strata.remote import Credentials, Remote

__all__ = ["Server", "ServerError"]


class ServerError(RuntimeError):
    """The server process did not start (its log is in the message)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``python -m strata.cli server`` on 127.0.0.1 with its own data directory and root key.

    The attributes carry the names boto3 takes (``endpoint_url``, ``region_name``,
    ``aws_access_key_id``, ``aws_secret_access_key``): ``client_kwargs()`` is all four.
    Without ``data_dir`` a temporary directory is used and removed on ``stop``.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        region_name: str = "us-east-1",
        env: Mapping[str, str] | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = str(data_dir) if data_dir is not None else ""
        self.port = port or 0
        self.region_name = region_name
        self.aws_access_key_id = "AKSA" + secrets.token_hex(8).upper()
        self.aws_secret_access_key = secrets.token_urlsafe(30)
        self._env = dict(env or {})
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = ""

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client(service, **kwargs)`` (or ``resource``)."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region_name,
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": self.aws_secret_access_key,
        }

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` on this server (needs boto3 installed)."""
        import boto3

        return boto3.client(service, **{**self.client_kwargs(), **kwargs})

    @property
    def remote(self) -> Remote:
        credentials = Credentials(self.aws_access_key_id, self.aws_secret_access_key)
        return Remote(self.endpoint_url, credentials, self.region_name)

    # -- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Remove every bucket, object, table and item; credentials stay."""
        self.remote.admin("POST", "reset")

    def save_snapshot(self, name: str, *, replace: bool = True) -> dict[str, Any]:
        query = [("replace", "true")] if replace else []
        info: dict[str, Any] = self.remote.admin("POST", f"snapshots/{name}", query)
        return info

    def restore_snapshot(self, name: str) -> dict[str, Any]:
        """Replace the whole store by snapshot ``name``; returns the last progress event."""
        last: dict[str, Any] = {}
        for last in self.remote.admin_events("POST", f"snapshots/{name}/restore"):
            if last.get("stage") == "failed":
                raise ServerError(f"restore of {name} failed: {last.get('message')}")
        return last

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the store clock ``seconds`` ahead (forward only; it stays moved across
        restarts); background work that fell due runs within a few seconds."""
        return self.remote.clock({"advance_s": seconds})

    # -- process -------------------------------------------------------------------------

    def start(self) -> Server:
        if self._process is not None:
            return self
        if self._own_dir:
            self.data_dir = tempfile.mkdtemp(prefix="strata-test-")
        os.makedirs(self.data_dir, exist_ok=True)
        if not self.port:
            self.port = _free_port()
        self.log_path = os.path.join(self.data_dir, "server.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
        env.update(
            STRATA_ROOT_ACCESS_KEY=self.aws_access_key_id,
            STRATA_ROOT_SECRET_KEY=self.aws_secret_access_key,
            STRATA_REGION=self.region_name,
            STRATA_LOG_LEVEL="warning",
        )
        env.update(self._env)
        command = [sys.executable, "-m", "strata.cli", "server", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--data-dir", self.data_dir]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout_s
        health = f"{self.endpoint_url}/_strata/health"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = self._log()
                self._cleanup()
                raise ServerError(f"strata server exited at start:\n{log}")
            try:
                with urllib.request.urlopen(health, timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.01)
        log = self._log()
        self.stop()
        raise ServerError(f"strata server was not healthy in {self._start_timeout_s} s:\n{log}")

    def _log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._process = None
        if self._own_dir and self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


if sys.modules.get("pytest") is not None:  # loaded as the pytest plugin: the fixtures
    from strata.testing.fixtures import (  # noqa: F401
        dynamodb_client,
        s3_client,
        strata_reset,
        strata_server,
    )
