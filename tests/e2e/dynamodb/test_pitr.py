"""Point-in-time recovery end to end with boto3: UpdateContinuousBackups,
DescribeContinuousBackups, RestoreTableToPointInTime with every override and error, the
window across off/on, retention and restart, and a property test that restores random
moments of a recorded history.

The store clock only moves forward: this module has its own server (``pitr_server``)."""

from __future__ import annotations

import datetime
import gzip
import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strata.testing import Server
from tests.e2e.dynamodb.conftest import error_of
from tests.e2e.dynamodb.test_exports import wait_export

DAY_S = 86400.0
GSI = {
    "IndexName": "by-color",
    "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}
LSI = {
    "IndexName": "by-size",
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "size", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}


@pytest.fixture(scope="module")
def pitr_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("pitr") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def dynamodb(pitr_server: Server) -> Any:
    return pitr_server.client(
        "dynamodb", config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )


def name() -> str:
    return f"pitr-{uuid.uuid4().hex[:10]}"


def create(dynamodb: Any, table: str, *, indexes: bool = False, pitr: bool = True) -> str:
    extra: dict[str, Any] = {}
    definitions = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    if indexes:
        extra = {"GlobalSecondaryIndexes": [GSI], "LocalSecondaryIndexes": [LSI]}
        definitions += [
            {"AttributeName": "color", "AttributeType": "S"},
            {"AttributeName": "size", "AttributeType": "N"},
        ]
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=definitions,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return table


def store_now(server: Server) -> float:
    return datetime.datetime.fromisoformat(server.remote.clock()["now"]).timestamp()


def scan_all(dynamodb: Any, table: str, **extra: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        page = dynamodb.scan(TableName=table, **extra, **start)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def wait_active(dynamodb: Any, table: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = dynamodb.describe_table(TableName=table)["Table"]
        if described["TableStatus"] == "ACTIVE":
            return described
        assert time.monotonic() < deadline, f"{table} still {described['TableStatus']}"
        time.sleep(0.1)


def restore(dynamodb: Any, source: str, target: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = dynamodb.restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=target, **extra
    )["TableDescription"]
    return answer


def item(pk: str, sk: str = "s", **attrs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}}
    for key, value in attrs.items():
        out[key] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return out


def test_settings_described_and_updated(pitr_server: Server, dynamodb: Any) -> None:
    table = create(dynamodb, name(), pitr=False)
    described = dynamodb.describe_continuous_backups(TableName=table)
    assert described["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    before = store_now(pitr_server)
    answer = dynamodb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 7,
        },
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert answer["PointInTimeRecoveryStatus"] == "ENABLED"
    assert answer["RecoveryPeriodInDays"] == 7
    earliest = answer["EarliestRestorableDateTime"].timestamp()
    assert before - 1 <= earliest <= store_now(pitr_server) + 1
    assert answer["LatestRestorableDateTime"].timestamp() >= earliest
    longer = dynamodb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 35,
        },
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert longer["RecoveryPeriodInDays"] == 35
    assert longer["EarliestRestorableDateTime"].timestamp() == pytest.approx(earliest)
    # off and on again: a new window
    pitr_server.advance_clock(3600)
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    off = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert off["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    again = dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert again["RecoveryPeriodInDays"] == 35
    assert again["EarliestRestorableDateTime"].timestamp() >= earliest + 3600


@pytest.mark.parametrize("days", [0, 36])
def test_recovery_period_is_1_to_35_days(pitr_server: Server, dynamodb: Any, days: int) -> None:
    table = create(dynamodb, name(), pitr=False)
    unchecked = pitr_server.client(  # boto3 itself refuses 0
        "dynamodb",
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )
    with pytest.raises(ClientError) as caught:
        unchecked.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": days,
            },
        )
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert "recoveryPeriodInDays" in message
    status = dynamodb.describe_continuous_backups(TableName=table)
    assert status["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] == {
        "PointInTimeRecoveryStatus": "DISABLED"
    }


def test_missing_tables_are_table_not_found(dynamodb: Any) -> None:
    missing = name()
    for call in (
        lambda: dynamodb.describe_continuous_backups(TableName=missing),
        lambda: dynamodb.update_continuous_backups(
            TableName=missing,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        ),
        lambda: restore(dynamodb, missing, name(), UseLatestRestorableTime=True),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[0] == "TableNotFoundException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_restore_holds_the_items_of_that_second_with_indexes(
    pitr_server: Server, dynamodb: Any
) -> None:
    source = create(dynamodb, name(), indexes=True)
    for n in range(30):
        dynamodb.put_item(TableName=source, Item=item(f"k{n}", color="red", size=n))
    then = scan_all(dynamodb, source)
    moment = store_now(pitr_server)
    pitr_server.advance_clock(5)
    for n in range(10):  # change, delete, add
        dynamodb.put_item(TableName=source, Item=item(f"k{n}", color="blue", size=100 + n))
    for n in range(10, 15):
        dynamodb.delete_item(TableName=source, Key=item(f"k{n}"))
    dynamodb.put_item(TableName=source, Item=item("late", color="red", size=1))
    now = scan_all(dynamodb, source)
    target = name()
    answer = restore(
        dynamodb,
        source,
        target,
        RestoreDateTime=datetime.datetime.fromtimestamp(moment, datetime.UTC),
    )
    assert answer["TableStatus"] == "CREATING"
    assert answer["RestoreSummary"]["RestoreInProgress"] is True
    assert answer["RestoreSummary"]["SourceTableArn"].endswith(f"table/{source}")
    described = wait_active(dynamodb, target)
    assert described["RestoreSummary"]["RestoreInProgress"] is False
    assert scan_all(dynamodb, target) == then
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {"by-color"}
    assert {i["IndexName"] for i in described["LocalSecondaryIndexes"]} == {"by-size"}
    reds = dynamodb.query(
        TableName=target,
        IndexName="by-color",
        KeyConditionExpression="color = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )["Items"]
    assert len(reds) == 30
    sizes = dynamodb.query(
        TableName=target,
        IndexName="by-size",
        KeyConditionExpression="pk = :p AND #size > :s",
        ExpressionAttributeNames={"#size": "size"},
        ExpressionAttributeValues={":p": {"S": "k3"}, ":s": {"N": "2"}},
    )["Items"]
    assert [i["pk"]["S"] for i in sizes] == ["k3"]
    latest = name()
    restore(dynamodb, source, latest, UseLatestRestorableTime=True)
    wait_active(dynamodb, latest)
    assert scan_all(dynamodb, latest) == now
    # By ARN, with overrides: provisioned, no GSI, SSE.
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    overridden = name()
    dynamodb.restore_table_to_point_in_time(
        SourceTableArn=arn,
        TargetTableName=overridden,
        UseLatestRestorableTime=True,
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexOverride=[],
        LocalSecondaryIndexOverride=[],
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"},
    )
    described = wait_active(dynamodb, overridden)
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert "GlobalSecondaryIndexes" not in described
    assert described["SSEDescription"]["Status"] == "ENABLED"
    assert scan_all(dynamodb, overridden) == now
    # the restored table has no PITR of its own, as AWS restores it
    status = dynamodb.describe_continuous_backups(TableName=overridden)
    assert status["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] == {
        "PointInTimeRecoveryStatus": "DISABLED"
    }


def test_restore_errors(pitr_server: Server, dynamodb: Any) -> None:
    source = create(dynamodb, name())
    dynamodb.put_item(TableName=source, Item=item("a"))
    taken = create(dynamodb, name(), pitr=False)
    earliest = dynamodb.describe_continuous_backups(TableName=source)[
        "ContinuousBackupsDescription"
    ]["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"]

    def code_of(**request: Any) -> str:
        with pytest.raises(ClientError) as caught:
            dynamodb.restore_table_to_point_in_time(**request)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return error_of(caught)[0]

    target = name()
    latest = {"UseLatestRestorableTime": True}
    assert code_of(SourceTableName=source, TargetTableName=taken, **latest) == (
        "TableAlreadyExistsException"
    )
    assert code_of(SourceTableName=taken, TargetTableName=target, **latest) == (
        "PointInTimeRecoveryUnavailableException"
    )
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    assert code_of(
        SourceTableArn=arn.replace(source, "no-such-table"), TargetTableName=target, **latest
    ) == ("TableNotFoundException")
    before = earliest - datetime.timedelta(hours=1)
    after = datetime.datetime.fromtimestamp(store_now(pitr_server) + DAY_S, datetime.UTC)
    for moment in (before, after):
        assert code_of(SourceTableName=source, TargetTableName=target, RestoreDateTime=moment) == (
            "InvalidRestoreTimeException"
        )
    assert code_of(SourceTableName=source, TargetTableName=target) == "ValidationException"
    assert (
        code_of(
            SourceTableName=source,
            SourceTableArn=arn,
            TargetTableName=target,
            UseLatestRestorableTime=True,
        )
        == "ValidationException"
    )
    assert target not in dynamodb.list_tables()["TableNames"]  # nothing was made


def test_the_log_keeps_the_window_and_restart_keeps_it(pitr_server: Server, dynamodb: Any) -> None:
    source = create(dynamodb, name())
    dynamodb.update_continuous_backups(
        TableName=source,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 2,
        },
    )
    dynamodb.put_item(TableName=source, Item=item("a", v="1"))
    moment = store_now(pitr_server)
    pitr_server.advance_clock(30 * 3600)  # past a stream's 24 hours, inside the 2 days
    dynamodb.put_item(TableName=source, Item=item("a", v="2"))
    dynamodb.put_item(TableName=source, Item=item("b", v="1"))
    time.sleep(1)  # the trimmer ran (woken by the clock): it keeps what PITR needs
    pitr_server.stop()
    pitr_server.start()
    client = pitr_server.client("dynamodb")
    window = client.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert window["EarliestRestorableDateTime"].timestamp() <= moment
    target = name()
    restore(
        client,
        source,
        target,
        RestoreDateTime=datetime.datetime.fromtimestamp(moment, datetime.UTC),
    )
    wait_active(client, target)
    assert scan_all(client, target) == [item("a", v="1")]
    pitr_server.advance_clock(2 * DAY_S)  # the moment leaves the window
    window = client.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert window["EarliestRestorableDateTime"].timestamp() > moment
    with pytest.raises(ClientError) as caught:
        restore(
            client,
            source,
            name(),
            RestoreDateTime=datetime.datetime.fromtimestamp(moment, datetime.UTC),
        )
    assert error_of(caught)[0] == "InvalidRestoreTimeException"


OPERATIONS = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["put", "update", "delete"]),
            st.integers(min_value=0, max_value=7),
            st.integers(min_value=0, max_value=99),
        ),
        min_size=1,
        max_size=8,
    ),
    min_size=2,
    max_size=4,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(epochs=OPERATIONS, pick=st.randoms(use_true_random=False))
def test_restores_match_the_recorded_history(
    pitr_server: Server,
    dynamodb: Any,
    epochs: list[list[tuple[str, int, int]]],
    pick: random.Random,
) -> None:
    """Random writes in epochs two seconds apart, the table recorded after each; restoring
    to any second of an epoch gives exactly what was recorded then."""
    source = create(dynamodb, name())
    model: dict[str, int] = {}
    history: list[tuple[float, list[dict[str, Any]]]] = []
    for epoch in epochs:
        for op, key, value in epoch:
            pk = f"k{key}"
            if op == "put":
                dynamodb.put_item(TableName=source, Item=item(pk, v=value))
                model[pk] = value
            elif op == "update":
                dynamodb.update_item(
                    TableName=source,
                    Key=item(pk),
                    UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": str(value)}},
                )
                model[pk] = value
            else:
                dynamodb.delete_item(TableName=source, Key=item(pk))
                model.pop(pk, None)
        expected = sorted((item(k, v=v) for k, v in model.items()), key=lambda i: i["pk"]["S"])
        assert scan_all(dynamodb, source) == expected
        history.append((store_now(pitr_server), expected))
        pitr_server.advance_clock(2)
    for moment, expected in pick.sample(history, k=min(2, len(history))):
        at = moment + pick.random()  # any instant before the next epoch's writes
        target = name()
        restore(
            dynamodb,
            source,
            target,
            RestoreDateTime=datetime.datetime.fromtimestamp(at, datetime.UTC),
        )
        wait_active(dynamodb, target)
        assert scan_all(dynamodb, target) == expected
        dynamodb.delete_table(TableName=target)
    dynamodb.delete_table(TableName=source)


def test_export_of_a_past_time_holds_the_items_of_that_second(
    pitr_server: Server, dynamodb: Any
) -> None:
    s3 = pitr_server.client("s3")
    bucket = f"past-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    source = create(dynamodb, name())
    for n in range(20):
        dynamodb.put_item(TableName=source, Item=item(f"k{n}", v=n))
    then = scan_all(dynamodb, source)
    moment = store_now(pitr_server)
    pitr_server.advance_clock(5)
    for n in range(5):  # change, delete, add after the moment
        dynamodb.put_item(TableName=source, Item=item(f"k{n}", v=100 + n))
    dynamodb.delete_item(TableName=source, Key=item("k10"))
    dynamodb.put_item(TableName=source, Item=item("late", v=1))
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    started = dynamodb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=bucket,
        ExportTime=datetime.datetime.fromtimestamp(moment, datetime.UTC),
    )["ExportDescription"]
    assert abs(started["ExportTime"].timestamp() - moment) < 0.01
    done = wait_export(dynamodb, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 20
    exported = [row["Item"] for row in exported_lines(s3, bucket, started["ExportArn"])]
    assert sorted(exported, key=lambda i: (i["pk"]["S"], i["sk"]["S"])) == then
    # Before the window opened, or in the future: outside the window.
    earliest = dynamodb.describe_continuous_backups(TableName=source)[
        "ContinuousBackupsDescription"
    ]["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"]
    for when in (
        earliest - datetime.timedelta(seconds=10),
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=400),
    ):
        with pytest.raises(ClientError) as caught:
            dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=when)
        assert error_of(caught) == (
            "InvalidExportTimeException",
            "The specified ExportTime is outside of the point in time recovery window.",
        )
    plain = create(dynamodb, name(), pitr=False)
    plain_arn = dynamodb.describe_table(TableName=plain)["Table"]["TableArn"]
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(TableArn=plain_arn, S3Bucket=bucket)
    assert error_of(caught)[0] == "PointInTimeRecoveryUnavailableException"


def exported_lines(s3: Any, bucket: str, export_arn: str) -> list[dict[str, Any]]:
    folder = f"AWSDynamoDB/{export_arn.rsplit('/', 1)[1]}"
    manifest = s3.get_object(Bucket=bucket, Key=f"{folder}/manifest-files.json")["Body"].read()
    rows: list[dict[str, Any]] = []
    for line in manifest.decode().splitlines():
        body = s3.get_object(Bucket=bucket, Key=json.loads(line)["dataFileS3Key"])["Body"].read()
        rows += [json.loads(row) for row in gzip.decompress(body).splitlines()]
    return rows


def test_incremental_export_holds_each_change_of_the_period_once(
    pitr_server: Server, dynamodb: Any
) -> None:
    s3 = pitr_server.client("s3")
    bucket = f"incr-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    source = create(dynamodb, name())
    for n in range(6):
        dynamodb.put_item(TableName=source, Item=item(f"k{n}", v=n))
    pitr_server.advance_clock(2)
    begin = store_now(pitr_server)
    pitr_server.advance_clock(2)
    dynamodb.put_item(TableName=source, Item=item("k0", v=100))  # modified twice
    dynamodb.put_item(TableName=source, Item=item("k0", v=101))
    dynamodb.delete_item(TableName=source, Key=item("k1"))  # deleted
    dynamodb.put_item(TableName=source, Item=item("new", v=7))  # inserted
    dynamodb.put_item(TableName=source, Item=item("brief", v=8))  # inserted, then deleted
    dynamodb.delete_item(TableName=source, Key=item("brief"))
    pitr_server.advance_clock(20 * 60)
    end = store_now(pitr_server)
    pitr_server.advance_clock(2)
    dynamodb.put_item(TableName=source, Item=item("k0", v=999))  # after the period
    dynamodb.put_item(TableName=source, Item=item("k2", v=999))
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    at = datetime.datetime.fromtimestamp
    started = dynamodb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=bucket,
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={
            "ExportFromTime": at(begin, datetime.UTC),
            "ExportToTime": at(end, datetime.UTC),
        },
    )["ExportDescription"]
    assert started["ExportType"] == "INCREMENTAL_EXPORT"
    assert started["IncrementalExportSpecification"]["ExportViewType"] == "NEW_AND_OLD_IMAGES"
    done = wait_export(dynamodb, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    rows = {row["Keys"]["pk"]["S"]: row for row in exported_lines(s3, bucket, done["ExportArn"])}
    assert set(rows) == {"k0", "k1", "new", "brief"}
    assert done["ItemCount"] == 4
    assert rows["k0"]["OldImage"] == item("k0", v=0)
    assert rows["k0"]["NewImage"] == item("k0", v=101)  # as the period ended, not now
    assert rows["k1"]["OldImage"] == item("k1", v=1)
    assert "NewImage" not in rows["k1"]
    assert rows["new"]["NewImage"] == item("new", v=7)
    assert "OldImage" not in rows["new"]
    assert set(rows["brief"]) == {"Metadata", "Keys"}
    for row in rows.values():
        micros = int(row["Metadata"]["WriteTimestampMicros"]["N"])
        assert begin * 1e6 <= micros < end * 1e6
    folder = f"AWSDynamoDB/{done['ExportArn'].rsplit('/', 1)[1]}"
    summary = json.loads(
        s3.get_object(Bucket=bucket, Key=f"{folder}/manifest-summary.json")["Body"].read()
    )
    assert summary["exportType"] == "INCREMENTAL_EXPORT"
    assert summary["outputView"] == "NEW_AND_OLD_IMAGES"
    # NEW_IMAGE: no old images.
    new_only = dynamodb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=bucket,
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={
            "ExportFromTime": at(begin, datetime.UTC),
            "ExportToTime": at(end, datetime.UTC),
            "ExportViewType": "NEW_IMAGE",
        },
    )["ExportDescription"]
    wait_export(dynamodb, new_only["ExportArn"])
    assert all("OldImage" not in r for r in exported_lines(s3, bucket, new_only["ExportArn"]))
    # A period too short, or reaching before the window: refused.
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(
            TableArn=arn,
            S3Bucket=bucket,
            ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={
                "ExportFromTime": at(begin, datetime.UTC),
                "ExportToTime": at(begin + 60, datetime.UTC),
            },
        )
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        dynamodb.export_table_to_point_in_time(
            TableArn=arn,
            S3Bucket=bucket,
            ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={
                "ExportFromTime": at(begin - 3600, datetime.UTC),
                "ExportToTime": at(begin, datetime.UTC),
            },
        )
    assert error_of(caught)[0] == "InvalidExportTimeException"
