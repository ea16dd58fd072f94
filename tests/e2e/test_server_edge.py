"""The server's edge: a busy port, a busy data directory, start-up order."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.server import RunningServer, start_server

SERVERS = ["granian", "uvicorn"]


def run_server(
    data_dir: Path, port: int, server: str, *, root: bool = True
) -> subprocess.CompletedProcess[str]:
    """``strata server`` expected to refuse: returns once it has exited (bounded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    env["STRATA_SERVER"] = server
    if root:
        env["STRATA_ROOT_ACCESS_KEY"] = "AKSATESTROOT00000000"
        env["STRATA_ROOT_SECRET_KEY"] = "test/secret/key/for/strata/e2e/0000000000"
    command = [sys.executable, "-m", "strata.cli", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)


def healthy(server: RunningServer) -> bool:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/health", timeout=5) as reply:
        return bool(reply.status == 200)


@pytest.mark.parametrize("first", SERVERS)
@pytest.mark.parametrize("second", SERVERS)
def test_second_server_on_a_busy_port_exits_at_once(
    tmp_path: Path, first: str, second: str
) -> None:
    running = start_server(tmp_path / "first", env={"STRATA_SERVER": first})
    try:
        result = run_server(tmp_path / "second", running.port, second, root=False)
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{running.port}: address already in use" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
        # Refused before start-up work: no database, no generated credentials.
        assert not (tmp_path / "second" / "db").exists()
        assert not (tmp_path / "second" / "credentials.json").exists()
        assert "AWS_SECRET_ACCESS_KEY" not in result.stdout
        assert healthy(running)  # the first one still has the port to itself
    finally:
        running.stop()


@pytest.mark.parametrize("server", SERVERS)
def test_second_server_on_a_busy_data_dir_names_the_pid(tmp_path: Path, server: str) -> None:
    data_dir = tmp_path / "data"
    running = start_server(data_dir, env={"STRATA_SERVER": server}, inherit_root=False)
    credentials = (data_dir / "credentials.json").read_bytes()
    try:
        result = run_server(data_dir, running.port + 1, server, root=False)
        assert result.returncode == 1
        assert f"data directory {data_dir} is in use by process {running.process.pid}" in (
            result.stderr
        )
        assert str(data_dir / "strata.pid") in result.stderr
        assert "Traceback" not in result.stderr
        assert (data_dir / "credentials.json").read_bytes() == credentials
        assert healthy(running)
    finally:
        running.stop()
    # The lock goes with the process: the directory serves again.
    again = start_server(data_dir, env={"STRATA_SERVER": server})
    again.stop()


def test_data_dir_lock_is_freed_by_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    running = start_server(data_dir)
    running.kill()
    assert (data_dir / "strata.pid").read_text().strip() == str(running.process.pid)
    again = start_server(data_dir)
    try:
        assert (data_dir / "strata.pid").read_text().strip() == str(again.process.pid)
    finally:
        again.stop()


@pytest.mark.parametrize("server", SERVERS)
def test_new_root_credentials_printed_once_listening(tmp_path: Path, server: str) -> None:
    running = start_server(tmp_path / "data", env={"STRATA_SERVER": server}, inherit_root=False)
    try:
        log = running.log()
    finally:
        running.stop()
    assert log.count("AWS_SECRET_ACCESS_KEY=") == 1
    assert f"on http://127.0.0.1:{running.port}" in log
