"""The AWS CLI's less common S3 paths: mv, filtered recursive cp, presign, sync --delete,
streaming cp from stdin, put-object --tagging, list-object-versions."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import requests

from tests.e2e.s3.test_cli import AWS, aws
from tests.server import RunningServer


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def keys_of(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_recursive_cp_with_filters_and_mv(
    server: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    make_tree(tree, {"a.txt": b"1", "b.log": b"2", "d/c.txt": b"3", "d/e.log": b"4"})
    aws(server, "s3", "cp", "--recursive", str(tree), f"s3://{bucket}/r/",
        "--exclude", "*", "--include", "*.txt")  # fmt: skip
    assert keys_of(s3, bucket) == ["r/a.txt", "r/d/c.txt"]
    aws(server, "s3", "mv", f"s3://{bucket}/r/a.txt", f"s3://{bucket}/moved.txt")
    aws(server, "s3", "mv", str(tree / "b.log"), f"s3://{bucket}/b.log")
    assert not (tree / "b.log").exists()
    aws(server, "s3", "mv", "--recursive", f"s3://{bucket}/r/", f"s3://{bucket}/r2/")
    assert keys_of(s3, bucket) == ["b.log", "moved.txt", "r2/d/c.txt"]
    down = tmp_path / "down"
    aws(server, "s3", "mv", "--recursive", f"s3://{bucket}/", str(down), "--exclude", "*.log")
    assert keys_of(s3, bucket) == ["b.log"]
    assert (down / "moved.txt").read_bytes() == b"1"
    assert (down / "r2" / "d" / "c.txt").read_bytes() == b"3"


def test_presign_and_stdin_stdout(
    server: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "s.txt"
    source.write_bytes(b"presigned body")
    aws(server, "s3", "cp", str(source), f"s3://{bucket}/p q.txt")
    url = aws(server, "s3", "presign", f"s3://{bucket}/p q.txt", "--expires-in", "300").strip()
    reply = requests.get(url, timeout=30)
    assert (reply.status_code, reply.content) == (200, b"presigned body")
    assert aws(server, "s3", "cp", f"s3://{bucket}/p q.txt", "-") == "presigned body"
    piped = tmp_path / "piped"
    piped.write_text("from stdin\n")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    with piped.open("rb") as stdin:
        subprocess.run(
            [AWS, "--endpoint-url", server.endpoint,
             "s3", "cp", "-", f"s3://{bucket}/stdin.txt"],
            stdin=stdin, env=env, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="stdin.txt")["Body"].read() == b"from stdin\n"


def test_sync_delete(server: RunningServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree, {"a.txt": b"a", "d/c.txt": b"c", "d/e.log": b"e"})
    aws(server, "s3", "sync", str(tree), f"s3://{bucket}/sync/")
    assert keys_of(s3, bucket) == ["sync/a.txt", "sync/d/c.txt", "sync/d/e.log"]
    (tree / "d" / "e.log").unlink()
    out = aws(server, "s3", "sync", "--delete", str(tree), f"s3://{bucket}/sync/")
    assert f"delete: s3://{bucket}/sync/d/e.log" in out
    assert keys_of(s3, bucket) == ["sync/a.txt", "sync/d/c.txt"]
    down = tmp_path / "down"
    make_tree(down, {"stale.txt": b"old"})
    aws(server, "s3", "sync", "--delete", f"s3://{bucket}/sync/", str(down))
    assert sorted(str(p.relative_to(down)) for p in down.rglob("*") if p.is_file()) == [
        "a.txt",
        "d/c.txt",
    ]


def test_s3api_tagging_and_versions(
    server: RunningServer, s3: Any, bucket: str, tmp_path: Path
) -> None:
    body = tmp_path / "body"
    body.write_bytes(b"v1")
    aws(server, "s3api", "put-bucket-versioning", "--bucket", bucket,
        "--versioning-configuration", "Status=Enabled")  # fmt: skip
    aws(server, "s3api", "put-object", "--bucket", bucket, "--key", "tagged",
        "--body", str(body), "--tagging", "k1=v1&k2=v%202")  # fmt: skip
    tags = json.loads(
        aws(server, "s3api", "get-object-tagging", "--bucket", bucket, "--key", "tagged")
    )["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("k1", "v1"), ("k2", "v 2")]
    body.write_bytes(b"v2")
    aws(server, "s3", "cp", str(body), f"s3://{bucket}/tagged")
    aws(server, "s3", "rm", f"s3://{bucket}/tagged")
    listed = json.loads(
        aws(server, "s3api", "list-object-versions", "--bucket", bucket, "--prefix", "tag")
    )
    assert [v["IsLatest"] for v in listed["Versions"]] == [False, False]
    assert [m["IsLatest"] for m in listed["DeleteMarkers"]] == [True]
    paged = json.loads(
        aws(server, "s3api", "list-object-versions", "--bucket", bucket, "--page-size", "1")
    )
    assert len(paged["Versions"]) == 2
    oldest = listed["Versions"][1]["VersionId"]
    out = tmp_path / "old"
    aws(server, "s3api", "get-object", "--bucket", bucket, "--key", "tagged",
        "--version-id", oldest, str(out))  # fmt: skip
    assert out.read_bytes() == b"v1"
