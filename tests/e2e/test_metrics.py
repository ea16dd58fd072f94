"""/_strata/metrics end to end: disk gauges, HELP/TYPE, forged and bogus operation labels."""

from __future__ import annotations

import os
import re
import urllib.request
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strata.api.dynamodb.model import MEMBERS
from tests.server import RunningServer


def scrape(server: RunningServer) -> str:
    with urllib.request.urlopen(f"{server.endpoint}/_strata/metrics", timeout=5) as reply:
        assert reply.headers["content-type"].startswith("text/plain")
        text: str = reply.read().decode()
        return text


def samples(text: str) -> dict[str, float]:
    """Sample line (name and labels) -> value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def signed_target(server: RunningServer, target: str, body: bytes = b"{}") -> int:
    request = AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    SigV4Auth(Credentials(server.access_key, server.secret_key), "dynamodb", "us-east-1").add_auth(
        request
    )
    prepared = urllib.request.Request(
        request.url, data=body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=5) as reply:
            status: int = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status


def test_disk_gauges_follow_the_data_dir_filesystem(server: RunningServer) -> None:
    values = samples(scrape(server))
    stat = os.statvfs(server.data_dir)
    size = stat.f_blocks * stat.f_frsize
    assert values["strata_disk_size_bytes"] == size
    free = values["strata_disk_free_bytes"]
    used = values["strata_disk_used_bytes"]
    assert 0 < free <= size
    assert 0 < used <= size
    # Other engineers' tests write too: allow drift, but the figures are this filesystem's.
    assert abs(free - stat.f_bavail * stat.f_frsize) < 0.05 * size


def test_every_family_has_help_and_type(server: RunningServer, dynamodb: Any) -> None:
    dynamodb.list_tables()
    text = scrape(server)
    helps = set(re.findall(r"^# HELP (\S+) \S", text, re.MULTILINE))
    types = set(re.findall(r"^# TYPE (\S+) (?:counter|gauge|histogram)$", text, re.MULTILINE))
    assert helps == types
    for series in samples(text):
        name = re.split(r"\{", series)[0]
        assert name in types or re.sub(r"_(bucket|count|sum)$", "", name) in types, name
    assert "strata_disk_free_bytes" in types
    assert "strata_wal_fsyncs_total" in types


def test_forged_target_cannot_write_a_sample(server: RunningServer) -> None:
    status = signed_target(server, 'DynamoDB_20120810.Evil"} 999 #')
    assert status == 400
    text = scrape(server)
    assert "Evil" not in text
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-z_:]+(\{.*\})? \S+", line), line
    # The forged "} 999 #" never ends a label set (a real counter may reach 999 by chance
    # on the shared server: its value is not what is checked).
    assert not any("} 999 " in line for line in text.splitlines())


def test_bogus_targets_make_one_label_set(server: RunningServer) -> None:
    for n in range(200):
        assert signed_target(server, f"DynamoDB_20120810.Bogus{n}") == 400
    text = scrape(server)
    assert "Bogus" not in text
    unknown = samples(text)[
        'strata_requests_total{service="dynamodb",operation="unknown",status="400"}'
    ]
    assert unknown >= 200
    operations = set(re.findall(r'service="dynamodb",operation="([^"]*)"', text))
    assert len(operations) <= len(MEMBERS) + 1  # DynamoDB's operations and "unknown"
