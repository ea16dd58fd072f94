"""strata.testing: the pytest plugin run as a user would (a pytest subprocess on a tiny
test file), ``Server`` as a context manager, and importing it without pytest or boto3."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = '''
import os
import boto3

def children():
    """Processes whose parent is this one (from /proc/*/stat)."""
    me, found = str(os.getpid()), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state_and_parent = handle.read().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if state_and_parent[1] == me and state_and_parent[0] != "Z":
            found.append(pid)
    return found

def test_a_no_server_unless_asked():
    assert children() == []

def test_b_buckets(s3_client, strata_server):
    s3_client.create_bucket(Bucket="plugin-bucket")
    s3_client.put_object(Bucket="plugin-bucket", Key="k", Body=b"v")
    assert s3_client.get_object(Bucket="plugin-bucket", Key="k")["Body"].read() == b"v"
    assert strata_server.endpoint_url.startswith("http://127.0.0.1:")
    again = boto3.client("s3", **strata_server.client_kwargs())
    assert [b["Name"] for b in again.list_buckets()["Buckets"]] == ["plugin-bucket"]

def test_c_tables(dynamodb_client):
    dynamodb_client.create_table(
        TableName="plugin-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert dynamodb_client.list_tables()["TableNames"] == ["plugin-table"]

def test_d_one_server_for_the_session(strata_server, s3_client):
    assert [b["Name"] for b in s3_client.list_buckets()["Buckets"]] == ["plugin-bucket"]
    assert len(children()) == 1

def test_e_reset(strata_reset, s3_client, dynamodb_client):
    assert s3_client.list_buckets()["Buckets"] == []
    assert dynamodb_client.list_tables()["TableNames"] == []
'''


def test_plugin_fixtures_in_a_users_test_run(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_server_context_manager_and_plain_import(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, urllib.request
        from strata.testing import Server
        assert "pytest" not in sys.modules and "boto3" not in sys.modules
        with Server() as server:
            kwargs = server.client_kwargs()
            assert sorted(kwargs) == [
                "aws_access_key_id", "aws_secret_access_key", "endpoint_url", "region_name"
            ]
            health = urllib.request.urlopen(kwargs["endpoint_url"] + "/_strata/health")
            assert health.status == 200
            server.reset()
            data_dir = server.data_dir
        import os
        assert not os.path.exists(data_dir)  # its temporary directory went with it
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
