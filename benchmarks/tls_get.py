"""HTTPS against HTTP on one server: a small GET, kept-alive and on a new connection each.

`python -m benchmarks.tls_get [--server granian] [--requests 2000] [--rounds 4] [--size 4096]`

Starts `strata server` with HTTP on one port and HTTPS on the next (a self-signed
certificate from `strata tls selfsigned`), puts one object, and GETs it through a
presigned URL (signed once, so the client pays no signing per request) with the standard
library's `http.client`, alternating HTTP and HTTPS rounds; prints per-request wall time,
medians of the rounds, and HTTPS / HTTP. The client shares the machine with the server, so
the ratio, not the absolute figure, is what to read.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

KEY = "AKIDBENCHTLS00000000"
SECRET = "bench/tls/secret/0000000000000000000000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, context: ssl.SSLContext | None, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited early")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no answer from {url}")


def _server_cpu_s(pid: int) -> float:
    """The server process's user + system CPU so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_request_us(
    make: type[http.client.HTTPConnection], host: str, port: int, target: str, count: int,
    keep_alive: bool, pid: int, **options: object,
) -> tuple[float, float]:  # fmt: skip
    """(wall, server CPU) per request, in µs."""
    connection = make(host, port, **options)  # type: ignore[arg-type]
    cpu_before = _server_cpu_s(pid)
    started = time.perf_counter()
    for _ in range(count):
        if not keep_alive:
            connection = make(host, port, **options)  # type: ignore[arg-type]
        connection.request("GET", target)
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200, reply.status
        if not keep_alive:
            connection.close()
    elapsed = time.perf_counter() - started
    cpu = _server_cpu_s(pid) - cpu_before
    connection.close()
    return elapsed / count * 1e6, cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = str(Path(tmp) / "cert.pem"), str(Path(tmp) / "key.pem")
        subprocess.run(
            [sys.executable, "-m", "strata.cli", "tls", "selfsigned", "--cert", cert,
             "--key", key], check=True, capture_output=True,
        )  # fmt: skip
        port, https_port = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
        env.update(
            STRATA_ROOT_ACCESS_KEY=KEY, STRATA_ROOT_SECRET_KEY=SECRET, STRATA_AUDIT="false",
            STRATA_LOG_LEVEL="warning", STRATA_SERVER=args.server, STRATA_TLS_CERT=cert,
            STRATA_TLS_KEY=key, STRATA_HTTPS_PORT=str(https_port),
        )  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "strata.cli", "server", "--port", str(port),
             "--data-dir", str(Path(tmp) / "data")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        context = ssl.create_default_context(cafile=cert)
        try:
            _wait(f"http://127.0.0.1:{port}/_strata/health", None, process)
            _wait(f"https://127.0.0.1:{https_port}/_strata/health", context, process)
            s3 = boto3.client(
                "s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=KEY,
                aws_secret_access_key=SECRET, region_name="us-east-1",
                config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
            )  # fmt: skip
            s3.create_bucket(Bucket="bench")
            s3.put_object(Bucket="bench", Key="small", Body=os.urandom(args.size))

            def signed_path(scheme: str, at: int) -> str:
                """A presigned GET for this port: the Host header is part of the signature."""
                signer = boto3.client(
                    "s3", endpoint_url=f"{scheme}://127.0.0.1:{at}", aws_access_key_id=KEY,
                    aws_secret_access_key=SECRET, region_name="us-east-1",
                    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
                )  # fmt: skip
                url = signer.generate_presigned_url(
                    "get_object", Params={"Bucket": "bench", "Key": "small"}, ExpiresIn=3600
                )
                parts = urllib.parse.urlsplit(url)
                return f"{parts.path}?{parts.query}"

            plain, secure = signed_path("http", port), signed_path("https", https_port)
            cases = {
                "HTTP, kept alive": (http.client.HTTPConnection, port, plain, True, {}),
                "HTTPS, kept alive": (http.client.HTTPSConnection, https_port, secure, True,
                                      {"context": context}),
                "HTTP, new connection each": (http.client.HTTPConnection, port, plain, False, {}),
                "HTTPS, new connection each": (http.client.HTTPSConnection, https_port, secure,
                                               False, {"context": context}),
            }  # fmt: skip
            walls: dict[str, list[float]] = {name: [] for name in cases}
            cpus: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, (make, at, path, keep, options) in cases.items():
                    count = args.requests if keep else max(1, args.requests // 4)
                    wall, cpu = _per_request_us(
                        make, "127.0.0.1", at, path, count, keep, process.pid, **options
                    )
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            for label, figures in (("server CPU", cpus), ("client wall", walls)):
                medians = {name: statistics.median(values) for name, values in figures.items()}
                for name, values in figures.items():
                    shown = ", ".join(f"{v:.0f}" for v in values)
                    print(f"{label}, {name:<28} {medians[name]:8.1f} us/request ({shown})")
                for mode in ("kept alive", "new connection each"):
                    ratio = medians[f"HTTPS, {mode}"] / medians[f"HTTP, {mode}"]
                    print(f"{label}, HTTPS / HTTP, {mode}: {ratio:.2f}")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
