"""The AWS CLI against Strata: `aws s3` high-level commands and a few `aws s3api` calls."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.server import RunningServer

AWS = str(Path(sys.executable).parent / "aws")
MIB = 1024 * 1024


def aws(server: RunningServer, *args: str) -> str:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"aws {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MIB):
            sha.update(chunk)
    return sha.hexdigest()


def test_cp_200_mb_up_and_down(server: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as handle:
        for _ in range(200):
            handle.write(os.urandom(MIB))
    aws(server, "s3", "cp", str(source), f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 200 * MIB
    assert head["ETag"].endswith('-25"')  # 8 MiB parts: the CLI used multipart
    target = tmp_path / "back.bin"
    aws(server, "s3", "cp", f"s3://{bucket}/big.bin", str(target))
    assert digest(target) == digest(source)


def test_sync_ls_rm(server: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    files = {
        "a.txt": b"alpha",
        "dir/b.txt": b"beta",
        "dir/sub/c.bin": os.urandom(1000),
        "dir/sub/deeper/d": b"",
        "space name/\u00fc.txt": b"unicode",
    }
    for name, data in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    aws(server, "s3", "sync", str(tree), f"s3://{bucket}/tree")
    listed = aws(server, "s3", "ls", "--recursive", f"s3://{bucket}/")
    keys = sorted(line.split(maxsplit=3)[3] for line in listed.splitlines())
    assert keys == sorted(f"tree/{name}" for name in files)
    for name, data in files.items():
        assert s3.get_object(Bucket=bucket, Key=f"tree/{name}")["Body"].read() == data
    # A second sync uploads nothing; a changed file is uploaded again.
    assert aws(server, "s3", "sync", str(tree), f"s3://{bucket}/tree").strip() == ""
    (tree / "a.txt").write_bytes(b"alpha, longer now")
    assert "a.txt" in aws(server, "s3", "sync", str(tree), f"s3://{bucket}/tree")
    down = tmp_path / "down"
    aws(server, "s3", "sync", f"s3://{bucket}/tree", str(down))
    assert (down / "a.txt").read_bytes() == b"alpha, longer now"
    assert (down / "dir/sub/c.bin").read_bytes() == files["dir/sub/c.bin"]
    aws(server, "s3", "rm", "--recursive", f"s3://{bucket}/tree/dir")
    remaining = aws(server, "s3", "ls", "--recursive", f"s3://{bucket}/")
    assert sorted(line.split(maxsplit=3)[3] for line in remaining.splitlines()) == [
        "tree/a.txt",
        "tree/space name/\u00fc.txt",
    ]
    aws(server, "s3", "rm", "--recursive", f"s3://{bucket}/")
    assert aws(server, "s3", "ls", "--recursive", f"s3://{bucket}/").strip() == ""


def test_s3api_calls(server: RunningServer, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes(b"via s3api")
    put = json.loads(
        aws(server, "s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(body))
    )
    assert put["ETag"] == f'"{hashlib.md5(b"via s3api").hexdigest()}"'
    head = json.loads(aws(server, "s3api", "head-object", "--bucket", bucket, "--key", "k"))
    assert head["ContentLength"] == 9
    listed = json.loads(aws(server, "s3api", "list-objects-v2", "--bucket", bucket))
    assert [o["Key"] for o in listed["Contents"]] == ["k"]
    created = json.loads(
        aws(server, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp")
    )
    upload_id = created["UploadId"]
    part = json.loads(
        aws(
            server, "s3api", "upload-part", "--bucket", bucket, "--key", "mp",
            "--upload-id", upload_id, "--part-number", "1", "--body", str(body),
        )
    )  # fmt: skip
    uploads = json.loads(aws(server, "s3api", "list-multipart-uploads", "--bucket", bucket))
    assert [u["UploadId"] for u in uploads["Uploads"]] == [upload_id]
    parts = json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    done = json.loads(
        aws(
            server, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp",
            "--upload-id", upload_id, "--multipart-upload", parts,
        )
    )  # fmt: skip
    assert done["ETag"].endswith('-1"')
    target = tmp_path / "out.txt"
    aws(server, "s3api", "get-object", "--bucket", bucket, "--key", "mp", str(target))
    assert target.read_bytes() == b"via s3api"
    aws(server, "s3api", "delete-object", "--bucket", bucket, "--key", "k")
    aws(server, "s3api", "delete-object", "--bucket", bucket, "--key", "mp")
    listed = json.loads(aws(server, "s3api", "list-objects-v2", "--bucket", bucket) or "{}")
    assert "Contents" not in listed
