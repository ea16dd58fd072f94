"""The account's root user and bucket policies, as S3 documents them: an explicit Deny in
a bucket policy stops root too, except for Get/Put/DeleteBucketPolicy, which root can
always run so that it cannot lock itself out; an Allow never matters to root."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import empty_bucket

ROOT_ARN = "arn:aws:iam::000000000000:root"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    for key in ("keep/a.txt", "open/b.txt"):
        s3.put_object(Bucket=unique_name, Key=key, Body=key.encode())
    yield unique_name
    s3.delete_bucket_policy(Bucket=unique_name)
    empty_bucket(s3, unique_name)


def refused(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


def test_a_deny_for_everyone_stops_root_but_not_its_policy_calls(s3: Any, bucket: str) -> None:
    text = policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    })  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="keep/a.txt")
    assert refused(caught) == (
        "AccessDenied",
        403,
        f"User: {ROOT_ARN} is not authorized to perform: s3:GetObject on resource: "
        f'"arn:aws:s3:::{bucket}/keep/a.txt" with an explicit deny in a resource-based policy',
    )
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="keep/a.txt", Body=b"changed")
    assert refused(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=bucket)
    assert refused(caught)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert refused(caught)[:2] == ("AccessDenied", 403)
    # the three calls root can always make: read the policy, replace it, remove it
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(text)
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="keep/a.txt")["Body"].read() == b"keep/a.txt"


def test_a_deny_naming_the_account_applies_key_by_key(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy({
            "Effect": "Deny", "Principal": {"AWS": "000000000000"},
            "Action": ["s3:DeleteObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{bucket}/keep/*",
        }),
    )  # fmt: skip
    answer = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "keep/a.txt"}, {"Key": "open/b.txt"}]}
    )
    assert [d["Key"] for d in answer.get("Deleted", [])] == ["open/b.txt"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("keep/a.txt", "AccessDenied")]
    assert s3.get_object(Bucket=bucket, Key="keep/a.txt")["Body"].read() == b"keep/a.txt"
    s3.put_object(Bucket=bucket, Key="open/c.txt", Body=b"c")  # outside the Deny
    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket=bucket, Key="keep/copy.txt", CopySource={"Bucket": bucket, "Key": "open/c.txt"}
        )
    assert refused(caught)[:2] == ("AccessDenied", 403)


def test_a_conditional_deny_and_one_for_others_leave_root_alone(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(
            {
                "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            },
            {
                "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/someone"},
                "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ),
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="keep/a.txt")["Body"].read() == b"keep/a.txt"
    s3.put_object(Bucket=bucket, Key="keep/a.txt", Body=b"new")
    assert s3.get_object(Bucket=bucket, Key="keep/a.txt")["Body"].read() == b"new"
