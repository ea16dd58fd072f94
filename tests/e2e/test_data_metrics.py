"""Metrics about stored data, end to end: buckets, objects, bytes, tables, items, indexes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client
from tests.e2e.test_metrics import samples, scrape
from tests.server import RunningServer, start_server


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own (exact figures), with at most 2 per-bucket/per-table series."""
    running = start_server(
        tmp_path_factory.mktemp("data-metrics") / "data", env={"STRATA_METRICS_SERIES_MAX": "2"}
    )
    yield running
    running.stop()


def bucket_series(values: dict[str, float], name: str) -> dict[tuple[str, str], float]:
    out = {}
    for series, value in values.items():
        if series.startswith(name + "{"):
            labels = dict(part.split("=", 1) for part in series[len(name) + 1 : -1].split(","))
            out[(labels["bucket"].strip('"'), labels["storage_class"].strip('"'))] = value
    return out


def test_bucket_figures_follow_writes_overwrites_and_deletes(own_server: RunningServer) -> None:
    s3 = client(own_server, "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="alpha")
    s3.create_bucket(Bucket="empty")
    s3.put_object(Bucket="alpha", Key="a", Body=b"x" * 10)
    s3.put_object(Bucket="alpha", Key="a", Body=b"x" * 30)  # replaces the null version
    s3.put_object(Bucket="alpha", Key="big", Body=b"y" * 100_000)  # a blob, not inline
    s3.put_object(Bucket="alpha", Key="cold", Body=b"z" * 7, StorageClass="GLACIER")
    s3.put_object(Bucket="alpha", Key="gone", Body=b"g" * 5)
    s3.delete_object(Bucket="alpha", Key="gone")
    s3.copy_object(Bucket="alpha", Key="a2", CopySource={"Bucket": "alpha", "Key": "a"})
    upload = s3.create_multipart_upload(Bucket="alpha", Key="mp")["UploadId"]
    part = s3.upload_part(
        Bucket="alpha", Key="mp", UploadId=upload, PartNumber=1, Body=b"m" * (5 * 1024 * 1024)
    )
    s3.complete_multipart_upload(
        Bucket="alpha",
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    values = samples(scrape(own_server))
    assert values["strata_buckets"] == 2
    objects = bucket_series(values, "strata_bucket_objects")
    sizes = bucket_series(values, "strata_bucket_bytes")
    assert objects == {("alpha", "STANDARD"): 4, ("alpha", "GLACIER"): 1}
    assert sizes == {
        ("alpha", "STANDARD"): 30 + 100_000 + 30 + 5 * 1024 * 1024,
        ("alpha", "GLACIER"): 7,
    }


def test_versioned_buckets_count_noncurrent_versions_and_markers(
    own_server: RunningServer,
) -> None:
    s3 = client(own_server, "s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="versions")
    s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="versions", Key="k", Body=b"1" * 11)["VersionId"]
    s3.put_object(Bucket="versions", Key="k", Body=b"2" * 22)
    s3.delete_object(Bucket="versions", Key="k")  # a delete marker
    values = samples(scrape(own_server))
    assert bucket_series(values, "strata_bucket_objects")[("versions", "STANDARD")] == 2
    assert bucket_series(values, "strata_bucket_bytes")[("versions", "STANDARD")] == 33
    assert values['strata_bucket_delete_markers{bucket="versions"}'] == 1
    s3.delete_object(Bucket="versions", Key="k", VersionId=first)
    values = samples(scrape(own_server))
    assert bucket_series(values, "strata_bucket_bytes")[("versions", "STANDARD")] == 22


def test_series_beyond_the_cap_are_summed_as_other(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", env={"STRATA_METRICS_SERIES_MAX": "2"})
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        for name, size in (("large", 300), ("medium", 200), ("small-1", 1), ("small-2", 2)):
            s3.create_bucket(Bucket=name)
            s3.put_object(Bucket=name, Key="k", Body=b"s" * size)
        sizes = bucket_series(samples(scrape(server)), "strata_bucket_bytes")
        assert sizes == {
            ("large", "STANDARD"): 300,
            ("medium", "STANDARD"): 200,
            ("(other)", "STANDARD"): 3,  # small-1 and small-2
        }
    finally:
        server.stop()


def test_bucket_figures_survive_a_restart_and_a_namesake_starts_at_zero(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "data")
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="keep")
        s3.put_object(Bucket="keep", Key="k", Body=b"k" * 42)
        server.stop()
        server = start_server(tmp_path / "data", port=server.port)
        assert bucket_series(samples(scrape(server)), "strata_bucket_bytes") == {
            ("keep", "STANDARD"): 42
        }
        s3.delete_object(Bucket="keep", Key="k")
        s3.delete_bucket(Bucket="keep")
        s3.create_bucket(Bucket="keep")
        values = samples(scrape(server))
        assert bucket_series(values, "strata_bucket_bytes") == {}
        assert values["strata_buckets"] == 1
    finally:
        server.stop()


def wait_for(server: RunningServer, series: dict[str, float]) -> dict[str, float]:
    """Table figures are counted in the background: scrape until they show (bounded)."""
    deadline = time.monotonic() + 20
    while True:
        values = samples(scrape(server))
        if all(values.get(name) == value for name, value in series.items()):
            return values
        assert time.monotonic() < deadline, {k: values.get(k) for k in series}
        time.sleep(0.2)


def test_table_and_index_figures(own_server: RunningServer) -> None:
    dynamodb: Any = client(own_server, "dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(5):
        item = {"pk": {"S": "p"}, "sk": {"S": f"s{n}"}}
        if n < 3:
            item["g"] = {"S": "x"}
        if n < 2:
            item["l"] = {"S": "y"}
        dynamodb.put_item(TableName="orders", Item=item)
    described = dynamodb.describe_table(TableName="orders")["Table"]
    indexes = {
        i["IndexName"]: i
        for i in described["GlobalSecondaryIndexes"] + described["LocalSecondaryIndexes"]
    }
    values = wait_for(
        own_server,
        {
            'strata_table_items{table="orders"}': 5,
            'strata_table_bytes{table="orders"}': described["TableSizeBytes"],
            'strata_index_items{table="orders",index="by-g",kind="GSI"}': 3,
            'strata_index_items{table="orders",index="by-l",kind="LSI"}': 2,
            'strata_index_bytes{table="orders",index="by-g",kind="GSI"}': indexes["by-g"][
                "IndexSizeBytes"
            ],
        },
    )
    assert values["strata_tables"] >= 1
    dynamodb.delete_item(TableName="orders", Key={"pk": {"S": "p"}, "sk": {"S": "s4"}})
    wait_for(own_server, {'strata_table_items{table="orders"}': 4})


def test_figures_follow_a_reset(tmp_path: Path) -> None:
    from strata.remote import Credentials, Remote

    server = start_server(tmp_path / "data")
    try:
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        dynamodb: Any = client(server, "dynamodb")
        s3.create_bucket(Bucket="before")
        s3.put_object(Bucket="before", Key="k", Body=b"b" * 9)
        Remote(server.endpoint, Credentials(server.access_key, server.secret_key)).admin(
            "POST", "reset"
        )
        dynamodb.create_table(
            TableName="after",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="after", Item={"pk": {"S": "one"}})
        values = wait_for(server, {'strata_table_items{table="after"}': 1, "strata_tables": 1})
        assert values["strata_buckets"] == 0
        assert bucket_series(values, "strata_bucket_bytes") == {}
    finally:
        server.stop()
