"""Tag set limits and errors: counts, lengths, characters, duplicate keys."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of


def tag_set(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("k", "v"), ("k", "w")], "Cannot provide multiple Tags with the same key"),
        ([("k" * 129, "v")], "The TagKey you have provided is too long, max 128"),
        ([("k", "v" * 257)], "The TagValue you have provided is too long, max 256"),
        ([("bad*key", "v")], "The TagKey you have provided is invalid"),
        ([("k", "bad#value")], "The TagValue you have provided is invalid"),
        ([(f"k{i}", "v") for i in range(11)], "Object tags cannot be greater than 10"),
    ],
)
def test_object_tag_set_errors(
    s3: Any, bucket: str, pairs: list[tuple[str, str]], message: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(*pairs))
    assert error_of(caught) == ("InvalidTag", 400)
    assert caught.value.response["Error"]["Message"] == message
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


def test_object_tag_limits_are_inclusive(s3: Any, bucket: str) -> None:
    pairs = [(f"k{i}", "v") for i in range(9)] + [("k" * 128, "v" * 256)]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(*pairs))
    assert len(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == 10
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(("sp ace_+-=.:/@", "ünï cödé 1")))


def test_bucket_tag_limits(s3: Any, bucket: str) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(*[(f"k{i}", "v") for i in range(50)]))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(*[(f"k{i}", "v") for i in range(51)]))
    assert error_of(caught) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(("k", "v"), ("k", "v")))
    assert error_of(caught) == ("InvalidTag", 400)


def test_tagging_header_duplicates_and_count(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="d", Body=b"x", Tagging="a=1&a=2")
    assert error_of(caught) == ("InvalidArgument", 400)
    assert caught.value.response["Error"]["ArgumentName"] == "x-amz-tagging"
    many = "&".join(f"k{i}=v" for i in range(11))
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="d", Body=b"x", Tagging=many)
    assert error_of(caught) == ("BadRequest", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="d", Body=b"x", Tagging=f"k={'v' * 257}")
    assert error_of(caught) == ("InvalidTag", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"AllowedOrigins": ["http://*.*.example.com"], "AllowedMethods": ["GET"]},
            'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.',
        ),
        (
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]},
            'AllowedHeader "x-*-*" can not have more than one wildcard.',
        ),
    ],
)
def test_cors_rule_with_two_wildcards(
    s3: Any, bucket: str, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert error_of(caught) == ("InvalidRequest", 400)
    assert caught.value.response["Error"]["Message"] == message
