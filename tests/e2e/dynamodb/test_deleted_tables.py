"""A deleted table's point-in-time recovery, as AWS documents it: DeleteTable of a table
with PITR on keeps a SYSTEM backup named ``<table>$DeletedTableBackup`` for 35 days;
RestoreTableToPointInTime with the deleted table's ARN restores the state it was in just
before the deletion. A table without PITR leaves nothing. Own server: the clock moves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from strata.testing import Server
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.e2e.dynamodb.test_backups import GSI, put_items, scan_all, wait_active

DAY_S = 86400


@pytest.fixture(scope="module")
def deleted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("deleted") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def ddb(deleted_server: Server) -> Any:
    return deleted_server.client(
        "dynamodb", config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )


def pitr_table(ddb: Any, name: str, pitr: bool = True) -> str:
    make_table(ddb, name, GlobalSecondaryIndexes=[GSI])
    if pitr:
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return str(ddb.describe_table(TableName=name)["Table"]["TableArn"])


def system_backups(ddb: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ddb.list_backups(TableName=name, BackupType="SYSTEM")[
        "BackupSummaries"
    ]
    return found


def test_deleting_a_pitr_table_keeps_a_system_backup(deleted_server: Server, ddb: Any) -> None:
    name = f"gone-{uuid.uuid4().hex[:8]}"
    arn = pitr_table(ddb, name)
    put_items(ddb, name, 120)
    expected = scan_all(ddb, name)
    ddb.delete_table(TableName=name)
    backups = system_backups(ddb, name)
    assert len(backups) == 1
    backup = backups[0]
    assert backup["BackupName"] == f"{name}$DeletedTableBackup"
    assert backup["BackupType"] == "SYSTEM"
    assert backup["TableArn"] == arn
    created = backup["BackupCreationDateTime"].timestamp()
    expiry = backup["BackupExpiryDateTime"].timestamp()
    assert round(expiry - created) == 35 * DAY_S
    assert ddb.list_backups(TableName=name)["BackupSummaries"] == []  # USER by default
    assert [b["BackupArn"] for b in ddb.list_backups(TableName=name, BackupType="ALL")[
        "BackupSummaries"
    ]] == [backup["BackupArn"]]  # fmt: skip
    described = ddb.describe_backup(BackupArn=backup["BackupArn"])["BackupDescription"]
    assert described["SourceTableDetails"]["ItemCount"] == 120

    # The deleted table by its ARN: the state just before the deletion, indexes too.
    target = f"{name}-back"
    answer = ddb.restore_table_to_point_in_time(
        SourceTableArn=arn, TargetTableName=target, UseLatestRestorableTime=True
    )["TableDescription"]
    assert answer["RestoreSummary"]["SourceTableArn"] == arn
    assert answer["RestoreSummary"]["SourceBackupArn"] == backup["BackupArn"]
    wait_active(ddb, target)
    assert scan_all(ddb, target) == expected
    assert scan_all(ddb, target, IndexName="by_g") == expected
    # By name a deleted table is not found; a time before the deletion is not restorable.
    with pytest.raises(ClientError) as caught:
        ddb.restore_table_to_point_in_time(
            SourceTableName=name, TargetTableName=f"{name}-x", UseLatestRestorableTime=True
        )
    assert error_of(caught)[0] == "TableNotFoundException"
    with pytest.raises(ClientError) as caught:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName=f"{name}-y", RestoreDateTime=created - 3600
        )
    assert error_of(caught)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as caught:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName=target, UseLatestRestorableTime=True
        )
    assert error_of(caught)[0] == "TableAlreadyExistsException"
    ddb.delete_table(TableName=target)

    # 35 days later the system backup is gone.
    deleted_server.advance_clock(35 * DAY_S + 60)
    assert system_backups(ddb, name) == []
    with pytest.raises(ClientError) as caught:
        ddb.describe_backup(BackupArn=backup["BackupArn"])
    assert error_of(caught)[0] == "BackupNotFoundException"
    with pytest.raises(ClientError) as caught:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName=f"{name}-z", UseLatestRestorableTime=True
        )
    assert error_of(caught)[0] == "TableNotFoundException"


def test_a_table_without_pitr_leaves_no_backup(ddb: Any) -> None:
    name = f"plain-{uuid.uuid4().hex[:8]}"
    arn = pitr_table(ddb, name, pitr=False)
    put_items(ddb, name, 10)
    ddb.delete_table(TableName=name)
    assert ddb.list_backups(TableName=name, BackupType="ALL")["BackupSummaries"] == []
    with pytest.raises(ClientError) as caught:
        ddb.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName=f"{name}-back", UseLatestRestorableTime=True
        )
    assert error_of(caught)[0] == "TableNotFoundException"
