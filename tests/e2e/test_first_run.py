"""The README's first run, as a new user meets it: a plain install, then ``strata server``.

The rest of the suite runs in the dev environment, which has every extra installed; a
runtime dependency that lived only in the dev extras once crashed ``make serve`` while
every test passed. This test builds a fresh virtual environment with ``pip install .``
and nothing else, starts the server it installed on an empty data directory, and uses
the credentials the server printed, with real boto3 clients from the test's side.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.server import free_port

ROOT = Path(__file__).resolve().parents[2]
# What `pip install .` reads: the package metadata and the sources (copied, so that the
# build's scratch directories never land in the checkout other tests are reading).
INSTALL_INPUTS = ("pyproject.toml", "README.md", "src")


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("first-run")
    source = work / "source"
    source.mkdir()
    for name in INSTALL_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


def test_plain_install_brings_no_dev_extras(plain_venv: Path) -> None:
    """The venv really is a plain install: what the tests use is not in it."""
    probe = subprocess.run(
        [str(plain_venv / "bin" / "python"), "-c", "import boto3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode != 0
    assert "No module named 'boto3'" in probe.stderr


def test_plain_install_serves_s3_and_dynamodb_with_printed_credentials(
    plain_venv: Path, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRATA_", "AWS_"))}
    env["PATH"] = f"{plain_venv / 'bin'}:{env.get('PATH', '')}"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [str(plain_venv / "bin" / "strata"), "server", "--port", str(port)],
            cwd=tmp_path,  # the default data dir, ./data, as `make serve` uses it
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_healthy(endpoint, process, log_path)
        log = log_path.read_text()
        access_key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", log)
        secret_key = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", log)
        assert access_key, log
        assert secret_key, log
        assert "keys show" in log  # and how to get them again
        assert (data_dir / "credentials.json").exists()
        session = boto3.Session(
            aws_access_key_id=access_key.group(1),
            aws_secret_access_key=secret_key.group(1),
            region_name="us-east-1",
        )
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        s3 = session.client("s3", endpoint_url=endpoint, config=config)
        s3.create_bucket(Bucket="first-run")
        s3.put_object(Bucket="first-run", Key="hello.txt", Body=b"hello, strata")
        got = s3.get_object(Bucket="first-run", Key="hello.txt")["Body"].read()
        assert got == b"hello, strata"
        dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=config)
        dynamodb.create_table(
            TableName="first-run",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="first-run", Item={"id": {"S": "ada"}, "n": {"N": "1"}})
        item = dynamodb.get_item(TableName="first-run", Key={"id": {"S": "ada"}})["Item"]
        assert item == {"id": {"S": "ada"}, "n": {"N": "1"}}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0, log_path.read_text()


def _wait_healthy(endpoint: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"strata server exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_strata/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"strata server did not become healthy:\n{log_path.read_text()}")
