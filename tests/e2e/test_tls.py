"""HTTPS end to end: ``strata tls selfsigned`` writes the certificate, ``strata server`` serves
HTTPS beside HTTP (granian and uvicorn) or alone, boto3 trusts the file (verify=PATH), and
``aws:SecureTransport`` is the connection's, not a header's."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError

from tests.server import ACCESS_KEY, SECRET_KEY, RunningServer, free_port, start_server


def strata(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strata.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    done = strata("tls", "selfsigned", "--cert", cert, "--key", key)
    assert done.returncode == 0, done.stderr
    assert f"wrote {cert}" in done.stdout
    return cert, key


class Both:
    """A server with HTTP on ``port`` and HTTPS on ``https_port``."""

    def __init__(self, server: RunningServer, https_port: int, cert: str) -> None:
        self.server = server
        self.https = f"https://127.0.0.1:{https_port}"
        self.cert = cert

    def client(self, service: str, *, secure: bool, key: str = ACCESS_KEY,
               secret: str = SECRET_KEY) -> Any:  # fmt: skip
        return boto3.client(
            service,
            endpoint_url=self.https if secure else self.server.endpoint,
            verify=self.cert if secure else None,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"}
            ),
        )


@pytest.fixture(scope="module", params=["granian", "uvicorn"])
def both(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    certificate: tuple[str, str],
) -> Iterator[Both]:
    cert, key = certificate
    https_port = free_port()
    server = start_server(
        tmp_path_factory.mktemp(f"tls-{request.param}") / "data",
        env={
            "STRATA_SERVER": request.param,
            "STRATA_TLS_CERT": cert,
            "STRATA_TLS_KEY": key,
            "STRATA_HTTPS_PORT": str(https_port),
        },
    )
    yield Both(server, https_port, cert)
    server.stop()


def test_selfsigned_files(certificate: tuple[str, str], tmp_path: Path) -> None:
    cert, key = certificate
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Path(cert).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert Path(key).read_text().startswith("-----BEGIN PRIVATE KEY-----")
    context = ssl.create_default_context(cafile=cert)  # a client accepts it as its trust root
    assert context.cert_store_stats()["x509_ca"] == 1
    again = strata("tls", "selfsigned", "--cert", cert, "--key", key)
    assert again.returncode == 1
    assert "exists (--force replaces it)" in again.stderr
    named = strata("tls", "selfsigned", "--host", "strata.test", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "strata-cert.pem").exists()
    assert (tmp_path / "strata-key.pem").exists()


def test_s3_and_dynamodb_over_https_and_http_side_by_side(both: Both, unique_name: str) -> None:
    secure = both.client("s3", secure=True)
    plain = both.client("s3", secure=False)
    secure.create_bucket(Bucket=unique_name)
    secure.put_object(Bucket=unique_name, Key="k", Body=b"over tls")
    assert plain.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"over tls"
    assert secure.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"over tls"
    table = both.client("dynamodb", secure=True)
    table.create_table(
        TableName=unique_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(TableName=unique_name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    got = both.client("dynamodb", secure=False).get_item(
        TableName=unique_name, Key={"pk": {"S": "a"}}
    )
    assert got["Item"]["v"] == {"N": "1"}
    sts = both.client("sts", secure=True)
    assert sts.get_caller_identity()["Arn"].endswith(":root")


def test_an_untrusted_certificate_is_refused(both: Both) -> None:
    stranger = boto3.client(
        "s3",
        endpoint_url=both.https,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )  # the system's trust store: the self-signed certificate is not in it
    with pytest.raises(SSLError):
        stranger.list_buckets()


def test_plain_http_on_the_https_port_gets_no_answer_as_http(both: Both) -> None:
    port = int(both.https.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /_strata/health HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        try:
            while chunk := sock.recv(4096):
                reply += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert b"200 OK" not in reply
    assert b'"status"' not in reply


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_secure_transport_is_the_connections(both: Both, unique_name: str) -> None:
    """Allowed only with aws:SecureTransport true; a bucket policy denies it when false;
    an ``X-Forwarded-Proto: https`` header over plain HTTP changes nothing."""
    root = both.client("s3", secure=False)
    root.create_bucket(Bucket=unique_name)
    root.put_object(Bucket=unique_name, Key="k", Body=b"secret")
    iam = both.client("iam", secure=False)
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"},
        ),
    )
    created = iam.create_access_key(UserName=name)["AccessKey"]
    key, secret = created["AccessKeyId"], created["SecretAccessKey"]
    over_http = both.client("s3", secure=False, key=key, secret=secret)
    over_https = both.client("s3", secure=True, key=key, secret=secret)

    def forwarded(request: Any, **_: Any) -> None:
        request.headers["X-Forwarded-Proto"] = "https"

    over_http.meta.events.register("before-sign.s3.*", forwarded)
    with pytest.raises(ClientError) as caught:
        over_http.get_object(Bucket=unique_name, Key="k")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert over_https.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"secret"

    root.put_bucket_policy(
        Bucket=unique_name,
        Policy=policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{unique_name}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": iam.get_user(UserName=name)["User"]["Arn"]},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{unique_name}/*",
            },
        ),
    )
    iam.delete_user_policy(UserName=name, PolicyName="p")  # the bucket policy alone decides
    with pytest.raises(ClientError) as caught:
        over_http.put_object(Bucket=unique_name, Key="k", Body=b"replaced")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert root.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"secret"
    over_https.put_object(Bucket=unique_name, Key="k", Body=b"replaced")
    assert root.get_object(Bucket=unique_name, Key="k")["Body"].read() == b"replaced"

    # DynamoDB reads the same key from the connection.
    iam.put_user_policy(
        UserName=name,
        PolicyName="d",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": "dynamodb:ListTables",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ),
    )
    with pytest.raises(ClientError) as caught:
        both.client("dynamodb", secure=False, key=key, secret=secret).list_tables()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    both.client("dynamodb", secure=True, key=key, secret=secret).list_tables()


def test_https_alone_on_the_port(tmp_path: Path, certificate: tuple[str, str]) -> None:
    cert, key = certificate
    server = start_server(
        tmp_path / "data",
        env={"STRATA_TLS_CERT": cert, "STRATA_TLS_KEY": key},
        https_ca=cert,
    )
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=f"https://localhost:{server.port}",
            verify=cert,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="alone")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alone"]
        assert f"https://127.0.0.1:{server.port}" in server.log()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tls-cert", "{missing}", "--tls-key", "{key}"], "does not exist"),
        (["--tls-cert", "{cert}"], "tls_cert and tls_key must be set together"),
        (["--tls-cert", "{key}", "--tls-key", "{key}"], "cannot be used together"),
        (["--https-port", "{port}"], "https_port (from --https-port) needs tls_cert"),
    ],
)
def test_bad_tls_settings_stop_the_server_with_a_message(
    tmp_path: Path, certificate: tuple[str, str], flags: list[str], message: str
) -> None:
    cert, key = certificate
    port = free_port()
    values = {"missing": str(tmp_path / "none.pem"), "cert": cert, "key": key, "port": port}
    done = strata(
        "server",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        *(flag.format(**values) for flag in flags),
    )
    assert done.returncode == 2
    assert message in done.stderr
