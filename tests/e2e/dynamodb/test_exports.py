"""ExportTableToPointInTime into a Strata bucket, DescribeExport, ListExports, end to end:
the files read back with gzip + json are the table's items, laid out as AWS lays them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.server import start_server


def wait_export(dynamodb: Any, arn: str) -> dict[str, Any]:
    for _ in range(400):
        described = dynamodb.describe_export(ExportArn=arn)["ExportDescription"]
        if described["ExportStatus"] != "IN_PROGRESS":
            return described
        time.sleep(0.05)
    raise AssertionError("export never finished")


def table_items(dynamodb: Any, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def fill(dynamodb: Any, name: str, count: int) -> None:
    for first in range(0, count, 25):
        dynamodb.batch_write_item(
            RequestItems={
                name: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"p{n % 9}"},
                                "sk": {"S": f"s{n:05d}"},
                                "n": {"N": str(n)},
                                "b": {"B": bytes([n % 256, 1, 2])},
                                "ss": {"SS": [f"a{n}", "b"]},
                                "m": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}]}}},
                            }
                        }
                    }
                    for n in range(first, min(first + 25, count))
                ]
            }
        )


def pitr_on(dynamodb: Any, table: str) -> str:
    """AWS exports only tables with point-in-time recovery on."""
    dynamodb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    return table


def test_export_layout_and_items(dynamodb: Any, s3: Any, unique_name: str) -> None:
    table = pitr_on(dynamodb, make_table(dynamodb, unique_name))
    fill(dynamodb, table, 140)
    expected = sorted(table_items(dynamodb, table), key=key_of)
    bucket = f"exp-{unique_name}".lower()[:60]
    s3.create_bucket(Bucket=bucket)
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    started = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, S3Prefix="nightly", ExportFormat="DYNAMODB_JSON"
    )["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert started["ExportArn"].startswith(f"{arn}/export/")
    # Written after the export was asked for: not in it.
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "late"}, "sk": {"S": "x"}})
    done = wait_export(dynamodb, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 140
    assert done["ExportFormat"] == "DYNAMODB_JSON"
    assert done["ExportType"] == "FULL_EXPORT"
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    folder = f"nightly/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{folder}/manifest-summary.json"

    summary_raw = s3.get_object(Bucket=bucket, Key=f"{folder}/manifest-summary.json")["Body"]
    summary = json.loads(summary_raw.read())
    assert summary["exportArn"] == started["ExportArn"]
    assert summary["tableArn"] == arn
    assert summary["itemCount"] == 140
    assert summary["outputFormat"] == "DYNAMODB_JSON"
    assert summary["s3Bucket"] == bucket
    assert summary["s3Prefix"] == "nightly"
    assert summary["manifestFilesS3Key"] == f"{folder}/manifest-files.json"
    s3.head_object(Bucket=bucket, Key=f"{folder}/_started")

    manifest = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
    exported: list[dict[str, Any]] = []
    for line in manifest.decode().splitlines():
        entry = json.loads(line)
        assert entry["dataFileS3Key"].startswith(f"{folder}/data/")
        assert entry["dataFileS3Key"].endswith(".json.gz")
        body = s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read()
        assert entry["md5Checksum"] == base64.b64encode(hashlib.md5(body).digest()).decode()
        rows = [json.loads(row) for row in gzip.decompress(body).decode().splitlines()]
        assert len(rows) == entry["itemCount"]
        exported.extend(row["Item"] for row in rows)
    # DynamoDB JSON as the wire has it: binary base64, sets as lists, maps nested.
    wire = [{**item, "b": {"B": base64.b64encode(item["b"]["B"]).decode()}} for item in expected]
    assert sorted(exported, key=key_of) == sorted(wire, key=key_of)

    listed = dynamodb.list_exports(TableArn=arn)["ExportSummaries"]
    assert {"ExportArn": started["ExportArn"], "ExportStatus": "COMPLETED"}.items() <= (
        listed[0].items()
    )
    dynamodb.delete_table(TableName=table)


def test_export_errors_and_failures(dynamodb: Any, unique_name: str) -> None:
    table = make_table(dynamodb, unique_name)
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    missing_table = arn.rsplit("/", 1)[0] + "/no-such-table"
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(TableArn=missing_table, S3Bucket="any-bucket")
    assert error_of(caught)[0] == "TableNotFoundException"
    with pytest.raises(ClientError) as caught:  # PITR off
        dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket="any-bucket")
    assert error_of(caught)[0] == "PointInTimeRecoveryUnavailableException"
    pitr_on(dynamodb, table)
    with pytest.raises(ClientError) as caught:  # before the window opened
        dynamodb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket="any-bucket", ExportTime=time.time() - 3600
        )
    assert error_of(caught)[0] == "InvalidExportTimeException"
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket="any-bucket", ExportTime=time.time() + 3600
        )
    assert error_of(caught)[0] == "InvalidExportTimeException"
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_export(ExportArn=f"{arn}/export/01700000000000-deadbeef")
    assert error_of(caught)[0] == "ExportNotFoundException"
    # No such bucket: the export is accepted, then FAILED, as AWS reports it.
    started = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=f"missing-{unique_name}".lower()[:60], ClientToken="tok-1"
    )["ExportDescription"]
    failed = wait_export(dynamodb, started["ExportArn"])
    assert failed["ExportStatus"] == "FAILED"
    assert failed["FailureCode"] == "S3NoSuchBucket"
    # The same ClientToken: the same export; with other parameters: a conflict.
    again = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=f"missing-{unique_name}".lower()[:60], ClientToken="tok-1"
    )["ExportDescription"]
    assert again["ExportArn"] == started["ExportArn"]
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket="other-bucket", ClientToken="tok-1"
        )
    assert error_of(caught)[0] == "ExportConflictException"
    dynamodb.delete_table(TableName=table)


def test_list_exports_pages(dynamodb: Any, s3: Any, unique_name: str) -> None:
    table = pitr_on(dynamodb, make_table(dynamodb, unique_name))
    bucket = f"pages-{unique_name}".lower()[:60]
    s3.create_bucket(Bucket=bucket)
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    arns = [
        dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)["ExportDescription"][
            "ExportArn"
        ]
        for _ in range(3)
    ]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"TableArn": arn, "MaxResults": 2}
    while True:
        page = dynamodb.list_exports(**kwargs)
        assert len(page["ExportSummaries"]) <= 2
        seen.extend(e["ExportArn"] for e in page["ExportSummaries"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == arns
    for export_arn in arns:
        assert wait_export(dynamodb, export_arn)["ExportStatus"] == "COMPLETED"
    dynamodb.delete_table(TableName=table)


def test_kill_during_an_export_then_it_completes(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        ddb = client(server, "dynamodb")
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="exports")
        table = pitr_on(ddb, make_table(ddb, "killed"))
        fill(ddb, table, 3000)
        arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
        started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports")
        export_arn = started["ExportDescription"]["ExportArn"]
        server.kill()  # kill -9 right after the answer, while the files are written
        server = start_server(tmp_path / "data")
        ddb = client(server, "dynamodb")
        done = wait_export(ddb, export_arn)
        assert done["ExportStatus"] == "COMPLETED"
        assert done["ItemCount"] == 3000
    finally:
        server.stop()
