"""Multipart uploads end to end with boto3: every operation, error code and status."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import zlib
from typing import Any

import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError

from tests.e2e.s3.conftest import error_of

MIB = 1024 * 1024


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def multipart_etag(parts: list[bytes]) -> str:
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"'


def upload(
    s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Create an upload and send ``parts``; returns the id and the parts to complete with."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    algorithm = create.get("ChecksumAlgorithm")
    for number, data in enumerate(parts, start=1):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        reply = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **extra
        )
        entry = {"PartNumber": number, "ETag": reply["ETag"]}
        if algorithm:
            entry[f"Checksum{algorithm}"] = reply[f"Checksum{algorithm}"]
        done.append(entry)
    return upload_id, done


def complete(
    s3: Any, bucket: str, key: str, upload_id: str, parts: list[dict[str, Any]], **extra: Any
) -> Any:
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **extra
    )


def test_upload_and_read_back(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail bytes"]
    upload_id, done = upload(
        s3, bucket, "big", parts, ContentType="text/x-test", Metadata={"a": "1"}
    )
    result = complete(s3, bucket, "big", upload_id, done)
    assert result["ETag"] == multipart_etag(parts)
    assert result["Key"] == "big"
    assert result["Bucket"] == bucket
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "text/x-test"
    assert got["Metadata"] == {"a": "1"}
    assert "PartsCount" not in got  # only with partNumber, as S3 answers
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_single_small_part_is_allowed(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "one", [b"x" * 10])
    assert complete(s3, bucket, "one", upload_id, done)["ETag"] == multipart_etag([b"x" * 10])
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == b"x" * 10


def test_get_and_head_by_part_number(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), b"second part"]
    upload_id, done = upload(s3, bucket, "parts", parts)
    complete(s3, bucket, "parts", upload_id, done)
    second = s3.get_object(Bucket=bucket, Key="parts", PartNumber=2)
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert second["Body"].read() == b"second part"
    assert second["PartsCount"] == 2
    total = 5 * MIB + len(b"second part")
    assert second["ContentRange"] == f"bytes {5 * MIB}-{total - 1}/{total}"
    head = s3.head_object(Bucket=bucket, Key="parts", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 5 * MIB
    assert head["PartsCount"] == 2
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="parts", PartNumber=3)
    assert error_of(caught) == ("InvalidPartNumber", 416)


def test_part_number_one_of_a_plain_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="plain", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="plain", PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == "bytes 0-9/10"
    assert got["Body"].read() == b"0123456789"
    assert "PartsCount" not in got


def test_replacing_a_part_keeps_the_last(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"old")
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"new")[
        "ETag"
    ]
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag, 3)]
    complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"


def test_parts_left_out_are_dropped(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), b"two", b"three"]
    upload_id, done = upload(s3, bucket, "skip", parts)
    complete(s3, bucket, "skip", upload_id, [done[0], done[2]])
    got = s3.get_object(Bucket=bucket, Key="skip")
    assert got["Body"].read() == parts[0] + parts[2]
    assert got["ETag"] == multipart_etag([parts[0], parts[2]])


def test_invalid_part_order(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "k", [os.urandom(5 * MIB), b"b"])
    for wrong in ([done[1], done[0]], [done[0], done[0]]):
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, wrong)
        assert error_of(caught) == ("InvalidPartOrder", 400)


def test_invalid_part(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "k", [b"a"])
    for wrong in (
        [{"PartNumber": 2, "ETag": done[0]["ETag"]}],
        [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}],
    ):
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, wrong)
        assert error_of(caught) == ("InvalidPart", 400)
    # The upload is still there after failed completions.
    assert complete(s3, bucket, "k", upload_id, done)["ETag"] == multipart_etag([b"a"])


def test_entity_too_small(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "k", [b"small", b"last"])
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "k", upload_id, done)
    assert error_of(caught) == ("EntityTooSmall", 400)
    assert caught.value.response["Error"]["ProposedSize"] == "5"


def test_no_such_upload(s3: Any, bucket: str) -> None:
    missing = "0" * 32
    calls = [
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=missing, PartNumber=1, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=missing),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=missing),
        lambda: complete(s3, bucket, "k", missing, [{"PartNumber": 1, "ETag": '"x"'}]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("NoSuchUpload", 404)


def test_completed_and_aborted_uploads_are_gone(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "k", [b"a"])
    complete(s3, bucket, "k", upload_id, done)
    # A repeated completion answers the result again (test_aws_fidelity); parts are refused.
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_of(caught) == ("NoSuchUpload", 404)
    upload_id, _ = upload(s3, bucket, "k2", [b"a"])
    reply = s3.abort_multipart_upload(Bucket=bucket, Key="k2", UploadId=upload_id)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="k2", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_of(caught) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="k2")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_part_number_out_of_range(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for number in (0, 10001):
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
        assert error_of(caught) == ("InvalidArgument", 400)
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10000, Body=b"x")
    assert etag["ETag"] == f'"{hashlib.md5(b"x").hexdigest()}"'


def test_no_such_bucket(s3: Any, unique_name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=unique_name, Key="k")
    assert error_of(caught) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as caught:
        s3.list_multipart_uploads(Bucket=unique_name)
    assert error_of(caught) == ("NoSuchBucket", 404)


def test_malformed_complete_body(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "k", upload_id, [])
    assert error_of(caught) == ("MalformedXML", 400)


def test_bad_part_digest_stores_nothing(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    wrong_md5 = b64(hashlib.md5(b"other").digest())
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x",
            ContentMD5=wrong_md5,
        )
    assert error_of(caught) == ("BadDigest", 400)
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x",
            ChecksumCRC32=b64(crc32(b"y")),
        )
    assert error_of(caught) == ("BadDigest", 400)
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


def test_composite_checksum(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), b"end"]
    created = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256")
    assert created["ChecksumAlgorithm"] == "SHA256"
    assert created["ChecksumType"] == "COMPOSITE"
    upload_id = created["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket,
            Key="c",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
        )
        assert reply["ChecksumSHA256"] == b64(hashlib.sha256(data).digest())
        done.append(
            {"PartNumber": number, "ETag": reply["ETag"], "ChecksumSHA256": reply["ChecksumSHA256"]}
        )
    listed = s3.list_parts(Bucket=bucket, Key="c", UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == "SHA256"
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [d["ChecksumSHA256"] for d in done]
    result = complete(s3, bucket, "c", upload_id, done)
    digests = b"".join(hashlib.sha256(p).digest() for p in parts)
    expected = f"{b64(hashlib.sha256(digests).digest())}-2"
    assert result["ChecksumSHA256"] == expected
    assert result["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected
    assert head["ChecksumType"] == "COMPOSITE"


def test_composite_complete_needs_part_checksums(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "c", [b"a"], ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "c", upload_id, [{"PartNumber": 1, "ETag": done[0]["ETag"]}])
    assert error_of(caught) == ("InvalidRequest", 400)
    wrong = dict(done[0], ChecksumCRC32=b64(crc32(b"b")))
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "c", upload_id, [wrong])
    assert error_of(caught) == ("InvalidPart", 400)


def test_part_checksum_algorithm_must_match_upload(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket,
            Key="c",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x",
            ChecksumAlgorithm="SHA1",
        )
    assert error_of(caught) == ("InvalidRequest", 400)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum(s3: Any, bucket: str, algorithm: str) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(1234)]
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="f", ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT"
    )
    assert created["ChecksumType"] == "FULL_OBJECT"
    upload_id = created["UploadId"]
    done = []
    for number, data in enumerate(parts, start=1):
        reply = s3.upload_part(
            Bucket=bucket,
            Key="f",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm=algorithm,
        )
        done.append({"PartNumber": number, "ETag": reply["ETag"]})
    whole = b"".join(parts)
    fn = {"CRC32": crt.crc32, "CRC32C": crt.crc32c, "CRC64NVME": crt.crc64nvme}[algorithm]
    width = 8 if algorithm == "CRC64NVME" else 4
    expected = b64(fn(whole, 0).to_bytes(width, "big"))
    result = complete(s3, bucket, "f", upload_id, done)
    assert result[f"Checksum{algorithm}"] == expected
    assert result["ChecksumType"] == "FULL_OBJECT"
    # botocore validates a full-object checksum against the body it receives.
    got = s3.get_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == expected
    assert got["Body"].read() == whole


def test_full_object_checksum_given_at_completion(s3: Any, bucket: str) -> None:
    data = os.urandom(100)
    upload_id, done = upload(
        s3, bucket, "f", [data], ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="f",
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
            ChecksumCRC32=b64(crc32(b"other")),
            ChecksumType="FULL_OBJECT",
        )
    assert error_of(caught) == ("BadDigest", 400)
    result = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="f",
        UploadId=upload_id,
        MultipartUpload={"Parts": done},
        ChecksumCRC32=b64(crc32(data)),
        ChecksumType="FULL_OBJECT",
        MpuObjectSize=100,
    )
    assert result["ChecksumCRC32"] == b64(crc32(data))


def test_default_checksum_is_full_object_crc64nvme(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MIB), b"z"]
    upload_id, done = upload(s3, bucket, "d", parts)
    result = complete(s3, bucket, "d", upload_id, done)
    expected = b64(crt.crc64nvme(b"".join(parts), 0).to_bytes(8, "big"))
    assert result["ChecksumCRC64NVME"] == expected
    assert result["ChecksumType"] == "FULL_OBJECT"


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")],
)
def test_checksum_type_not_allowed_for_algorithm(
    s3: Any, bucket: str, algorithm: str, kind: str
) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(
            Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm, ChecksumType=kind
        )
    assert error_of(caught) == ("InvalidRequest", 400)


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]
    assert first["ETag"] == f'"{hashlib.md5(source[: 5 * MIB]).hexdigest()}"'
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=2,
        CopySource=f"{bucket}/src",
    )["CopyPartResult"]
    third = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=3,
        CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}",
    )["CopyPartResult"]
    complete(
        s3,
        bucket,
        "dst",
        upload_id,
        [
            {"PartNumber": 1, "ETag": first["ETag"]},
            {"PartNumber": 2, "ETag": second["ETag"]},
            {"PartNumber": 3, "ETag": third["ETag"]},
        ],
    )
    got = s3.get_object(Bucket=bucket, Key="dst")["Body"].read()
    assert got == source[: 5 * MIB] + source + source[5 * MIB :]


def test_upload_part_copy_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]

    def copy(**extra: Any) -> Any:
        args = {"CopySource": f"{bucket}/src", **extra}
        return s3.upload_part_copy(
            Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, **args
        )

    with pytest.raises(ClientError) as caught:
        copy(CopySourceRange="bytes=5-10")
    assert error_of(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        copy(CopySourceRange="bytes=5-")
    assert error_of(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        copy(CopySourceIfMatch='"nope"')
    assert error_of(caught) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as caught:
        copy(CopySource=f"{bucket}/missing")
    assert error_of(caught) == ("NoSuchKey", 404)
    part = copy(CopySourceRange="bytes=2-4")["CopyPartResult"]
    complete(s3, bucket, "dst", upload_id, [{"PartNumber": 1, "ETag": part["ETag"]}])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"234"


def test_list_parts_paging(s3: Any, bucket: str) -> None:
    upload_id, _ = upload(s3, bucket, "k", [b"1", b"2", b"3", b"4", b"5"])
    first = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert first["IsTruncated"] is True
    assert first["NextPartNumberMarker"] == 2
    assert first["MaxParts"] == 2
    rest = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3, 4, 5]
    assert rest["IsTruncated"] is False
    assert rest["StorageClass"] == "STANDARD"
    assert rest["Initiator"]["ID"]
    paginated = s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 2}
    )
    assert [p["PartNumber"] for page in paginated for p in page["Parts"]] == [1, 2, 3, 4, 5]


def test_list_multipart_uploads(s3: Any, bucket: str) -> None:
    ids: dict[str, list[str]] = {}
    for key in ["a", "dir/x", "dir/y", "b", "a"]:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        ids.setdefault(key, []).append(upload_id)
    listed = s3.list_multipart_uploads(Bucket=bucket)
    got = [(u["Key"], u["UploadId"]) for u in listed["Uploads"]]
    expected = [(k, i) for k in sorted(ids) for i in ids[k]]
    assert got == expected  # by key, then by initiation time
    assert listed["IsTruncated"] is False

    rolled = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in rolled["Uploads"]] == ["a", "a", "b"]
    assert rolled["CommonPrefixes"] == [{"Prefix": "dir/"}]

    prefixed = s3.list_multipart_uploads(Bucket=bucket, Prefix="dir/")
    assert [u["Key"] for u in prefixed["Uploads"]] == ["dir/x", "dir/y"]

    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("a", ids["a"][0])
    after = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker="a", UploadIdMarker=ids["a"][0], MaxUploads=2
    )
    assert [(u["Key"], u["UploadId"]) for u in after["Uploads"]] == [
        ("a", ids["a"][1]),
        ("b", ids["b"][0]),
    ]
    after_key = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a")
    assert [u["Key"] for u in after_key["Uploads"]] == ["b", "dir/x", "dir/y"]

    pages = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    assert [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])] == expected


def test_list_multipart_uploads_url_encoding(s3: Any, bucket: str) -> None:
    s3.create_multipart_upload(Bucket=bucket, Key="sp ace/ü")
    listed = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url")
    assert listed["EncodingType"] == "url"
    assert [u["Key"] for u in listed["Uploads"]] == ["sp+ace/%C3%BC"]


def test_bucket_with_only_uploads_can_be_deleted(s3: Any, unique_name: str) -> None:
    s3.create_bucket(Bucket=unique_name)
    s3.create_multipart_upload(Bucket=unique_name, Key="k")
    s3.delete_bucket(Bucket=unique_name)


def test_complete_if_none_match(s3: Any, bucket: str) -> None:
    first, done_first = upload(s3, bucket, "cond", [b"one"])
    second, done_second = upload(s3, bucket, "cond", [b"two"])
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="cond",
        UploadId=first,
        MultipartUpload={"Parts": done_first},
        IfNoneMatch="*",
    )
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="cond",
            UploadId=second,
            MultipartUpload={"Parts": done_second},
            IfNoneMatch="*",
        )
    assert error_of(caught) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"one"


def test_complete_if_match(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cond", Body=b"zero")
    etag = s3.head_object(Bucket=bucket, Key="cond")["ETag"]
    upload_id, done = upload(s3, bucket, "cond", [b"one"])
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="cond",
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
            IfMatch='"0123456789abcdef0123456789abcdef"',
        )
    assert error_of(caught) == ("PreconditionFailed", 412)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="cond", UploadId=upload_id, MultipartUpload={"Parts": done}, IfMatch=etag
    )
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"one"


def test_concurrent_conditional_completes_one_wins(s3: Any, bucket: str) -> None:
    uploads = [upload(s3, bucket, "race", [f"body {i}".encode()]) for i in range(8)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def finish(upload_id: str, done: list[dict[str, Any]]) -> None:
        try:
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key="race",
                UploadId=upload_id,
                MultipartUpload={"Parts": done},
                IfNoneMatch="*",
            )
            outcome = "ok"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=finish, args=u) for u in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["PreconditionFailed"] * 7 + ["ok"]


def test_concurrent_completes_of_one_upload(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "same", [b"data"])
    outcomes: list[str] = []
    lock = threading.Lock()

    def finish() -> None:
        try:
            complete(s3, bucket, "same", upload_id, done)
            outcome = "ok"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=finish) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One completion wins; the others are repeats of it and answer its result.
    assert outcomes == ["ok"] * 6
    assert s3.get_object(Bucket=bucket, Key="same")["Body"].read() == b"data"


def test_versioned_bucket_gets_a_version_id(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload_id, done = upload(s3, bucket, "v", [b"a"])
    result = complete(s3, bucket, "v", upload_id, done)
    assert result["VersionId"] not in ("", "null")
    head = s3.head_object(Bucket=bucket, Key="v", VersionId=result["VersionId"])
    assert head["ETag"] == result["ETag"]


def test_upload_keeps_tags_and_storage_class(s3: Any, bucket: str) -> None:
    upload_id, done = upload(s3, bucket, "t", [b"a"], Tagging="k1=v1", StorageClass="STANDARD_IA")
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert listed[0]["StorageClass"] == "STANDARD_IA"
    complete(s3, bucket, "t", upload_id, done)
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k1", "Value": "v1"}]
    assert s3.head_object(Bucket=bucket, Key="t")["StorageClass"] == "STANDARD_IA"


def test_upload_file_and_download_file(s3: Any, bucket: str, tmp_path: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(17 * MIB + 3)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(source), bucket, "file", Config=config)
    head = s3.head_object(Bucket=bucket, Key="file")
    assert head["ETag"].endswith('-4"')
    target = tmp_path / "out.bin"
    s3.download_file(bucket, "file", str(target), Config=config)
    assert target.read_bytes() == data


def test_replies_carry_sse_and_no_display_name(s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="k")
    assert created["ServerSideEncryption"] == "AES256"
    upload_id = created["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert part["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    copied = s3.upload_part_copy(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"},
    )
    assert copied["ServerSideEncryption"] == "AES256"
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert set(parts["Initiator"]) == {"ID"}
    assert set(parts["Owner"]) == {"ID"}
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert set(uploads[0]["Initiator"]) == {"ID"}
    assert set(uploads[0]["Owner"]) == {"ID"}
    done = complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": part["ETag"]}])
    assert done["ServerSideEncryption"] == "AES256"


def test_list_uploads_max_uploads_is_capped(s3: Any, bucket: str) -> None:
    assert s3.list_multipart_uploads(Bucket=bucket, MaxUploads=5000)["MaxUploads"] == 1000
