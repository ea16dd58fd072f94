"""Start and stop a real ``strata server`` process for end-to-end tests."""

from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ACCESS_KEY = "AKSATESTROOT00000000"
SECRET_KEY = "test/secret/key/for/strata/e2e/0000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flushes; what was acknowledged must survive."""
        self.process.kill()
        self.process.wait()


def _limit_files(nofile: tuple[int, int]) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, nofile)


def start_server(
    data_dir: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    inherit_root: bool = True,
    nofile: tuple[int, int] | None = None,
    https_ca: str | None = None,
) -> RunningServer:
    """Start a server; with ``inherit_root=False`` it generates its own root key pair.

    ``nofile`` sets the server's open-file limit (soft, hard) as a low-limit host would.
    ``https_ca``: the port speaks HTTPS alone; health is checked trusting this certificate.
    """
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-server-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    if inherit_root:
        full_env["STRATA_ROOT_ACCESS_KEY"] = ACCESS_KEY
        full_env["STRATA_ROOT_SECRET_KEY"] = SECRET_KEY
    full_env["STRATA_LOG_LEVEL"] = "warning"
    # Hundreds of test servers: a 1 MiB disk reserve each, not the default 64 MiB.
    full_env["STRATA_DISK_RESERVE_BYTES"] = str(1024 * 1024)
    full_env.update(env or {})
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "strata.cli",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
            preexec_fn=None if nofile is None else partial(_limit_files, nofile),
        )
    server = RunningServer(process, port, data_dir, log_path)
    scheme = "https" if https_ca else "http"
    context = ssl.create_default_context(cafile=https_ca) if https_ca else None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"strata server exited early:\n{server.log()}")
        try:
            health = f"{scheme}://127.0.0.1:{port}/_strata/health"
            with urllib.request.urlopen(health, timeout=1, context=context) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"strata server did not become healthy:\n{server.log()}")
