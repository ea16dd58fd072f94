"""What an operator reads: the access log (who did what to which resource) and start-up progress."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.server import ACCESS_KEY, RunningServer, start_server


def _logged(server: RunningServer, marker: str) -> list[str]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in server.log().splitlines() if marker in line]
        if lines:
            return lines
        time.sleep(0.05)
    return []


def _exercise(server: RunningServer) -> None:
    s3 = client(server, "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="access-log")
    s3.put_object(Bucket="access-log", Key="dir/k.txt", Body=b"12345")
    with pytest.raises(ClientError):
        s3.get_object(Bucket="access-log", Key="missing-key")
    dynamodb = client(server, "dynamodb")
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName="no-such-table", Key={"id": {"S": "x"}})


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_access_log_names_principal_client_resource_status_and_bytes(
    tmp_path: Path, log_format: str
) -> None:
    server = start_server(
        tmp_path / "data",
        env={
            "STRATA_ACCESS_LOG": "true",
            "STRATA_LOG_LEVEL": "info",
            "STRATA_LOG_FORMAT": log_format,
        },
    )
    try:
        _exercise(server)
        put = _logged(server, "PutObject")
        missing = _logged(server, "missing-key")
        table = _logged(server, "no-such-table")
    finally:
        server.stop()
    assert put
    assert missing
    assert table
    if log_format == "text":
        fields = put[0].split()
        assert ACCESS_KEY in fields
        assert "127.0.0.1" in fields
        assert "access-log/dir/k.txt" in fields
        assert "200" in fields
        assert "5" in fields  # bytes in
        assert "NoSuchKey" in missing[0].split()
        assert "ResourceNotFoundException" in table[0].split()
        return
    record = json.loads(put[0])
    assert record["logger"] == "strata.access"
    assert record["time"].endswith("Z")
    assert record["principal"] == ACCESS_KEY
    assert record["client"] == "127.0.0.1"
    assert record["service"] == "s3"
    assert record["operation"] == "PutObject"
    assert record["resource"] == "access-log/dir/k.txt"
    assert record["status"] == 200
    assert record["bytes_in"] == 5
    # the request's time is logged as a number (its value is the benchmarks' business)
    assert "duration_ms" in {name for name, value in record.items() if type(value) is float}
    got = json.loads(missing[0])
    assert (got["status"], got["error_code"]) == (404, "NoSuchKey")
    ddb = json.loads(table[0])
    assert (ddb["service"], ddb["operation"], ddb["resource"]) == (
        "dynamodb",
        "GetItem",
        "no-such-table",
    )
    assert ddb["error_code"] == "ResourceNotFoundException"
    # Every other line of the server's log is JSON too.
    for line in server.log().splitlines():
        if line.startswith("{"):
            json.loads(line)


def test_start_up_logs_its_long_steps_with_durations(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", env={"STRATA_LOG_LEVEL": "info"})
    try:
        log = server.log()
    finally:
        server.stop()
    assert "opening the database (replaying its WAL)" in log
    assert "database open in " in log
    assert "start-up blob GC in " in log
