"""On-demand backups end to end with boto3: CreateBackup, DescribeBackup, ListBackups,
DeleteBackup, RestoreTableFromBackup; consistency, overrides, errors, table deletion,
restart and kill -9."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.server import start_server

GSI = {
    "IndexName": "by_g",
    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}
LSI = {
    "IndexName": "by_l",
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "l", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}


def put_items(dynamodb: Any, table: str, count: int, tag: str = "v1") -> None:
    for first in range(0, count, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"p{n % 7}"},
                        "sk": {"S": f"s{n:05d}"},
                        "g": {"S": f"g{n % 3}"},
                        "l": {"S": f"l{n:05d}"},
                        "tag": {"S": tag},
                        "n": {"N": str(n)},
                    }
                }
            }
            for n in range(first, min(first + 25, count))
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})


def scan_all(dynamodb: Any, table: str, **extra: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, **extra}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_available(dynamodb: Any, arn: str) -> dict[str, Any]:
    for _ in range(200):
        described = dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]
        if described["BackupDetails"]["BackupStatus"] == "AVAILABLE":
            return described
        time.sleep(0.05)
    raise AssertionError("backup never became AVAILABLE")


def wait_active(dynamodb: Any, name: str) -> dict[str, Any]:
    for _ in range(400):
        table = dynamodb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE":
            return table
        time.sleep(0.05)
    raise AssertionError("restored table never became ACTIVE")


def backed_up_table(dynamodb: Any, name: str) -> str:
    return make_table(dynamodb, name, GlobalSecondaryIndexes=[GSI], LocalSecondaryIndexes=[LSI])


def test_backup_is_consistent_and_restore_gives_items_and_indexes(
    dynamodb: Any, unique_name: str
) -> None:
    source = backed_up_table(dynamodb, unique_name)
    put_items(dynamodb, source, 120)
    expected = scan_all(dynamodb, source)
    created = dynamodb.create_backup(TableName=source, BackupName="nightly-1")["BackupDetails"]
    assert created["BackupStatus"] == "CREATING"
    assert created["BackupType"] == "USER"
    assert created["BackupName"] == "nightly-1"
    assert created["BackupArn"].startswith(
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{source}/backup/"
    )
    arn = created["BackupArn"]
    # Writes after the backup are not in it.
    put_items(dynamodb, source, 130, tag="v2")
    dynamodb.delete_item(TableName=source, Key={"pk": {"S": "p0"}, "sk": {"S": "s00000"}})

    described = wait_available(dynamodb, arn)
    assert described["BackupDetails"]["BackupSizeBytes"] > 0
    details = described["SourceTableDetails"]
    assert details["TableName"] == source
    assert details["ItemCount"] == 120
    assert details["TableSizeBytes"] == described["BackupDetails"]["BackupSizeBytes"]
    assert details["BillingMode"] == "PAY_PER_REQUEST"
    features = described["SourceTableFeatureDetails"]
    assert [i["IndexName"] for i in features["GlobalSecondaryIndexes"]] == ["by_g"]
    assert [i["IndexName"] for i in features["LocalSecondaryIndexes"]] == ["by_l"]
    assert features["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}

    target = f"{source}-restored"
    restored = dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)[
        "TableDescription"
    ]
    assert restored["TableName"] == target
    assert restored["TableStatus"] == "CREATING"
    assert restored["RestoreSummary"]["SourceBackupArn"] == arn
    assert restored["RestoreSummary"]["RestoreInProgress"] is True
    active = wait_active(dynamodb, target)
    assert active["RestoreSummary"]["RestoreInProgress"] is False
    assert active["RestoreSummary"]["SourceTableArn"].endswith(f"table/{source}")
    assert "StreamSpecification" not in active
    assert scan_all(dynamodb, target) == expected
    # The indexes were built: a GSI query and an LSI query answer from them.
    by_g = dynamodb.query(
        TableName=target,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g1"}},
    )["Items"]
    assert len(by_g) == sum(1 for i in expected if i["g"]["S"] == "g1")
    by_l = dynamodb.query(
        TableName=target,
        IndexName="by_l",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p3"}},
    )["Items"]
    assert len(by_l) == sum(1 for i in expected if i["pk"]["S"] == "p3")
    assert scan_all(dynamodb, target, IndexName="by_g") == expected
    dynamodb.delete_table(TableName=target)
    dynamodb.delete_table(TableName=source)


def test_backup_survives_deleting_its_table(dynamodb: Any, unique_name: str) -> None:
    source = make_table(dynamodb, unique_name)
    put_items_plain(dynamodb, source, 40)
    expected = scan_all(dynamodb, source)
    arn = dynamodb.create_backup(TableName=source, BackupName="before-drop")["BackupDetails"][
        "BackupArn"
    ]
    wait_available(dynamodb, arn)
    dynamodb.delete_table(TableName=source)
    # Same name, new table: the restore still gives the backup's items.
    listed = dynamodb.list_backups(TableName=source)["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == [arn]
    dynamodb.restore_table_from_backup(TargetTableName=source, BackupArn=arn)
    wait_active(dynamodb, source)
    assert scan_all(dynamodb, source) == expected
    dynamodb.delete_table(TableName=source)
    deleted = dynamodb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_backup(BackupArn=arn)
    assert error_of(caught)[0] == "BackupNotFoundException"


def put_items_plain(dynamodb: Any, table: str, count: int) -> None:
    for n in range(count):
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": f"k{n % 5}"}, "sk": {"S": f"{n:04d}"}, "v": {"N": str(n)}},
        )


def test_restore_overrides(dynamodb: Any, unique_name: str) -> None:
    source = backed_up_table(dynamodb, unique_name)
    put_items(dynamodb, source, 30)
    arn = dynamodb.create_backup(TableName=source, BackupName="for-overrides")["BackupDetails"][
        "BackupArn"
    ]
    wait_available(dynamodb, arn)
    target = f"{source}-ovr"
    dynamodb.restore_table_from_backup(
        TargetTableName=target,
        BackupArn=arn,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexOverride=[],
        LocalSecondaryIndexOverride=[],
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"},
    )
    table = wait_active(dynamodb, target)
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert "GlobalSecondaryIndexes" not in table
    assert "LocalSecondaryIndexes" not in table
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == {"pk", "sk"}
    assert len(scan_all(dynamodb, target)) == 30
    # PROVISIONED without throughput for a PAY_PER_REQUEST source: CreateTable's error.
    with pytest.raises(ClientError) as caught:
        dynamodb.restore_table_from_backup(
            TargetTableName=f"{source}-bad", BackupArn=arn, BillingModeOverride="PROVISIONED"
        )
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError):
        dynamodb.describe_table(TableName=f"{source}-bad")
    dynamodb.delete_table(TableName=target)
    dynamodb.delete_table(TableName=source)


def test_errors(dynamodb: Any, server: Any, unique_name: str) -> None:
    source = make_table(dynamodb, unique_name)
    unchecked = client(server, "dynamodb", parameter_validation=False)
    missing_arn = (
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{source}/backup/01700000000000-deadbeef"
    )
    cases: list[tuple[str, dict[str, Any], str]] = [
        (
            "create_backup",
            {"TableName": "no-such-table", "BackupName": "bk1"},
            "TableNotFoundException",
        ),
        ("describe_backup", {"BackupArn": missing_arn}, "BackupNotFoundException"),
        ("delete_backup", {"BackupArn": missing_arn}, "BackupNotFoundException"),
        (
            "restore_table_from_backup",
            {"TargetTableName": f"{source}-x", "BackupArn": missing_arn},
            "BackupNotFoundException",
        ),
        ("create_backup", {"TableName": source, "BackupName": "no spaces"}, "ValidationException"),
        ("list_backups", {"Limit": 0}, "ValidationException"),
        ("list_backups", {"BackupType": "WEEKLY"}, "ValidationException"),
    ]
    for operation, params, code in cases:
        with pytest.raises(ClientError) as caught:
            getattr(unchecked, operation)(**params)
        assert error_of(caught)[0] == code, (operation, params)
    arn = dynamodb.create_backup(TableName=source, BackupName="b-err")["BackupDetails"]["BackupArn"]
    wait_available(dynamodb, arn)
    with pytest.raises(ClientError) as caught:
        dynamodb.restore_table_from_backup(TargetTableName=source, BackupArn=arn)
    assert error_of(caught) == ("TableAlreadyExistsException", f"Table already exists: {source}")
    dynamodb.delete_backup(BackupArn=arn)
    dynamodb.delete_table(TableName=source)


def test_list_backups_filters_and_pages(dynamodb: Any, unique_name: str) -> None:
    first = make_table(dynamodb, f"{unique_name}-a")
    second = make_table(dynamodb, f"{unique_name}-b")
    arns = []
    for n in range(5):
        arns.append(
            dynamodb.create_backup(TableName=first, BackupName=f"bk-a{n}")["BackupDetails"][
                "BackupArn"
            ]
        )
    other = dynamodb.create_backup(TableName=second, BackupName="bk-b0")["BackupDetails"]
    mine = dynamodb.list_backups(TableName=first)["BackupSummaries"]
    assert [b["BackupArn"] for b in mine] == arns
    assert {b["TableName"] for b in mine} == {first}
    # By ARN too, and paged two at a time.
    arn_of_table = dynamodb.describe_table(TableName=first)["Table"]["TableArn"]
    pages: list[str] = []
    kwargs: dict[str, Any] = {"TableName": arn_of_table, "Limit": 2}
    while True:
        page = dynamodb.list_backups(**kwargs)
        assert len(page["BackupSummaries"]) <= 2
        pages.extend(b["BackupArn"] for b in page["BackupSummaries"])
        if "LastEvaluatedBackupArn" not in page:
            break
        kwargs["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
    assert pages == arns
    assert dynamodb.list_backups(TableName=first, BackupType="SYSTEM")["BackupSummaries"] == []
    assert len(dynamodb.list_backups(TableName=first, BackupType="ALL")["BackupSummaries"]) == 5
    created = other["BackupCreationDateTime"]
    later = dynamodb.list_backups(TableName=second, TimeRangeLowerBound=created)
    assert [b["BackupArn"] for b in later["BackupSummaries"]] == [other["BackupArn"]]
    earlier = dynamodb.list_backups(TableName=second, TimeRangeUpperBound=created)
    assert earlier["BackupSummaries"] == []
    for arn in [*arns, other["BackupArn"]]:
        wait_available(dynamodb, arn)
        dynamodb.delete_backup(BackupArn=arn)
    assert dynamodb.list_backups(TableName=first)["BackupSummaries"] == []
    dynamodb.delete_table(TableName=first)
    dynamodb.delete_table(TableName=second)


def test_backups_survive_restart_and_kill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        ddb = client(server, "dynamodb")
        make_table(ddb, "kept", GlobalSecondaryIndexes=[GSI])
        put_items(ddb, "kept", 60)
        expected = scan_all(ddb, "kept")
        arn = ddb.create_backup(TableName="kept", BackupName="durable")["BackupDetails"][
            "BackupArn"
        ]
        ddb.delete_table(TableName="kept")
        server.kill()  # kill -9 right after the answers
        server = start_server(data_dir)
        ddb = client(server, "dynamodb")
        described = wait_available(ddb, arn)
        assert described["SourceTableDetails"]["ItemCount"] == 60
        ddb.restore_table_from_backup(TargetTableName="back", BackupArn=arn)
        server.stop()  # a clean stop, whether or not the restore finished
        server = start_server(data_dir)
        ddb = client(server, "dynamodb")
        wait_active(ddb, "back")
        assert scan_all(ddb, "back") == expected
        assert scan_all(ddb, "back", IndexName="by_g") == expected
    finally:
        server.stop()
