"""The replay harness records what the workload's client would send, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.replay import parse_wrk, record, write_requests
from strata.bench.dynamodb import DynamoSettings, DynamoWorkload
from strata.bench.s3 import Endpoint, S3Workload

ENDPOINT = Endpoint("http://127.0.0.1:4566", "127.0.0.1", 4566, "AKID", "secret", "us-east-1")

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:47017
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.60ms    9.81ms 109.98ms   94.02%
    Req/Sec     3.34k   459.35     3.90k    80.00%
  Latency Distribution
     50%    8.22ms
     75%    9.01ms
     90%   11.45ms
     99%   69.44ms
  10000 requests in 3.01s, 5.81MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   3317.20
Transfer/sec:      1.93MB
"""


def split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = dict(field.split(": ", 1) for field in fields)
    return line, headers, body


def test_dynamodb_requests_are_signed_http_with_their_bodies() -> None:
    workload = DynamoWorkload(ENDPOINT, DynamoSettings(op="getitem", records=100))
    requests = record(workload, "127.0.0.1:4566", 5)
    assert len(requests) == 5
    line, headers, body = split(requests[0])
    assert line == "POST / HTTP/1.1"
    assert headers["x-amz-target"] == "DynamoDB_20120810.GetItem"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body)["TableName"] == workload.settings.table
    assert len(set(requests)) > 1  # different keys, as the workload draws them


def test_s3_put_carries_its_payload(tmp_path: Path) -> None:
    workload = S3Workload(ENDPOINT, op="put", size_bytes=4096, objects=10, prefill=False)
    requests = record(workload, "127.0.0.1:4566", 3)
    line, headers, body = split(requests[0])
    assert line.startswith("PUT /")
    assert line.endswith(" HTTP/1.1")
    assert headers["content-length"] == "4096"
    assert len(body) == 4096
    path = tmp_path / "requests"
    write_requests(path, requests)
    data = path.read_bytes()
    length, _, rest = data.partition(b"\n")
    assert rest[: int(length)] == requests[0]  # the framing replay.lua reads


def test_wrk_output_is_parsed_and_failures_counted() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.ops_per_s == 3317.20
    assert result.p50_ms == 8.22
    assert result.p99_ms == 69.44
    assert result.failures == 12
