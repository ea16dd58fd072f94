"""s3cmd (path style, SigV4, plain HTTP) against Strata: mb/put/get/ls/la/info/sync/del."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.server import RunningServer

S3CMD = str(Path(sys.executable).parent / "s3cmd")
MIB = 1024 * 1024


@pytest.fixture
def config(server: RunningServer, tmp_path: Path) -> Path:
    path = tmp_path / "s3cfg"
    endpoint = f"127.0.0.1:{server.port}"
    path.write_text(
        "[default]\n"
        f"access_key = {server.access_key}\n"
        f"secret_key = {server.secret_key}\n"
        f"host_base = {endpoint}\n"
        f"host_bucket = {endpoint}\n"
        "use_https = False\n"
        "signature_v2 = False\n"
        "bucket_location = us-east-1\n"
    )
    return path


def s3cmd(config: Path, *args: str) -> str:
    env = {**os.environ, "HOME": str(config.parent)}
    done = subprocess.run(
        [S3CMD, "-c", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"s3cmd {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def listed_keys(output: str) -> list[str]:
    return sorted(line.rsplit("s3://", 1)[1] for line in output.splitlines() if "s3://" in line)


def test_bucket_put_get_info_del(config: Path, s3: Any, unique_name: str, tmp_path: Path) -> None:
    s3cmd(config, "mb", f"s3://{unique_name}")
    assert unique_name in s3cmd(config, "ls")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MIB))
    small = tmp_path / "small.txt"
    small.write_text("hello s3cmd\n")
    s3cmd(config, "put", "--multipart-chunk-size-mb=5", str(big), f"s3://{unique_name}/big.bin")
    s3cmd(config, "put", str(small), f"s3://{unique_name}/dir/small.txt")
    assert s3.head_object(Bucket=unique_name, Key="big.bin")["ETag"].endswith('-3"')
    listing = s3cmd(config, "ls", "--list-md5", f"s3://{unique_name}")
    assert f"s3://{unique_name}/big.bin" in listing
    assert f"s3://{unique_name}/dir/" in listing  # a common prefix, shown as DIR
    assert hashlib.md5(big.read_bytes()).hexdigest() in listing  # from s3cmd's md5 metadata
    everything = s3cmd(config, "la")
    assert f"s3://{unique_name}/big.bin" in everything
    back = tmp_path / "back.bin"
    s3cmd(config, "get", f"s3://{unique_name}/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    info = s3cmd(config, "info", f"s3://{unique_name}/dir/small.txt")
    assert "File size: 12" in info
    assert hashlib.md5(b"hello s3cmd\n").hexdigest() in info
    assert "Location:  us-east-1" in s3cmd(config, "info", f"s3://{unique_name}")
    assert "2 objects" in s3cmd(config, "du", f"s3://{unique_name}")
    s3cmd(config, "cp", f"s3://{unique_name}/dir/small.txt", f"s3://{unique_name}/copy.txt")
    s3cmd(config, "mv", f"s3://{unique_name}/copy.txt", f"s3://{unique_name}/moved.txt")
    s3cmd(config, "del", f"s3://{unique_name}/big.bin")
    keys = listed_keys(s3cmd(config, "ls", "--recursive", f"s3://{unique_name}"))
    assert keys == [f"{unique_name}/dir/small.txt", f"{unique_name}/moved.txt"]
    s3cmd(config, "del", "--recursive", "--force", f"s3://{unique_name}")
    s3cmd(config, "rb", f"s3://{unique_name}")
    assert unique_name not in s3cmd(config, "ls")


def test_sync_both_ways(config: Path, s3: Any, bucket: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    files = {"a.txt": b"alpha", "sub/b.txt": b"beta", "sub/deep/c.bin": os.urandom(3000)}
    for name, data in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    s3cmd(config, "sync", f"{tree}/", f"s3://{bucket}/tree/")
    keys = listed_keys(s3cmd(config, "ls", "--recursive", f"s3://{bucket}"))
    assert keys == sorted(f"{bucket}/tree/{name}" for name in files)
    again = s3cmd(config, "sync", f"{tree}/", f"s3://{bucket}/tree/")
    assert "upload:" not in again  # unchanged files are skipped (MD5 and size match)
    (tree / "a.txt").unlink()
    s3cmd(config, "sync", "--delete-removed", f"{tree}/", f"s3://{bucket}/tree/")
    keys = listed_keys(s3cmd(config, "ls", "--recursive", f"s3://{bucket}"))
    assert f"{bucket}/tree/a.txt" not in keys
    down = tmp_path / "down"
    s3cmd(config, "sync", f"s3://{bucket}/tree/", f"{down}/")
    for name in ("sub/b.txt", "sub/deep/c.bin"):
        assert (down / name).read_bytes() == files[name]
    assert not (down / "a.txt").exists()
