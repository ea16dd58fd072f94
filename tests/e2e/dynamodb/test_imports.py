"""ImportTable, DescribeImport and ListImports end to end with boto3: an export imported
back (the round trip), CSV with and without a header list, every compression, bad lines
counted and skipped, failed imports leaving no table, AWS's errors, and kill -9 mid-load."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
import zstandard
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.dynamodb.conftest import error_of, make_table
from tests.e2e.dynamodb.test_exports import fill, key_of, pitr_on, table_items, wait_export
from tests.server import start_server

GSI = {
    "IndexName": "by_n",
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "n", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]


def creation(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": KEYS,
        "AttributeDefinitions": DEFINITIONS,
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }


def wait_import(dynamodb: Any, arn: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = dynamodb.describe_import(ImportArn=arn)[
            "ImportTableDescription"
        ]
        if described["ImportStatus"] != "IN_PROGRESS":
            return described
        assert time.monotonic() < deadline, "import never finished"
        time.sleep(0.05)


def bucket_of(s3: Any, name: str) -> str:
    bucket = f"imp-{name}".lower()[:60]
    s3.create_bucket(Bucket=bucket)
    return bucket


def start_import(dynamodb: Any, bucket: str, prefix: str, table: str, **extra: Any) -> str:
    arn: str = dynamodb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix},
        TableCreationParameters=extra.pop("TableCreationParameters", creation(table)),
        InputFormat=extra.pop("InputFormat", "DYNAMODB_JSON"),
        **extra,
    )["ImportTableDescription"]["ImportArn"]
    return arn


def test_an_export_imports_back_with_its_index(dynamodb: Any, s3: Any, unique_name: str) -> None:
    source = make_table(dynamodb, unique_name, types={"n": "N"}, GlobalSecondaryIndexes=[GSI])
    pitr_on(dynamodb, source)
    fill(dynamodb, source, 130)
    expected = sorted(table_items(dynamodb, source), key=key_of)
    bucket = bucket_of(s3, unique_name)
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    export = dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    export_arn = export["ExportDescription"]["ExportArn"]
    assert wait_export(dynamodb, export_arn)["ExportStatus"] == "COMPLETED"
    data = f"AWSDynamoDB/{export_arn.rsplit('/', 1)[1]}/data/"

    target = f"{unique_name}-back"
    params = creation(
        target,
        AttributeDefinitions=[*DEFINITIONS, {"AttributeName": "n", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[GSI],
    )
    request = {
        "S3BucketSource": {"S3Bucket": bucket, "S3KeyPrefix": data},
        "InputFormat": "DYNAMODB_JSON",
        "InputCompressionType": "GZIP",
        "TableCreationParameters": params,
        "ClientToken": "round-trip",
    }
    answer = dynamodb.import_table(**request)["ImportTableDescription"]
    assert answer["ImportStatus"] == "IN_PROGRESS"
    assert answer["ImportArn"].startswith(
        dynamodb.describe_table(TableName=target)["Table"]["TableArn"] + "/import/"
    )
    assert answer["TableCreationParameters"] == params
    assert answer["S3BucketSource"] == {"S3Bucket": bucket, "S3KeyPrefix": data}
    assert "CloudWatchLogGroupArn" not in answer
    done = wait_import(dynamodb, answer["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED", done
    assert done["ProcessedItemCount"] == 130
    assert done["ImportedItemCount"] == 130
    assert done["ErrorCount"] == 0
    assert "FailureCode" not in done
    assert done["ProcessedSizeBytes"] > 0
    assert done["EndTime"] >= done["StartTime"]
    assert done["InputCompressionType"] == "GZIP"
    assert done["TableId"] == dynamodb.describe_table(TableName=target)["Table"]["TableId"]
    table = dynamodb.describe_table(TableName=target)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert "RestoreSummary" not in table
    assert sorted(table_items(dynamodb, target), key=key_of) == expected
    by_index = dynamodb.query(
        TableName=target,
        IndexName="by_n",
        KeyConditionExpression="pk = :p AND n BETWEEN :a AND :b",
        ExpressionAttributeValues={":p": {"S": "p3"}, ":a": {"N": "0"}, ":b": {"N": "40"}},
    )["Items"]
    assert [int(i["n"]["N"]) for i in by_index] == [3, 12, 21, 30, 39]
    # The same ClientToken and request: the same import; other parameters: a conflict.
    again = dynamodb.import_table(**request)["ImportTableDescription"]
    assert again["ImportArn"] == answer["ImportArn"]
    with pytest.raises(ClientError) as caught:
        dynamodb.import_table(**{**request, "InputCompressionType": "NONE"})
    assert error_of(caught)[0] == "ImportConflictException"
    summaries = dynamodb.list_imports(TableArn=table["TableArn"])["ImportSummaryList"]
    assert [s["ImportArn"] for s in summaries] == [answer["ImportArn"]]
    assert summaries[0]["ImportStatus"] == "COMPLETED"
    assert summaries[0]["InputFormat"] == "DYNAMODB_JSON"
    dynamodb.delete_table(TableName=source)
    dynamodb.delete_table(TableName=target)


def test_csv_with_a_header_row_and_with_a_header_list(
    dynamodb: Any, s3: Any, unique_name: str
) -> None:
    bucket = bucket_of(s3, unique_name)
    s3.put_object(Bucket=bucket, Key="csv/a.csv", Body=b'pk,n,city\nu1,7,"Paris, FR"\nu2,08,Oslo\n')
    s3.put_object(
        Bucket=bucket,
        Key="csv/b.csv.zst",
        Body=zstandard.ZstdCompressor().compress(b"pk,n,city\nu3,1.50,\n"),
    )
    numbers = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
    ]
    keyed = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]
    first = f"{unique_name}-a"
    arn = start_import(
        dynamodb,
        bucket,
        "csv/a",
        first,
        InputFormat="CSV",
        TableCreationParameters=creation(first, KeySchema=keyed, AttributeDefinitions=numbers),
    )
    done = wait_import(dynamodb, arn)
    assert done["ImportStatus"] == "COMPLETED", done
    assert done["ImportedItemCount"] == 2
    items = sorted(table_items(dynamodb, first), key=lambda i: i["pk"]["S"])
    # Keys take their defined types, every other attribute is a string.
    assert items == [
        {"pk": {"S": "u1"}, "n": {"N": "7"}, "city": {"S": "Paris, FR"}},
        {"pk": {"S": "u2"}, "n": {"N": "8"}, "city": {"S": "Oslo"}},
    ]
    second = f"{unique_name}-b"
    arn = start_import(
        dynamodb,
        bucket,
        "csv/b",
        second,
        InputFormat="CSV",
        InputCompressionType="ZSTD",
        TableCreationParameters=creation(second, KeySchema=keyed, AttributeDefinitions=numbers),
    )
    assert wait_import(dynamodb, arn)["ImportedItemCount"] == 1
    assert table_items(dynamodb, second) == [
        {"pk": {"S": "u3"}, "n": {"N": "1.5"}, "city": {"S": ""}}
    ]

    # HeaderList: every line is data, in the delimiter given.
    s3.put_object(Bucket=bucket, Key="piped/x", Body=b"k1|s1|red\nk2|s2|blue\n")
    third = f"{unique_name}-c"
    arn = start_import(
        dynamodb,
        bucket,
        "piped/",
        third,
        InputFormat="CSV",
        InputFormatOptions={"Csv": {"Delimiter": "|", "HeaderList": ["pk", "sk", "color"]}},
    )
    done = wait_import(dynamodb, arn)
    assert done["InputFormatOptions"] == {
        "Csv": {"Delimiter": "|", "HeaderList": ["pk", "sk", "color"]}
    }
    assert sorted(table_items(dynamodb, third), key=key_of) == [
        {"pk": {"S": "k1"}, "sk": {"S": "s1"}, "color": {"S": "red"}},
        {"pk": {"S": "k2"}, "sk": {"S": "s2"}, "color": {"S": "blue"}},
    ]
    for name in (first, second, third):
        dynamodb.delete_table(TableName=name)


def test_bad_items_are_counted_and_skipped(dynamodb: Any, s3: Any, unique_name: str) -> None:
    bucket = bucket_of(s3, unique_name)
    good = {"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}}}
    lines = [
        json.dumps(good),
        "not json",
        json.dumps({"Item": {"pk": {"S": "b"}}}),  # no sort key
        json.dumps({"Item": {"pk": {"N": "1"}, "sk": {"S": "1"}}}),  # wrong key type
        json.dumps({"Item": {"pk": {"S": "c"}, "sk": {"S": "1"}, "v": {"N": "x"}}}),  # bad number
        json.dumps({"Item": {"pk": {"S": "d"}, "sk": {"S": "1"}, "big": {"S": "x" * 410_000}}}),
        "",
        json.dumps({"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "2"}}}),  # overwrites
    ]
    s3.put_object(
        Bucket=bucket, Key="mixed/1.json.gz", Body=gzip.compress("\n".join(lines).encode())
    )
    s3.put_object(Bucket=bucket, Key="mixed/2.json.gz", Body=b"this is not gzip at all")
    target = f"{unique_name}-m"
    arn = start_import(dynamodb, bucket, "mixed/", target, InputCompressionType="GZIP")
    done = wait_import(dynamodb, arn)
    assert done["ImportStatus"] == "COMPLETED", done
    assert done["ProcessedItemCount"] == 7
    assert done["ImportedItemCount"] == 2
    assert done["ErrorCount"] == 6  # five bad lines and the unreadable object
    assert done["FailureCode"] == "ItemValidationError"
    assert done["FailureMessage"].startswith("Some of the items failed validation checks")
    assert table_items(dynamodb, target) == [{"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "2"}}]
    assert dynamodb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"
    dynamodb.delete_table(TableName=target)


def test_an_import_that_cannot_run_fails_and_leaves_no_table(
    dynamodb: Any, s3: Any, unique_name: str
) -> None:
    missing = f"{unique_name}-gone"
    arn = start_import(dynamodb, f"no-{unique_name}".lower(), "x/", missing)
    failed = wait_import(dynamodb, arn)
    assert failed["ImportStatus"] == "FAILED"
    assert failed["FailureCode"] == "S3NoSuchBucket"
    assert "EndTime" in failed
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_table(TableName=missing)
    assert error_of(caught)[0] == "ResourceNotFoundException"
    bucket = bucket_of(s3, unique_name)
    empty = f"{unique_name}-empty"
    arn = start_import(dynamodb, bucket, "nothing/here", empty)
    failed = wait_import(dynamodb, arn)
    assert failed["ImportStatus"] == "FAILED"
    assert failed["FailureMessage"]
    with pytest.raises(ClientError):
        dynamodb.describe_table(TableName=empty)
    # The name is free again.
    make_table(dynamodb, empty)
    dynamodb.delete_table(TableName=empty)


def test_errors(dynamodb: Any, s3: Any, unique_name: str) -> None:
    existing = make_table(dynamodb, unique_name)
    bucket = bucket_of(s3, unique_name)
    with pytest.raises(ClientError) as caught:
        start_import(dynamodb, bucket, "p/", existing)
    assert error_of(caught) == ("ResourceInUseException", f"Table already exists: {existing}")
    arn = dynamodb.describe_table(TableName=existing)["Table"]["TableArn"]
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_import(ImportArn=f"{arn}/import/01700000000000-deadbeef")
    assert error_of(caught)[0] == "ImportNotFoundException"
    with pytest.raises(ClientError) as caught:
        start_import(
            dynamodb,
            bucket,
            "p/",
            f"{unique_name}-x",
            InputFormat="CSV",
            InputFormatOptions={"Csv": {"Delimiter": "#"}},
        )
    code, message = error_of(caught)
    assert code == "ValidationException"
    assert "inputFormatOptions.csv.delimiter" in message
    with pytest.raises(ClientError) as caught:
        start_import(dynamodb, bucket, "p/", f"{unique_name}-y", InputFormat="XML")
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:  # CreateTable's own checks
        start_import(
            dynamodb,
            bucket,
            "p/",
            f"{unique_name}-z",
            TableCreationParameters=creation(
                f"{unique_name}-z", AttributeDefinitions=DEFINITIONS[:1]
            ),
        )
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:  # the model's words, at ImportTable's path
        start_import(
            dynamodb,
            bucket,
            "p/",
            f"{unique_name}-w",
            TableCreationParameters=creation(f"{unique_name}-w", BillingMode="ON_DEMAND"),
        )
    assert error_of(caught) == (
        "ValidationException",
        "1 validation error detected: Value 'ON_DEMAND' at "
        "'tableCreationParameters.billingMode' failed to satisfy constraint: Member must "
        "satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.list_imports(PageSize=26)
    assert error_of(caught)[0] == "ValidationException"
    # Nothing was created by the refused calls.
    names = dynamodb.list_tables()["TableNames"]
    assert not [n for n in names if n.startswith(f"{unique_name}-")]
    dynamodb.delete_table(TableName=existing)


def test_list_imports_pages(dynamodb: Any, s3: Any, unique_name: str) -> None:
    bucket = bucket_of(s3, unique_name)
    s3.put_object(Bucket=bucket, Key="one.json", Body=b'{"Item":{"pk":{"S":"a"},"sk":{"S":"b"}}}\n')
    arns = [start_import(dynamodb, bucket, "one", f"{unique_name}-{n}") for n in range(3)]
    for arn in arns:
        assert wait_import(dynamodb, arn)["ImportStatus"] == "COMPLETED"
    seen: list[str] = []
    kwargs: dict[str, Any] = {"PageSize": 2}
    while True:
        page = dynamodb.list_imports(**kwargs)
        assert len(page["ImportSummaryList"]) <= 2
        seen.extend(s["ImportArn"] for s in page["ImportSummaryList"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert [a for a in seen if a in arns] == arns
    for n in range(3):
        dynamodb.delete_table(TableName=f"{unique_name}-{n}")


def test_kill_during_an_import_then_it_completes(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        ddb = client(server, "dynamodb")
        s3 = client(server, "s3", s3={"addressing_style": "path"})
        s3.create_bucket(Bucket="source")
        rows = "".join(
            json.dumps({"Item": {"pk": {"S": f"p{n}"}, "sk": {"S": f"s{n}"}, "v": {"N": str(n)}}})
            + "\n"
            for n in range(6000)
        )
        s3.put_object(Bucket="source", Key="d/all.json.gz", Body=gzip.compress(rows.encode()))
        arn = start_import(ddb, "source", "d/", "loaded", InputCompressionType="GZIP")
        server.kill()  # kill -9 while the items load (6000 items: 12 paced chunks)
        server = start_server(tmp_path / "data")
        ddb = client(server, "dynamodb")
        done = wait_import(ddb, arn)
        assert done["ImportStatus"] == "COMPLETED"
        assert done["ImportedItemCount"] == 6000
        assert ddb.describe_table(TableName="loaded")["Table"]["TableStatus"] == "ACTIVE"
        count = ddb.scan(TableName="loaded", Select="COUNT")["Count"]
        assert count == 6000
    finally:
        server.stop()


def test_an_ion_export_imports_back(dynamodb: Any, s3: Any, unique_name: str) -> None:
    source = pitr_on(dynamodb, make_table(dynamodb, unique_name))
    fill(dynamodb, source, 40)  # strings, numbers, binary, sets, nested maps and lists
    expected = sorted(table_items(dynamodb, source), key=key_of)
    bucket = bucket_of(s3, unique_name)
    arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]
    export = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, ExportFormat="ION"
    )["ExportDescription"]
    done = wait_export(dynamodb, export["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ExportFormat"] == "ION"
    data = f"AWSDynamoDB/{export['ExportArn'].rsplit('/', 1)[1]}/data/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=data)["Contents"]]
    assert keys
    assert all(k.endswith(".ion.gz") for k in keys)
    first = gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert first.startswith(b"$ion_1_0 {Item:{")
    target = f"{unique_name}-ion"
    arn = start_import(
        dynamodb, bucket, data, target, InputFormat="ION", InputCompressionType="GZIP"
    )
    imported = wait_import(dynamodb, arn)
    assert imported["ImportStatus"] == "COMPLETED", imported
    assert imported["ImportedItemCount"] == 40
    assert imported["ErrorCount"] == 0
    assert sorted(table_items(dynamodb, target), key=key_of) == expected
    dynamodb.delete_table(TableName=source)
    dynamodb.delete_table(TableName=target)
