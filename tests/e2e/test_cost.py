"""The cost view: exact GB-months per bucket and class by the store clock, early deletion,
requests by tier, DynamoDB units and storage, month roll-over, restart, CLI and metrics.

One server per module: the clock only moves forward. Every expected figure is computed
here from the clock's readings and the price list, never copied from an answer."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strata.remote import RemoteError
from strata.testing import Server

GB = 1024**3
DAY_S = 86400.0
FLUSH_S = 0.3


@pytest.fixture(scope="module")
def cost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"STRATA_COST_FLUSH_INTERVAL_S": str(FLUSH_S)}
    with Server(tmp_path_factory.mktemp("cost") / "data", env=env) as server:
        yield server


def clock_now(server: Server) -> float:
    return datetime.datetime.fromisoformat(server.remote.clock()["now"]).timestamp()


def month_start_after(now_s: float, months: int) -> datetime.datetime:
    moment = datetime.datetime.fromtimestamp(now_s, datetime.UTC)
    index = moment.year * 12 + moment.month - 1 + months
    return datetime.datetime(index // 12, index % 12 + 1, 1, tzinfo=datetime.UTC)


def report(server: Server, month: str | None = None) -> dict[str, Any]:
    query = [("month", month)] if month else []
    answer: dict[str, Any] = server.remote.admin("GET", "cost", query)
    return answer


def line(answer: dict[str, Any], bucket: str, cls: str) -> dict[str, Any]:
    for entry in answer["buckets"]:
        if entry["bucket"] == bucket:
            for item in entry["classes"]:
                if item["storage_class"] == cls:
                    return dict(item)
    raise AssertionError(f"no {cls} line for {bucket}: {answer['buckets']}")


def table_line(answer: dict[str, Any], table: str) -> dict[str, Any]:
    for entry in answer["tables"]:
        if entry["table"] == table:
            return dict(entry)
    raise AssertionError(f"no line for table {table}: {answer['tables']}")


def wait_for(check: Any, what: str) -> Any:
    """The metered requests land within a flush interval: poll a bounded while."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within 20 s") from None
        time.sleep(FLUSH_S)


def test_a_month_of_buckets(cost_server: Server) -> None:
    """One month, step by step: storage by class, early deletion, requests, retrieval."""
    s3 = cost_server.client("s3")
    start = month_start_after(clock_now(cost_server), 2)
    cost_server.remote.clock({"set": start.isoformat()})
    month = start.strftime("%Y-%m")
    month_s = (month_start_after(start.timestamp(), 1) - start).total_seconds()
    s3.create_bucket(Bucket="cost-std")
    s3.create_bucket(Bucket="cost-ia")
    put_at = clock_now(cost_server)
    s3.put_object(Bucket="cost-std", Key="big", Body=b"s" * (1024 * 1024))
    s3.put_object(Bucket="cost-std", Key="small", Body=b"t" * 3072)
    ia_size = 2 * 1024 * 1024
    s3.put_object(Bucket="cost-ia", Key="ia", Body=b"i" * ia_size, StorageClass="STANDARD_IA")
    for _ in range(5):
        s3.get_object(Bucket="cost-std", Key="big")["Body"].read()
    s3.head_object(Bucket="cost-std", Key="small")
    s3.get_object(Bucket="cost-ia", Key="ia")["Body"].read()
    s3.list_objects_v2(Bucket="cost-std")
    cost_server.advance_clock(10 * DAY_S)
    s3.delete_object(Bucket="cost-ia", Key="ia")  # 20 of its 30 days still owed
    cost_server.advance_clock(4 * DAY_S)
    now = clock_now(cost_server)

    answer = report(cost_server)
    assert answer["period"]["month"] == month
    assert answer["period"]["closed"] is False
    std = line(answer, "cost-std", "STANDARD")
    std_bytes = 1024 * 1024 + 3072
    assert std["bytes"] == std_bytes
    assert std["objects"] == 2
    stored_s = now - put_at
    assert std["gb_months"] == pytest.approx(std_bytes / GB * stored_s / month_s, rel=1e-3)
    assert std["accrued_usd"]["storage"] == pytest.approx(std["gb_months"] * 0.023, rel=1e-3)
    # the rest of the month at today's bytes: the whole month's storage (to the second)
    whole_month = std_bytes / GB * 0.023 * (start.timestamp() + month_s - put_at) / month_s
    assert std["projected_usd"]["storage"] == pytest.approx(whole_month, rel=1e-3)

    ia = line(answer, "cost-ia", "STANDARD_IA")
    assert ia["bytes"] == 0
    assert ia["gb_months"] == pytest.approx(ia_size / GB * 10 * DAY_S / month_s, rel=1e-3)
    early = ia_size / GB * (20 / 30) * 0.0125
    assert ia["accrued_usd"]["early_deletion"] == pytest.approx(early, rel=1e-3)
    assert ia["projected_usd"]["storage"] == pytest.approx(ia["accrued_usd"]["storage"])

    # CreateBucket and two PUTs and a LIST are tier 1; five GETs and a HEAD tier 2
    assert std["requests"] == {"tier1": 4, "tier2": 6}
    assert std["retrieved_bytes"] == 0  # STANDARD charges no retrieval
    assert std["accrued_usd"]["requests"] == pytest.approx((4 * 0.005 + 6 * 0.0004) / 1000)
    assert ia["requests"] == {"tier1": 1, "tier2": 1}
    assert ia["retrieved_bytes"] == ia_size
    assert ia["accrued_usd"]["retrieval"] == pytest.approx(ia_size / GB * 0.01)
    # the bucket's PUT is STANDARD's; the DELETE is free
    assert line(answer, "cost-ia", "STANDARD")["requests"] == {"tier1": 1, "tier2": 0}
    elapsed = now - start.timestamp()
    assert std["projected_usd"]["requests"] == pytest.approx(
        std["accrued_usd"]["requests"] * month_s / elapsed, rel=1e-3
    )
    total = answer["total"]["accrued_usd"]["total"]
    assert total == pytest.approx(
        sum(e["accrued_usd"]["total"] for e in answer["buckets"])
        + sum(t["accrued_usd"]["total"] for t in answer["tables"]),
        abs=1e-5,
    )

    # the month closes: its figures stay, the next one counts from its first second
    cost_server.remote.clock({"set": month_start_after(start.timestamp(), 1).isoformat()})
    cost_server.advance_clock(3 * DAY_S)
    closed = report(cost_server, month)
    assert closed["period"]["closed"] is True
    closed_std = line(closed, "cost-std", "STANDARD")
    gb_months = std_bytes / GB * (start.timestamp() + month_s - put_at) / month_s
    assert closed_std["gb_months"] == pytest.approx(gb_months, rel=1e-3)
    assert closed_std["projected_usd"] == closed_std["accrued_usd"]
    following = line(report(cost_server), "cost-std", "STANDARD")
    next_month_s = (
        month_start_after(start.timestamp(), 2) - month_start_after(start.timestamp(), 1)
    ).total_seconds()
    assert following["gb_months"] == pytest.approx(
        std_bytes / GB * 3 * DAY_S / next_month_s, rel=1e-3
    )
    assert following["requests"] == {"tier1": 0, "tier2": 0}
    s3.close()


def test_table_units_and_storage(cost_server: Server) -> None:
    ddb = cost_server.client("dynamodb")
    ddb.create_table(
        TableName="cost-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(10):
        ddb.put_item(TableName="cost-table", Item={"pk": {"S": f"k{n}"}, "v": {"S": "x" * 100}})
    for n in range(4):
        ddb.get_item(TableName="cost-table", Key={"pk": {"S": f"k{n}"}}, ConsistentRead=True)
        ddb.get_item(TableName="cost-table", Key={"pk": {"S": f"k{n}"}})
    ddb.update_item(
        TableName="cost-table",
        Key={"pk": {"S": "k0"}},
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"N": "1"}},
    )
    ddb.delete_item(TableName="cost-table", Key={"pk": {"S": "k9"}})

    def metered() -> dict[str, Any]:
        found = table_line(report(cost_server), "cost-table")
        assert found["write_units"] == 12  # ten puts, an update, a delete: 1 KB or less each
        assert found["read_units"] == 6  # four strong reads, four eventual halves
        return found

    found = wait_for(metered, "the table's request units")
    assert found["accrued_usd"]["requests"] == pytest.approx(18 * 1.25 / 1_000_000)
    size = found["bytes"]
    cost_server.advance_clock(2 * DAY_S)
    later = table_line(report(cost_server), "cost-table")
    assert later["bytes"] == size
    month_s = _month_seconds(clock_now(cost_server))
    # sampled at the flush before the clock moved: at least the two days jumped over
    assert later["gb_months"] >= size / GB * 2 * DAY_S / month_s * 0.999
    assert later["accrued_usd"]["storage"] == pytest.approx(later["gb_months"] * 0.25, rel=1e-6)
    ddb.close()


def _month_seconds(now_s: float) -> float:
    return (month_start_after(now_s, 1) - month_start_after(now_s, 0)).total_seconds()


def test_bad_month_and_who_may_ask(cost_server: Server) -> None:
    with pytest.raises(RemoteError) as raised:
        report(cost_server, "2026-13")
    assert raised.value.status == 400
    assert raised.value.code == "InvalidArgument"
    request = urllib.request.Request(cost_server.endpoint_url + "/_strata/cost")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    earlier = report(cost_server, "2001-01")  # before counting began: nothing
    assert earlier["buckets"] == [] or all(
        c["gb_months"] == 0 for b in earlier["buckets"] for c in b["classes"]
    )


def test_metrics_and_cli(cost_server: Server) -> None:
    metrics = cost_server.endpoint_url + "/_strata/metrics"
    with urllib.request.urlopen(metrics, timeout=10) as answer:
        text = answer.read().decode()
    assert (
        'strata_bucket_cost_accrued_usd{bucket="cost-std",storage_class="STANDARD",kind="storage"}'
        in text
    )
    assert 'strata_table_cost_projected_usd{table="cost-table",kind="requests"}' in text
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}
    base = [sys.executable, "-m", "strata.cli", "cost", "--endpoint", cost_server.endpoint_url]
    base += ["--data-dir", cost_server.data_dir]
    shown = subprocess.run(base, capture_output=True, text=True, timeout=60, env=environ)
    assert shown.returncode == 0, shown.stderr
    assert "s3://cost-std" in shown.stdout
    assert "STANDARD" in shown.stdout
    assert "dynamodb://cost-table" in shown.stdout
    assert shown.stdout.splitlines()[0].startswith("Cost for ")
    as_json = subprocess.run(
        [*base, "--json"], capture_output=True, text=True, timeout=60, env=environ
    )
    assert as_json.returncode == 0, as_json.stderr
    assert '"currency": "USD"' in as_json.stdout
    bad = subprocess.run(
        [*base, "--month", "June"], capture_output=True, text=True, timeout=60, env=environ
    )
    assert bad.returncode == 1
    assert "month must be YYYY-MM" in bad.stderr


def test_restart_keeps_the_figures(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", env={"STRATA_COST_FLUSH_INTERVAL_S": "3600"})
    with server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k", Body=b"k" * 4096)
        s3.get_object(Bucket="kept", Key="k")["Body"].read()
        server.advance_clock(5 * DAY_S)  # flushes the metered requests first
        before = line(report(server), "kept", "STANDARD")
        s3.close()
    with server:  # the same data directory: a SIGTERM flushed what was metered since
        server.advance_clock(1)
        after = line(report(server), "kept", "STANDARD")
    assert after["requests"] == before["requests"] == {"tier1": 2, "tier2": 1}
    assert after["gb_months"] >= before["gb_months"]
    assert after["gb_months"] == pytest.approx(before["gb_months"], rel=1e-2)


def test_prices_are_configurable(tmp_path: Path) -> None:
    env = {"STRATA_COST_PRICES": "storage.STANDARD=1.5,tier1.STANDARD=0"}
    with Server(tmp_path / "data", env=env) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="priced")
        s3.put_object(Bucket="priced", Key="k", Body=b"p" * 8192)
        server.advance_clock(DAY_S)
        found = line(report(server), "priced", "STANDARD")
        assert found["accrued_usd"]["storage"] == pytest.approx(found["gb_months"] * 1.5)
        assert found["accrued_usd"]["requests"] == 0
        s3.close()
    refused = subprocess.run(
        [sys.executable, "-m", "strata.cli", "server", "--data-dir", str(tmp_path / "other")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STRATA_COST_PRICES": "storage.PLATINUM=1"},
    )
    assert refused.returncode != 0
    assert "cost_prices" in refused.stderr
    assert "storage.PLATINUM" in refused.stderr


LIFECYCLE_JSON = """{"Rules": [{"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
  "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                  {"Days": 60, "StorageClass": "GLACIER"}],
  "Expiration": {"Days": 100}}]}"""


def _midnight_after(moment: datetime.datetime, days: int) -> str:
    day = (moment + datetime.timedelta(days=days)).date() + datetime.timedelta(days=1)
    return f"{day.isoformat()}T00:00:00Z"


def test_lifecycle_preview(tmp_path: Path) -> None:
    with Server(tmp_path / "data") as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="preview")
        big = 200 * 1024
        for n in range(3):
            s3.put_object(Bucket="preview", Key=f"logs/{n}", Body=b"l" * big)
        s3.put_object(Bucket="preview", Key="logs/small", Body=b"s" * 10240)  # under 128 KB
        s3.put_object(Bucket="preview", Key="keep/x", Body=b"k" * 300 * 1024)
        created = s3.head_object(Bucket="preview", Key="logs/0")["LastModified"]
        rules = tmp_path / "rules.json"
        rules.write_text(LIFECYCLE_JSON)
        status, body = server.remote.call(
            "POST",
            "/_strata/cost/lifecycle",
            query=[("bucket", "preview"), ("days", "400")],
            body=rules.read_bytes(),
        )
        assert status == 200, body
        result = json.loads(body)
        assert result["versions"] == 5
        assert result["counts"] == {"transition": 6, "expire": 4}
        first = [a for a in result["actions"] if a["key"] == "logs/0"]
        assert [(a["action"], a["from_class"], a["to_class"], a["at"]) for a in first] == [
            ("transition", "STANDARD", "STANDARD_IA", _midnight_after(created, 30)),
            ("transition", "STANDARD_IA", "GLACIER", _midnight_after(created, 60)),
            ("expire", "GLACIER", None, _midnight_after(created, 100)),
        ]
        small = [a["action"] for a in result["actions"] if a["key"] == "logs/small"]
        assert small == ["expire"]  # too small to transition by default
        assert not [a for a in result["actions"] if a["key"] == "keep/x"]
        stored = 3 * big + 10240 + 300 * 1024
        assert result["bytes_before"] == {"STANDARD": stored}
        assert result["bytes_after"] == {"STANDARD": 300 * 1024}
        monthly = result["monthly_storage_usd"]
        assert monthly["before"] == pytest.approx(stored / GB * 0.023)
        assert monthly["after"] == pytest.approx(300 * 1024 / GB * 0.023)
        once = result["one_time_usd"]
        assert once["transition_requests"] == pytest.approx(3 * (0.01 + 0.03) / 1000)
        # 40 days in GLACIER of its 90: 50 owed, at GLACIER's price per 30-day month
        assert once["early_deletion"] == pytest.approx(3 * big / GB * 50 / 30 * 0.0036)
        # nothing changed: the objects are where they were
        assert s3.head_object(Bucket="preview", Key="logs/0").get("StorageClass") is None

        # S3's own validation and words; a missing bucket; the XML form
        bad = '{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""},'
        bad += ' "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}]}'
        status, body = server.remote.call(
            "POST", "/_strata/cost/lifecycle", query=[("bucket", "preview")], body=bad.encode()
        )
        assert status == 400
        assert json.loads(body)["error"] == "InvalidArgument"
        status, body = server.remote.call(
            "POST", "/_strata/cost/lifecycle", query=[("bucket", "nope")], body=rules.read_bytes()
        )
        assert (status, json.loads(body)["error"]) == (404, "NoSuchBucket")
        xml = (
            "<LifecycleConfiguration><Rule><ID>all</ID><Status>Enabled</Status><Filter/>"
            "<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"
        )
        status, body = server.remote.call(
            "POST", "/_strata/cost/lifecycle", query=[("bucket", "preview")], body=xml.encode()
        )
        assert status == 200
        assert json.loads(body)["counts"] == {"expire": 5}

        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRATA_"))}
        shown = subprocess.run(
            [sys.executable, "-m", "strata.cli", "cost", "--lifecycle", str(rules), "s3://preview",
             "--endpoint", server.endpoint_url, "--data-dir", server.data_dir],
            capture_output=True, text=True, timeout=60, env=environ,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert "actions: 4 expire, 6 transition" in shown.stdout
        assert "logs/0" in shown.stdout
        s3.close()


def test_restores_are_billed_by_class_and_tier(tmp_path: Path) -> None:
    with Server(tmp_path / "data", env={"STRATA_COST_FLUSH_INTERVAL_S": str(FLUSH_S)}) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="cold")
        size = 300 * 1024
        s3.put_object(Bucket="cold", Key="g", Body=b"g" * size, StorageClass="GLACIER")
        s3.put_object(Bucket="cold", Key="d", Body=b"d" * size, StorageClass="DEEP_ARCHIVE")
        for key, tier in (("g", "Expedited"), ("d", "Bulk")):
            s3.restore_object(
                Bucket="cold",
                Key=key,
                RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": tier}},
            )

        def billed() -> tuple[dict[str, Any], dict[str, Any]]:
            answer = report(server)
            glacier, deep = line(answer, "cold", "GLACIER"), line(answer, "cold", "DEEP_ARCHIVE")
            assert glacier["restores"] == 1
            assert deep["restores"] == 1
            return glacier, deep

        glacier, deep = wait_for(billed, "the restores")
        assert glacier["restored_bytes"] == deep["restored_bytes"] == size
        # Expedited from GLACIER: $10 per 1,000 requests and $0.03 per GB; Bulk from
        # DEEP_ARCHIVE: $0.025 per 1,000 and $0.0025 per GB
        expected = 10.0 / 1000 + size / GB * 0.03
        assert glacier["accrued_usd"]["retrieval"] == pytest.approx(expected)
        assert deep["accrued_usd"]["retrieval"] == pytest.approx(0.025 / 1000 + size / GB * 0.0025)
        # the restore is not also a PUT/POST request: only the PUTs are tier 1
        assert glacier["requests"] == {"tier1": 1, "tier2": 0}
        s3.close()
