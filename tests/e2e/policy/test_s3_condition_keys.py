"""S3 condition keys from the request itself: ``s3:signatureversion`` / ``s3:authType``
(how it was signed) and ``s3:RequestObjectTag/<key>`` / ``s3:RequestObjectTagKeys``
(the tags a write sets), evaluated in an IAM user's policy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.policy.test_user_access import denied, policy
from tests.e2e.s3.conftest import empty_bucket
from tests.server import RunningServer


@pytest.fixture
def bucket(s3: Any, unique_name: str) -> Iterator[str]:
    s3.create_bucket(Bucket=unique_name)
    yield unique_name
    empty_bucket(s3, unique_name)


def _user_keys(server: RunningServer, statements: list[Any]) -> tuple[str, str]:
    iam = client(server, "iam")
    name = f"u-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_signature_version_condition(server: RunningServer, s3: Any, bucket: str) -> None:
    key_id, secret = _user_keys(
        server,
        [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}},
            },
        ],
    )
    v4 = signed_as(server, "s3", key_id, secret, s3={"addressing_style": "path"})
    v4.put_object(Bucket=bucket, Key="v4", Body=b"x")
    v2 = signed_as(
        server, "s3", key_id, secret, s3={"addressing_style": "path"}, signature_version="s3"
    )
    with pytest.raises(ClientError) as caught:
        v2.put_object(Bucket=bucket, Key="v2", Body=b"x")
    assert denied(caught) == ("AccessDenied", 403)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["v4"]


def test_request_object_tag_condition(server: RunningServer, s3: Any, bucket: str) -> None:
    key_id, secret = _user_keys(
        server,
        [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectTagging"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "StringEquals": {"s3:RequestObjectTag/team": "blue"},
                    "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "env"]},
                },
            }
        ],
    )
    user = signed_as(server, "s3", key_id, secret, s3={"addressing_style": "path"})
    user.put_object(Bucket=bucket, Key="blue", Body=b"x", Tagging="team=blue&env=dev")
    for tagging in ("team=red", "team=blue&owner=me", ""):
        with pytest.raises(ClientError) as caught:
            user.put_object(Bucket=bucket, Key="other", Body=b"x", Tagging=tagging)
        assert denied(caught) == ("AccessDenied", 403), tagging
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["blue"]


def test_existing_object_tag_condition(server: RunningServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="class=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="class=secret")
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"u")
    key_id, secret = _user_keys(
        server,
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectTagging"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "public"}},
            }
        ],
    )
    user = signed_as(server, "s3", key_id, secret, s3={"addressing_style": "path"})
    assert user.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    assert user.get_object_tagging(Bucket=bucket, Key="open")["TagSet"] == [
        {"Key": "class", "Value": "public"}
    ]
    for key in ("closed", "untagged", "missing"):
        with pytest.raises(ClientError) as caught:
            user.get_object(Bucket=bucket, Key=key)
        assert denied(caught) == ("AccessDenied", 403), key
    s3.put_object_tagging(
        Bucket=bucket, Key="closed", Tagging={"TagSet": [{"Key": "class", "Value": "public"}]}
    )
    assert user.get_object(Bucket=bucket, Key="closed")["Body"].read() == b"c"  # tags read anew
