"""SSE-KMS: objects whose data key is wrapped by a KMS key of the local key service.

Keys named by id, alias or ARN (responses name them by ARN), the AWS managed aws/s3 key
made on first use, the encryption context, Bucket Keys' header, multipart uploads, ranges
and copies; a disabled or pending-deletion key makes its objects unreadable with KMS's
error under S3's ``KMS.`` prefix until it is enabled again; no plaintext under the data
directory, and all of it across kill -9."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client
from tests.e2e.iam.conftest import signed_as
from tests.e2e.kms.conftest import error_of, found_under
from tests.server import RunningServer, start_server

KMS = "aws:kms"
BUCKET = "kms-scan"


@pytest.fixture(scope="module")
def kms(server: RunningServer) -> Any:
    return client(server, "kms")


def new_key(kms: Any) -> dict[str, Any]:
    meta: dict[str, Any] = kms.create_key(Description="objects")["KeyMetadata"]
    return meta


def test_key_by_id_alias_and_arn(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    alias = f"alias/s3-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    for n, named in enumerate(
        (key["KeyId"], alias, key["Arn"], f"{key['Arn'].split(':key/')[0]}:{alias}")
    ):
        body = os.urandom(1000 + n * 70000)
        put = s3.put_object(
            Bucket=bucket, Key=f"o{n}", Body=body, ServerSideEncryption=KMS, SSEKMSKeyId=named
        )
        assert put["ServerSideEncryption"] == KMS
        assert put["SSEKMSKeyId"] == key["Arn"]
        got = s3.get_object(Bucket=bucket, Key=f"o{n}")
        assert got["Body"].read() == body
        assert got["ServerSideEncryption"] == KMS
        assert got["SSEKMSKeyId"] == key["Arn"]
        head = s3.head_object(Bucket=bucket, Key=f"o{n}")
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == (KMS, key["Arn"])


def test_default_aws_managed_key(s3: Any, kms: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"managed", ServerSideEncryption=KMS)
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert put["SSEKMSKeyId"] == managed["Arn"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"managed"


def test_context_and_bucket_key(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    context = base64.b64encode(json.dumps({"project": "atlas"}).encode()).decode()
    put = s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"with context",
        ServerSideEncryption=KMS,
        SSEKMSKeyId=key["KeyId"],
        SSEKMSEncryptionContext=context,
        BucketKeyEnabled=True,
    )
    assert put["BucketKeyEnabled"] is True
    assert put["SSEKMSEncryptionContext"] == context
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"with context"
    assert got["BucketKeyEnabled"] is True
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="bad",
            Body=b"x",
            ServerSideEncryption=KMS,
            SSEKMSEncryptionContext="not base64 json",
        )
    assert error_of(caught)[:2] == ("InvalidArgument", 400)


def test_header_combinations(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId=key["KeyId"])
    assert error_of(caught)[:2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ServerSideEncryption="AES256",
            SSEKMSKeyId=key["KeyId"],
        )
    assert error_of(caught)[:2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ServerSideEncryption=KMS,
            SSEKMSKeyId=str(uuid.uuid4()),
        )
    code, status, message = error_of(caught)
    assert (code, status) == ("KMS.NotFoundException", 400)
    assert message.endswith("does not exist")
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="k")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404  # nothing written


def test_disabled_and_pending_deletion_keys(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    s3.put_object(
        Bucket=bucket, Key="k", Body=b"guarded", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
    )
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == ("KMS.DisabledException", 400, f"{key['Arn']} is disabled.")
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
        )
    assert error_of(caught)[:2] == ("KMS.DisabledException", 400)
    kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"guarded"
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(caught) == (
        "KMS.KMSInvalidStateException",
        400,
        f"{key['Arn']} is pending deletion.",
    )
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"guarded"


def test_multipart_range_and_copy(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key="mp", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
    )
    assert upload["SSEKMSKeyId"] == key["Arn"]
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1234)]
    done = []
    for number, body in enumerate(parts, 1):
        part = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number, Body=body
        )
        assert part["SSEKMSKeyId"] == key["Arn"]
        done.append({"PartNumber": number, "ETag": part["ETag"]})
    complete = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )
    assert complete["SSEKMSKeyId"] == key["Arn"]
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=5242000-5243000")
    assert ranged["Body"].read() == whole[5242000:5243001]
    s3.put_object(Bucket=bucket, Key="plain", Body=b"sse-s3 source")
    other = new_key(kms)
    copied = s3.copy_object(
        Bucket=bucket,
        Key="copy",
        CopySource={"Bucket": bucket, "Key": "plain"},
        ServerSideEncryption=KMS,
        SSEKMSKeyId=other["KeyId"],
    )
    assert copied["SSEKMSKeyId"] == other["Arn"]
    got = s3.get_object(Bucket=bucket, Key="copy")
    assert (got["Body"].read(), got["SSEKMSKeyId"]) == (b"sse-s3 source", other["Arn"])
    back = s3.copy_object(Bucket=bucket, Key="back", CopySource={"Bucket": bucket, "Key": "copy"})
    assert back["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="back")["Body"].read() == b"sse-s3 source"


def test_no_plaintext_and_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = start_server(data)
    try:
        s3 = client(running, "s3", s3={"addressing_style": "path"})
        kms = client(running, "kms")
        s3.create_bucket(Bucket=BUCKET)
        key = new_key(kms)
        small = f"small-kms-marker-{uuid.uuid4().hex}".encode()
        large = f"large-kms-marker-{uuid.uuid4().hex}".encode() * 4096
        s3.put_object(
            Bucket=BUCKET,
            Key="small",
            Body=small,
            ServerSideEncryption=KMS,
            SSEKMSKeyId=key["KeyId"],
        )
        s3.put_object(
            Bucket=BUCKET,
            Key="large",
            Body=large,
            ServerSideEncryption=KMS,
            SSEKMSKeyId=key["KeyId"],
        )
        running.kill()
        assert found_under(data, small) == []
        assert found_under(data, large[:64]) == []
        running = start_server(data, port=running.port)
        s3 = client(running, "s3", s3={"addressing_style": "path"})
        assert s3.get_object(Bucket=BUCKET, Key="small")["Body"].read() == small
        assert s3.get_object(Bucket=BUCKET, Key="large")["Body"].read() == large
    finally:
        running.stop()


def test_callers_need_kms_permission_on_customer_keys(
    server: RunningServer, s3: Any, kms: Any, bucket: str, unique_name: str
) -> None:
    iam = client(server, "iam")
    key = new_key(kms)
    s3.put_object(
        Bucket=bucket, Key="root", Body=b"r", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
    )
    iam.create_user(UserName=unique_name)
    allow_s3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [allow_s3]}
    iam.put_user_policy(UserName=unique_name, PolicyName="s3", PolicyDocument=json.dumps(document))
    access = iam.create_access_key(UserName=unique_name)["AccessKey"]
    as_user = signed_as(
        server,
        "s3",
        access["AccessKeyId"],
        access["SecretAccessKey"],
        s3={"addressing_style": "path"},
    )
    with pytest.raises(ClientError) as caught:
        as_user.get_object(Bucket=bucket, Key="root")
    code, status, message = error_of(caught)
    assert (code, status) == ("AccessDenied", 403)
    assert f"kms:Decrypt on resource: {key['Arn']}" in message
    with pytest.raises(ClientError) as caught:
        as_user.put_object(
            Bucket=bucket, Key="u", Body=b"u", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
        )
    assert error_of(caught)[:2] == ("AccessDenied", 403)
    # The AWS managed key needs no permission of the caller's own.
    as_user.put_object(Bucket=bucket, Key="managed", Body=b"m", ServerSideEncryption=KMS)
    assert as_user.get_object(Bucket=bucket, Key="managed")["Body"].read() == b"m"
    allow_kms = {
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key["Arn"],
    }
    document["Statement"].append(allow_kms)
    iam.put_user_policy(UserName=unique_name, PolicyName="s3", PolicyDocument=json.dumps(document))
    assert as_user.get_object(Bucket=bucket, Key="root")["Body"].read() == b"r"
    as_user.put_object(
        Bucket=bucket, Key="u", Body=b"u", ServerSideEncryption=KMS, SSEKMSKeyId=key["KeyId"]
    )


def test_bucket_default_aws_kms(s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    alias = f"alias/default-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": KMS,
                        "KMSMasterKeyID": alias,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": KMS,
        "KMSMasterKeyID": alias,
    }
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"by default")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == (KMS, key["Arn"])
    assert put["BucketKeyEnabled"] is True
    got = s3.get_object(Bucket=bucket, Key="d")
    assert (got["Body"].read(), got["SSEKMSKeyId"]) == (b"by default", key["Arn"])
    # A write naming aws:kms without a key gets aws/s3, one naming AES256 gets SSE-S3.
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    assert (
        s3.put_object(Bucket=bucket, Key="m", Body=b"m", ServerSideEncryption=KMS)["SSEKMSKeyId"]
        == managed
    )
    plain = s3.put_object(Bucket=bucket, Key="p", Body=b"p", ServerSideEncryption="AES256")
    assert plain["ServerSideEncryption"] == "AES256"
    assert "SSEKMSKeyId" not in plain
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="d2", Body=b"x")
    assert error_of(caught)[:2] == ("KMS.DisabledException", 400)
    kms.enable_key(KeyId=key["KeyId"])


def test_bucket_keys_spare_kms_calls(server: RunningServer, s3: Any, kms: Any, bucket: str) -> None:
    key = new_key(kms)
    bodies = {f"bk{n}": os.urandom(3000 + n) for n in range(4)}
    for name, body in bodies.items():
        put = s3.put_object(
            Bucket=bucket,
            Key=name,
            Body=body,
            ServerSideEncryption=KMS,
            SSEKMSKeyId=key["KeyId"],
            BucketKeyEnabled=True,
        )
        assert put["BucketKeyEnabled"] is True
    for name, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=name)["Body"].read() == body
    cloudtrail = client(server, "cloudtrail")
    events = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}]
    )["Events"]
    names = [e["EventName"] for e in events]
    assert names.count("GenerateDataKey") == 1  # one bucket key for the four objects
    assert names.count("Decrypt") == 1
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="bk0")
    assert error_of(caught)[:2] == ("KMS.DisabledException", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="bk9",
            Body=b"x",
            ServerSideEncryption=KMS,
            SSEKMSKeyId=key["KeyId"],
            BucketKeyEnabled=True,
        )
    assert error_of(caught)[:2] == ("KMS.DisabledException", 400)
    kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="bk0")["Body"].read() == bodies["bk0"]
