"""The systems the peer benchmark compares: how to install, start and stop each one.

Everything lives under benchmarks/.peers/ (git-ignored): a venv for the Python emulators,
node_modules for the npm ones, and run/<system>/ for data, logs and configs. Installs happen
here, when `make bench` runs, never in tests. Every server is started in its own process
group on 127.0.0.1 and stopped with that group, so nothing outlives the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PEERS = ROOT / ".peers"
VENV = PEERS / "venv"
NODE_MODULES = PEERS / "node_modules"
REPO = ROOT.parent

# Versions measured for docs/benchmarks.md; change them together with the figures.
PIP_PEERS = ("moto[server]==5.2.5", "ministack==1.5.33")
NPM_PEERS = ("s3rver@3.7.1", "dynalite@4.0.0")

STRATA_ACCESS_KEY = "benchAccessKey01"
STRATA_SECRET_KEY = "benchSecretKey0123456789abcdefghijklmnop"


def log(message: str) -> None:
    """Harness chatter goes to stderr, figures to stdout."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: Sequence[str], **kwargs: object) -> None:
    log("  $ " + " ".join(command))
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def install_python_peers() -> None:
    """moto (server mode) and ministack, in their own venv: their pins must not touch ours."""
    if (VENV / "bin" / "moto_server").exists() and (VENV / "bin" / "ministack").exists():
        return
    PEERS.mkdir(parents=True, exist_ok=True)
    if not (VENV / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(VENV)])
    _run([str(VENV / "bin" / "pip"), "install", "--quiet", *PIP_PEERS])


def install_node_peers() -> None:
    """s3rver and dynalite from npm, into benchmarks/.peers/node_modules."""
    if (NODE_MODULES / ".bin" / "s3rver").exists() and (
        NODE_MODULES / ".bin" / "dynalite"
    ).exists():
        return
    if shutil.which("npm") is None:
        apt_install("nodejs", "npm")
    PEERS.mkdir(parents=True, exist_ok=True)
    _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEERS), *NPM_PEERS])


def install_nginx() -> None:
    """nginx from Debian, when missing."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        apt_install("nginx")


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise RuntimeError(f"{' '.join(packages)} missing and not root: install them first")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-y", "-qq", *packages], env=env)


@dataclass
class System:
    """One server under test: a name, what it speaks, how to run it."""

    name: str
    s3: bool
    dynamodb: bool
    access_key: str = "test"
    secret_key: str = "test"
    static_only: bool = False  # nginx: serves GET/HEAD of files the harness writes
    note: str = ""
    install: Callable[[], None] = lambda: None
    port: int = 0
    run_dir: Path = field(default_factory=Path)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        """argv and extra environment to start it; `port` and `run_dir` are set."""
        raise NotImplementedError

    def health_ok(self, status: int) -> bool:
        """Whether an answer to GET health_path means "ready"; any answer, for peers."""
        return status > 0

    health_path = "/"

    def start(self, cores: set[int] | None) -> None:
        """Start in a new process group, pinned to `cores`, and wait until it answers."""
        self.port = free_port()
        self.run_dir = PEERS / "run" / self.name
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        argv, extra_env = self.command()
        log_file = (self.run_dir / "server.log").open("wb")

        def pin() -> None:
            if cores:
                os.sched_setaffinity(0, cores)

        self.process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **extra_env},
            cwd=self.run_dir,
            start_new_session=True,
            preexec_fn=pin,
        )
        log_file.close()
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        url = self.endpoint + self.health_path
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}: {self.tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, OSError):
                status = 0
            if status and self.health_ok(status):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become ready on {url}: {self.tail()}")

    def tail(self) -> str:
        """The end of the server's log, for error messages."""
        path = self.run_dir / "server.log"
        return path.read_text(errors="replace")[-1500:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group
            os.killpg(process.pid, signal.SIGKILL)


class Strata(System):
    """The system under test, durable by default."""

    health_path = "/_strata/health"

    def health_ok(self, status: int) -> bool:
        return status == 200

    def command(self) -> tuple[list[str], dict[str, str]]:
        strata = Path(sys.executable).with_name("strata")
        argv = [str(strata)] if strata.exists() else [sys.executable, "-m", "strata.cli"]
        argv += ["server", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--data-dir", str(self.run_dir / "data")]
        env = {"STRATA_ROOT_ACCESS_KEY": self.access_key, "STRATA_ROOT_SECRET_KEY": self.secret_key}
        return argv, env


class Moto(System):
    def command(self) -> tuple[list[str], dict[str, str]]:
        return [str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)], {}


class Ministack(System):
    health_path = "/_ministack/health"

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = {
            "GATEWAY_PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            "TMPDIR": str(self.run_dir),
            "LOG_LEVEL": "WARNING",
        }
        return [str(VENV / "bin" / "ministack")], env


class S3rver(System):
    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = ["node", str((NODE_MODULES / ".bin" / "s3rver").resolve())]
        argv += ["-d", str(self.run_dir / "data"), "-a", "127.0.0.1", "-p", str(self.port), "-s"]
        # Its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has as legacy.
        return argv, {"NODE_OPTIONS": "--openssl-legacy-provider"}


class Dynalite(System):
    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = ["node", str((NODE_MODULES / ".bin" / "dynalite").resolve())]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--path", str(self.run_dir / "data")]
        argv += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
        return argv, {}


class Nginx(System):
    """The ceiling for serving bytes over HTTP on this box: one worker, sendfile."""

    @property
    def root(self) -> Path:
        """Document root: files at <root>/<bucket>/<key>, as path-style S3 URLs name them."""
        return self.run_dir / "root"

    def command(self) -> tuple[list[str], dict[str, str]]:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o755)
        os.chmod(self.root, 0o755)
        config = self.run_dir / "nginx.conf"
        config.write_text(
            f"""worker_processes 1;
daemon off;
error_log {self.run_dir}/error.log warn;
pid {self.run_dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 600s;
  client_body_temp_path {self.run_dir}/tmp;
  proxy_temp_path {self.run_dir}/tmp;
  fastcgi_temp_path {self.run_dir}/tmp;
  uwsgi_temp_path {self.run_dir}/tmp;
  scgi_temp_path {self.run_dir}/tmp;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
  }}
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-c", str(config), "-p", str(self.run_dir)], {}


def all_systems() -> list[System]:
    """Strata first: the order of columns and of the A B A B interleaving."""
    return [
        Strata(
            "strata",
            s3=True,
            dynamodb=True,
            access_key=STRATA_ACCESS_KEY,
            secret_key=STRATA_SECRET_KEY,
            note="durable: fsync before acknowledging",
        ),
        Moto("moto", s3=True, dynamodb=True, note="in memory", install=install_python_peers),
        Ministack(
            "ministack", s3=True, dynamodb=True, note="in memory", install=install_python_peers
        ),
        S3rver(
            "s3rver",
            s3=True,
            dynamodb=False,
            access_key="S3RVER",
            secret_key="S3RVER",
            note="files, no fsync",
            install=install_node_peers,
        ),
        Dynalite(
            "dynalite",
            s3=False,
            dynamodb=True,
            note="LevelDB, no fsync",
            install=install_node_peers,
        ),
        Nginx(
            "nginx",
            s3=True,
            dynamodb=False,
            static_only=True,
            note="static files, sendfile",
            install=install_nginx,
        ),
    ]
