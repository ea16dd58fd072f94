"""ListObjects v1/v2 and ListObjectVersions end to end: prefixes, delimiters, paging."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of

KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d/x/y", "e"]


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_v2_all(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in page["Contents"]] == KEYS
    assert page["KeyCount"] == len(KEYS)
    assert page["IsTruncated"] is False
    first = page["Contents"][0]
    assert first["Size"] == 3
    assert first["StorageClass"] == "STANDARD"
    assert "Owner" not in first


def test_v2_delimiter(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["c", "e"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/", "d/"]
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="a/")
    assert [o["Key"] for o in page["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/b/"]


def test_v2_paging(s3: Any, filled: str) -> None:
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": filled, "MaxKeys": 2, "Delimiter": "/"}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert sorted(seen) == ["a/", "b/", "c", "d/", "e"]


def test_v2_paginator_and_start_after(s3: Any, filled: str) -> None:
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=filled, PaginationConfig={"PageSize": 3}
        )
        for o in page["Contents"]
    ]
    assert keys == KEYS
    page = s3.list_objects_v2(Bucket=filled, StartAfter="b/1", FetchOwner=True)
    assert [o["Key"] for o in page["Contents"]] == ["c", "d/x/y", "e"]
    assert page["Contents"][0]["Owner"]["ID"]


def test_v2_max_keys_zero(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert "Contents" not in page
    assert page["KeyCount"] == 0


def test_v2_encoding_url(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sp ace/é", Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    # Explicitly requested: boto3 leaves the keys encoded.
    assert [o["Key"] for o in page["Contents"]] == ["sp+ace/%C3%A9"]


def test_v1(s3: Any, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert [o["Key"] for o in page.get("Contents", [])] == []
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/"]
    assert page["IsTruncated"] is True
    assert page["NextMarker"] == "b/"
    page = s3.list_objects(Bucket=filled, Delimiter="/", Marker="b/")
    assert [o["Key"] for o in page["Contents"]] == ["c", "e"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/"]
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects").paginate(
            Bucket=filled, PaginationConfig={"PageSize": 2}
        )
        for o in page["Contents"]
    ]
    assert keys == KEYS


def test_invalid_max_keys(s3: Any, filled: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=filled, MaxKeys=-1)
    assert error_of(caught) == ("InvalidArgument", 400)


def test_list_versions(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [
        s3.put_object(Bucket=bucket, Key="k", Body=str(i).encode())["VersionId"] for i in range(3)
    ]
    s3.put_object(Bucket=bucket, Key="l", Body=b"l")
    s3.delete_object(Bucket=bucket, Key="l")
    page = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page["Versions"]][:3] == [
        ("k", ids[2], True),
        ("k", ids[1], False),
        ("k", ids[0], False),
    ]
    assert len(page["Versions"]) == 4
    assert [(m["Key"], m["IsLatest"]) for m in page["DeleteMarkers"]] == [("l", True)]
    # Paging with key and version markers.
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}
    ):
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        seen += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    assert len(seen) == 5
    assert len(set(seen)) == 5
    # Current listing hides the deleted key.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_many_versions_listing(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for i in range(20):
        s3.put_object(Bucket=bucket, Key="a", Body=str(i).encode())
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    page = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in page["Contents"]] == ["a", "b"]
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"19"
