"""The `strata` command: first start, root credentials, keys, configuration errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.server import RunningServer, start_server


def strata(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strata.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def no_root_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    return env


def test_version() -> None:
    result = strata("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("strata ")


def test_bad_config_value_is_a_clear_error(tmp_path: Path) -> None:
    result = strata("server", "--data-dir", str(tmp_path), env={"STRATA_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "STRATA_PORT" in result.stderr
    assert "port" in result.stderr
    config = tmp_path / "strata.toml"
    config.write_text('log_level = "loud"\n')
    result = strata("server", "--config", str(config))
    assert result.returncode == 2
    assert "log_level" in result.stderr
    assert str(config) in result.stderr
    config.write_text("colour = 1\n")
    result = strata("server", "--config", str(config))
    assert result.returncode == 2
    assert "unknown setting 'colour'" in result.stderr


def generated_root_server(data_dir: Path) -> RunningServer:
    env = {"STRATA_ROOT_ACCESS_KEY": "", "STRATA_ROOT_SECRET_KEY": ""}
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("STRATA_ROOT")}
    try:
        return start_server(data_dir, env={k: v for k, v in env.items() if v})
    finally:
        os.environ.update(saved)


def test_root_credentials_generated_once_and_stored_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir, env={}, inherit_root=False)
    try:
        log = first.log()
    finally:
        first.stop()
    path = data_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = strata("keys", "list", "--show-secrets", "--data-dir", str(data_dir))
    access_key, secret_key = listed.stdout.split()[:2]
    assert f"AWS_SECRET_ACCESS_KEY={secret_key}" in log
    second = start_server(data_dir, env={}, inherit_root=False)
    try:
        assert secret_key not in second.log().replace(log, "")
        s3 = boto3.client(
            "s3",
            endpoint_url=second.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name="us-east-1",
        )
        assert s3.list_buckets()["Buckets"] == []
    finally:
        second.stop()


def test_keys_created_while_running_authenticate_and_deleted_keys_stop(
    server: RunningServer,
) -> None:
    created = strata("keys", "create", "--data-dir", str(server.data_dir))
    assert created.returncode == 0, created.stderr
    values = dict(line.split("=", 1) for line in created.stdout.splitlines() if "=" in line)
    s3 = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    assert "Buckets" in s3.list_buckets()
    listed = strata("keys", "list", "--data-dir", str(server.data_dir))
    assert values["AWS_ACCESS_KEY_ID"] in listed.stdout
    assert values["AWS_SECRET_ACCESS_KEY"] not in listed.stdout
    deleted = strata(
        "keys", "delete", values["AWS_ACCESS_KEY_ID"], "--data-dir", str(server.data_dir)
    )
    assert deleted.returncode == 0
    time.sleep(1.1)  # the server re-reads the key file at most once a second
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_keys_show_prints_the_root_key_again_and_any_key_by_name(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir, env={}, inherit_root=False)
    try:
        log = first.log()
    finally:
        first.stop()
    assert "keys show" in log  # the banner says how to get the credentials again
    shown = strata("keys", "show", "--data-dir", str(data_dir))
    assert shown.returncode == 0, shown.stderr
    values = dict(line.split("=", 1) for line in shown.stdout.splitlines())
    assert f"AWS_ACCESS_KEY_ID={values['AWS_ACCESS_KEY_ID']}" in log
    assert f"AWS_SECRET_ACCESS_KEY={values['AWS_SECRET_ACCESS_KEY']}" in log
    created = strata("keys", "create", "--data-dir", str(data_dir))
    user_key = created.stdout.split("AWS_ACCESS_KEY_ID=", 1)[1].split()[0]
    by_name = strata("keys", "show", user_key, "--data-dir", str(data_dir))
    assert by_name.returncode == 0
    assert by_name.stdout.splitlines()[0] == f"AWS_ACCESS_KEY_ID={user_key}"
    missing = strata("keys", "show", "AKSANOSUCHKEY0000000", "--data-dir", str(data_dir))
    assert missing.returncode == 1
    assert "no access key AKSANOSUCHKEY0000000" in missing.stderr
    empty = strata("keys", "show", "--data-dir", str(tmp_path / "nothing-here"))
    assert empty.returncode == 1
    assert "no root key" in empty.stderr


def test_auth_off_accepts_any_credentials_and_region(tmp_path: Path) -> None:
    """Dev mode: LocalStack's conventional test/test keys and any region just work."""
    running = start_server(tmp_path / "data", env={"STRATA_AUTH": "false"}, inherit_root=False)
    try:
        assert "authentication is OFF" in running.log()
        s3 = boto3.client(
            "s3",
            endpoint_url=running.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="eu-west-3",
        )
        s3.create_bucket(
            Bucket="dev-mode", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        s3.put_object(Bucket="dev-mode", Key="k", Body=b"x" * 70_000)
        assert s3.get_object(Bucket="dev-mode", Key="k")["Body"].read() == b"x" * 70_000
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=running.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="ap-south-1",
        )
        assert dynamodb.list_tables()["TableNames"] == []
    finally:
        running.stop()
