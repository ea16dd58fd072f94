"""Put/Get/List/DeleteBucketIntelligentTieringConfiguration with boto3: round trips,
paging, AWS's validation, and what an error leaves (nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of


def configuration(config_id: str = "archive", **changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Id": config_id,
        "Status": "Enabled",
        "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
    }
    found.update(changes)
    return found


def put(s3: Any, bucket: str, config_id: str = "archive", **changes: Any) -> Any:
    return s3.put_bucket_intelligent_tiering_configuration(
        Bucket=bucket,
        Id=config_id,
        IntelligentTieringConfiguration=configuration(config_id, **changes),
    )


@pytest.mark.parametrize(
    "filter_",
    [
        None,
        {"Prefix": "logs/"},
        {"Tag": {"Key": "tier", "Value": "cold"}},
        {"And": {"Prefix": "logs/", "Tags": [{"Key": "a", "Value": "1"}]}},
        {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
    ],
)
def test_round_trip(s3: Any, bucket: str, filter_: dict[str, Any] | None) -> None:
    changes: dict[str, Any] = {
        "Tierings": [
            {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"},
            {"Days": 91, "AccessTier": "ARCHIVE_ACCESS"},
        ]
    }
    if filter_ is not None:
        changes["Filter"] = filter_
    reply = put(s3, bucket, **changes)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive")
    assert got["IntelligentTieringConfiguration"] == configuration(**changes)
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert listed["IsTruncated"] is False
    assert listed["IntelligentTieringConfigurationList"] == [configuration(**changes)]


def test_replace_delete_and_not_found(s3: Any, bucket: str) -> None:
    put(s3, bucket)
    put(s3, bucket, Status="Disabled")  # the same id replaces
    got = s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive")
    assert got["IntelligentTieringConfiguration"]["Status"] == "Disabled"
    reply = s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="archive")
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (
        s3.get_bucket_intelligent_tiering_configuration,
        s3.delete_bucket_intelligent_tiering_configuration,
    ):
        with pytest.raises(ClientError) as caught:
            call(Bucket=bucket, Id="archive")
        assert error_of(caught) == ("NoSuchConfiguration", 404)
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert "IntelligentTieringConfigurationList" not in listed


def test_missing_bucket(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        put(s3, unique_name)
    assert error_of(caught) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as caught:
        s3.list_bucket_intelligent_tiering_configurations(Bucket=unique_name)
    assert error_of(caught) == ("NoSuchBucket", 404)


def test_paging_and_the_limit(s3: Any, bucket: str) -> None:
    ids = [f"c{n:04d}" for n in range(1000)]
    for config_id in ids:
        put(s3, bucket, config_id)
    with pytest.raises(ClientError) as caught:
        put(s3, bucket, "one-too-many")
    assert error_of(caught) == ("TooManyConfigurations", 400)
    put(s3, bucket, ids[0], Status="Disabled")  # replacing one is not a new one
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket, **kwargs)
        pages += 1
        seen += [c["Id"] for c in page["IntelligentTieringConfigurationList"]]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
        assert pages < 20
    assert seen == ids
    assert pages == 10
    # A deleted and re-created bucket of the same name has none.
    for config_id in ids:
        s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=config_id)
    put(s3, bucket, "left")
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert "IntelligentTieringConfigurationList" not in listed


def test_token_from_elsewhere_is_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket, ContinuationToken="bogus")
    assert error_of(caught)[1] == 400


@pytest.mark.parametrize(
    ("config_id", "changes", "code"),
    [
        ("a", {"Tierings": [{"Days": 89, "AccessTier": "ARCHIVE_ACCESS"}]}, "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 731, "AccessTier": "ARCHIVE_ACCESS"}]}, "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 179, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]},
         "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 731, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]},
         "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 200, "AccessTier": "ARCHIVE_ACCESS"},
                            {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]},
         "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
                            {"Days": 95, "AccessTier": "ARCHIVE_ACCESS"}]}, "InvalidArgument"),
        ("a", {"Tierings": [{"Days": 90, "AccessTier": "GLACIER"}]}, "MalformedXML"),
        ("a", {"Tierings": []}, "MalformedXML"),
        ("a", {"Status": "On"}, "MalformedXML"),
        ("a", {"Filter": {"And": {"Prefix": "x"}}}, "MalformedXML"),
        ("a", {"Filter": {"Prefix": "x", "Tag": {"Key": "k", "Value": "v"}}}, "MalformedXML"),
        ("a", {"Filter": {"And": {"Tags": [{"Key": "k", "Value": "1"},
                                           {"Key": "k", "Value": "2"}]}}}, "InvalidTag"),
        ("a" * 65, {}, "InvalidArgument"),
        ("bad id!", {}, "InvalidArgument"),
    ],
)  # fmt: skip
def test_invalid_configurations_are_refused(
    s3: Any, bucket: str, config_id: str, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        put(s3, bucket, config_id, **changes)
    assert error_of(caught) == (code, 400)
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert "IntelligentTieringConfigurationList" not in listed


def test_body_id_must_match_the_query(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id="one", IntelligentTieringConfiguration=configuration("other")
        )
    assert error_of(caught) == ("InvalidArgument", 400)
