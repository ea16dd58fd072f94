"""The store clock tests can drive: GET/POST /_strata/clock, ``strata clock``, what follows
it (presigned expiry, TTL) and what does not (the signing-skew check).

One server per module: the clock only moves forward, so it must not be the session's."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from strata.remote import Credentials, Remote, RemoteError
from strata.testing import Server

DAY_S = 86400.0


@pytest.fixture(scope="module")
def clock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A TTL sweep an hour apart: only the clock's wake-up makes expiry prompt.
    env = {"STRATA_TTL_SWEEP_INTERVAL_S": "3600"}
    with Server(tmp_path_factory.mktemp("clock") / "data", env=env) as server:
        yield server


def parse(now: str) -> float:
    return datetime.datetime.fromisoformat(now).timestamp()


def test_show_and_advance(clock_server: Server) -> None:
    remote = clock_server.remote
    asked_from = int(time.time())  # the answer may be in whole seconds
    before = remote.clock()
    answered_by = time.time()
    # the store clock is the wall clock plus the offset, read while the request ran
    shown = parse(before["now"]) - before["offset_s"]
    assert asked_from <= shown <= answered_by
    after = clock_server.advance_clock(3600)
    assert after["offset_s"] == pytest.approx(before["offset_s"] + 3600)
    assert parse(after["now"]) - parse(before["now"]) >= 3600
    assert after["now"].endswith("+00:00")
    shown = remote.clock()
    assert shown["offset_s"] == after["offset_s"]
    target = datetime.datetime.fromtimestamp(parse(shown["now"]) + DAY_S, datetime.UTC)
    moved = remote.clock({"set": target.isoformat()})
    assert abs(parse(moved["now"]) - target.timestamp()) < 5


@pytest.mark.parametrize(
    "change",
    [
        {"advance_s": -1},
        {"set": "2001-01-01T00:00:00Z"},
        {"advance_s": "10"},
        {"advance_s": True},
        {"set": "yesterday"},
        {"advance_s": 1, "set": "2030-01-01T00:00:00Z"},
        {},
        {"advance_s": 1e12},
    ],
)
def test_backwards_or_malformed_is_400_and_changes_nothing(
    clock_server: Server, change: dict[str, Any]
) -> None:
    before = clock_server.remote.clock()["offset_s"]
    with pytest.raises(RemoteError) as caught:
        clock_server.remote.clock(change)
    assert (caught.value.status, caught.value.code) == (400, "InvalidArgument")
    assert clock_server.remote.clock()["offset_s"] == before


def test_moving_it_needs_the_root_key(clock_server: Server) -> None:
    # An IAM user's key (`strata keys create` makes root keys, which may move it).
    iam = clock_server.client("iam")
    iam.create_user(UserName="clock-watcher")
    key = iam.create_access_key(UserName="clock-watcher")["AccessKey"]
    user = Remote(
        clock_server.endpoint_url, Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    )
    before = user.clock()["offset_s"]  # any valid key may look
    with pytest.raises(RemoteError) as caught:
        user.clock({"advance_s": 60})
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    request = urllib.request.Request(
        f"{clock_server.endpoint_url}/_strata/clock", data=b'{"advance_s": 60}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(request, timeout=10)
    assert anonymous.value.code == 403
    anonymous.value.close()
    assert user.clock()["offset_s"] == before


def test_signing_uses_real_time_and_presigned_urls_the_store_clock(clock_server: Server) -> None:
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    s3 = clock_server.client("s3", config=config)
    s3.create_bucket(Bucket="clocked")
    s3.put_object(Bucket="clocked", Key="k", Body=b"hello")
    # Signed by real time: valid for an hour past the store clock's now.
    offset_s = clock_server.remote.clock()["offset_s"]
    assert offset_s < 5 * DAY_S
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "clocked", "Key": "k"}, ExpiresIn=int(offset_s) + 3600
    )
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.read() == b"hello"
    clock_server.advance_clock(2 * 3600)
    # Signed now by real time, two hours behind the store clock: still accepted.
    assert s3.get_object(Bucket="clocked", Key="k")["Body"].read() == b"hello"
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(url, timeout=10)
    assert expired.value.code == 403
    assert b"<Code>AccessDenied</Code>" in expired.value.read()
    expired.value.close()


def test_advancing_wakes_the_ttl_sweeper(clock_server: Server) -> None:
    dynamodb = clock_server.client("dynamodb")
    dynamodb.create_table(
        TableName="ttl-clock",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="ttl-clock",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    now = parse(clock_server.remote.clock()["now"])
    for name, ttl in (("soon", now + DAY_S), ("later", now + 10 * DAY_S)):
        dynamodb.put_item(
            TableName="ttl-clock", Item={"pk": {"S": name}, "expires": {"N": str(int(ttl))}}
        )
    time.sleep(1)  # let the sweeper's first pass end: the next is an hour away
    clock_server.advance_clock(2 * DAY_S)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keys = {i["pk"]["S"] for i in dynamodb.scan(TableName="ttl-clock")["Items"]}
        if keys == {"later"}:
            break
        time.sleep(0.2)
    assert keys == {"later"}


def test_cli_and_restart_keep_the_clock(tmp_path: Path) -> None:
    with Server(tmp_path / "data") as server:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "strata.cli",
                    "clock",
                    *args,
                    "--endpoint",
                    server.endpoint_url,
                    "--data-dir",
                    server.data_dir,
                ],
                capture_output=True,
                text=True,
                timeout=60,
                env=environ,
            )

        advanced = cli("advance", "31d")
        assert advanced.returncode == 0, advanced.stderr
        assert "(offset 2678400." in advanced.stdout
        assert cli("advance", "soon").returncode == 2
        back = cli("set", "2001-01-01T00:00:00")
        assert back.returncode == 1
        assert "InvalidArgument" in back.stderr
        shown = cli("show")
        assert shown.returncode == 0
        offset = float(shown.stdout.split("offset ")[1].split(" ")[0])
        assert offset == pytest.approx(31 * DAY_S)
        server.stop()
        server.start()
        assert server.remote.clock()["offset_s"] == pytest.approx(31 * DAY_S)
        server.reset()  # a replaced store keeps the running clock
        server.stop()
        server.start()
        assert server.remote.clock()["offset_s"] == pytest.approx(31 * DAY_S)
