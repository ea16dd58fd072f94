"""The AWS CLI (``aws iam``, ``aws sts``) works unchanged against the shared port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.iam.conftest import ALLOW_S3
from tests.server import RunningServer

AWS = str(Path(sys.executable).parent / "aws")


def aws(server: RunningServer, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, f"aws {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_aws_cli_iam_and_sts(server: RunningServer, unique_name: str) -> None:
    identity = json.loads(aws(server, "sts", "get-caller-identity").stdout)
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    created = json.loads(aws(server, "iam", "create-user", "--user-name", unique_name).stdout)
    assert created["User"]["UserName"] == unique_name
    listed = json.loads(aws(server, "iam", "list-users").stdout)
    assert unique_name in [u["UserName"] for u in listed["Users"]]
    key = json.loads(aws(server, "iam", "create-access-key", "--user-name", unique_name).stdout)
    key_id = key["AccessKey"]["AccessKeyId"]
    aws(server, "iam", "put-user-policy", "--user-name", unique_name, "--policy-name", "p",
        "--policy-document", ALLOW_S3)  # fmt: skip
    got = json.loads(
        aws(
            server, "iam", "get-user-policy", "--user-name", unique_name, "--policy-name", "p"
        ).stdout
    )
    assert got["PolicyDocument"] == json.loads(ALLOW_S3)
    missing = aws(server, "iam", "get-user", "--user-name", unique_name + "x", check=False)
    assert missing.returncode != 0
    assert "NoSuchEntity" in missing.stderr
    aws(server, "iam", "delete-user-policy", "--user-name", unique_name, "--policy-name", "p")
    aws(server, "iam", "delete-access-key", "--user-name", unique_name, "--access-key-id", key_id)
    aws(server, "iam", "delete-user", "--user-name", unique_name)
    assert unique_name not in aws(server, "iam", "list-users").stdout
