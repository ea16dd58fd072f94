"""boto3 above the client: the transfer manager, the resource layer, waiters, paginators,
presigned HEAD and POST, virtual-host addressing and the signing/checksum configurations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig

from tests.conftest import client
from tests.server import RunningServer

MIB = 1024 * 1024
# 5 MiB parts (S3's minimum) so a 12 MiB file is three parts, four threads at a time.
SMALL_PARTS = TransferConfig(
    multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4
)


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(12 * MIB + 12345)


def resource(server: RunningServer) -> Any:
    return boto3.resource(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )


# ---- the transfer manager ---------------------------------------------------------------


def test_upload_and_download_file_in_parts(
    s3: Any, bucket: str, tmp_path: Path, payload: bytes
) -> None:
    source = tmp_path / "up.bin"
    source.write_bytes(payload)
    s3.upload_file(str(source), bucket, "up.bin", Config=SMALL_PARTS)
    head = s3.head_object(Bucket=bucket, Key="up.bin")
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].endswith('-3"')  # multipart
    target = tmp_path / "down.bin"
    s3.download_file(bucket, "up.bin", str(target), Config=SMALL_PARTS)  # ranged, concurrent
    assert target.read_bytes() == payload


def test_upload_and_download_fileobj(s3: Any, bucket: str, payload: bytes) -> None:
    s3.upload_fileobj(io.BytesIO(payload), bucket, "fileobj", Config=SMALL_PARTS)
    back = io.BytesIO()
    s3.download_fileobj(bucket, "fileobj", back, Config=SMALL_PARTS)
    assert back.getvalue() == payload
    small = io.BytesIO()
    s3.upload_fileobj(io.BytesIO(b"tiny"), bucket, "tiny", Config=SMALL_PARTS)
    s3.download_fileobj(bucket, "tiny", small, Config=SMALL_PARTS)
    assert small.getvalue() == b"tiny"


def test_managed_copy_uses_upload_part_copy(s3: Any, bucket: str, payload: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="source", Body=payload, ContentType="video/x-test")
    s3.copy({"Bucket": bucket, "Key": "source"}, bucket, "copied", Config=SMALL_PARTS)
    got = s3.get_object(Bucket=bucket, Key="copied")
    assert got["ETag"].endswith('-3"')  # copied part by part
    assert got["ContentType"] == "video/x-test"  # the manager copies the metadata over
    assert got["Body"].read() == payload


# ---- the resource layer -----------------------------------------------------------------


def test_resource_objects_filter_and_summaries(server: RunningServer, bucket: str) -> None:
    target = resource(server).Bucket(bucket)
    for index in range(5):
        target.put_object(Key=f"p/{index}", Body=b"x" * index)
    target.put_object(Key="q/other", Body=b"other")
    summaries = list(target.objects.filter(Prefix="p/").page_size(2))
    assert [s.key for s in summaries] == [f"p/{i}" for i in range(5)]
    assert [s.size for s in summaries] == list(range(5))
    assert all(s.e_tag.startswith('"') and s.storage_class == "STANDARD" for s in summaries)
    assert summaries[3].get()["Body"].read() == b"xxx"
    assert len(list(target.objects.all())) == 6


def test_resource_copy_from_versions_and_delete_objects(server: RunningServer, bucket: str) -> None:
    s3r = resource(server)
    target = s3r.Bucket(bucket)
    target.Versioning().enable()
    target.put_object(Key="v", Body=b"one")
    target.put_object(Key="v", Body=b"two")
    s3r.Object(bucket, "copy").copy_from(
        CopySource={"Bucket": bucket, "Key": "v"}, MetadataDirective="REPLACE",
        Metadata={"k": "v"},
    )  # fmt: skip
    copy = s3r.Object(bucket, "copy")
    assert copy.get()["Body"].read() == b"two"
    assert copy.metadata == {"k": "v"}
    versions = list(target.object_versions.filter(Prefix="v"))
    assert [v.key for v in versions] == ["v", "v"]
    assert [v.is_latest for v in versions] == [True, False]
    assert versions[1].get()["Body"].read() == b"one"
    out = target.delete_objects(Delete={"Objects": [{"Key": "v"}, {"Key": "copy"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["copy", "v"]
    assert all(d["DeleteMarker"] for d in out["Deleted"])
    assert list(target.objects.all()) == []
    assert len(list(target.object_versions.all())) == 5  # 3 versions, 2 delete markers


def test_waiters(s3: Any, bucket: str, unique_name: str) -> None:
    fast = {"Delay": 1, "MaxAttempts": 2}
    s3.get_waiter("bucket_exists").wait(Bucket=bucket, WaiterConfig=fast)
    s3.get_waiter("bucket_not_exists").wait(Bucket=unique_name + "-none", WaiterConfig=fast)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.get_waiter("object_exists").wait(Bucket=bucket, Key="k", WaiterConfig=fast)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.get_waiter("object_not_exists").wait(Bucket=bucket, Key="k", WaiterConfig=fast)


# ---- paginators for every list operation -------------------------------------------------


def _collect(s3: Any, operation: str, member: str, **params: Any) -> tuple[int, list[Any]]:
    pages = list(s3.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2}, **params))
    return len(pages), [item for page in pages for item in page.get(member, [])]


def test_paginators(s3: Any, bucket: str, unique_name: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = [f"d/{i}" for i in range(5)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
        s3.put_object(Bucket=bucket, Key=key, Body=b"2")
    pages, items = _collect(s3, "list_objects", "Contents", Bucket=bucket)
    assert (pages, [i["Key"] for i in items]) == (3, keys)
    pages, items = _collect(s3, "list_objects_v2", "Contents", Bucket=bucket)
    assert (pages, [i["Key"] for i in items]) == (3, keys)
    pages, items = _collect(s3, "list_object_versions", "Versions", Bucket=bucket)
    assert (pages, len(items)) == (5, 10)
    pages, items = _collect(s3, "list_objects_v2", "CommonPrefixes", Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in items] == ["d/"]

    uploads = [s3.create_multipart_upload(Bucket=bucket, Key=f"m/{i}")["UploadId"] for i in "abc"]
    for number in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="m/a", UploadId=uploads[0], PartNumber=number, Body=b"x")
    pages, items = _collect(s3, "list_multipart_uploads", "Uploads", Bucket=bucket)
    assert (pages, [u["UploadId"] for u in items]) == (2, uploads)
    pages, items = _collect(
        s3, "list_parts", "Parts", Bucket=bucket, Key="m/a", UploadId=uploads[0]
    )
    assert (pages, [p["PartNumber"] for p in items]) == (2, [1, 2, 3])
    for key, upload in zip(("m/a", "m/b", "m/c"), uploads, strict=True):
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)

    names = [f"{unique_name}-{i}" for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    try:
        pages, items = _collect(s3, "list_buckets", "Buckets", Prefix=unique_name + "-")
        assert (pages, [b["Name"] for b in items]) == (2, names)
    finally:
        for name in names:
            s3.delete_bucket(Bucket=name)


# ---- presigned URLs and POST -------------------------------------------------------------


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_head(server: RunningServer, bucket: str, signature_version: str) -> None:
    s3 = client(server, "s3", signature_version=signature_version, s3={"addressing_style": "path"})
    s3.put_object(Bucket=bucket, Key="head me", Body=b"12345")
    url = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "head me"})
    reply = requests.head(url, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["Content-Length"] == "5"
    missing = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "none"})
    assert requests.head(missing, timeout=30).status_code == 404


def _redirect_to(port: int) -> Any:
    """A before-send hook: connect to 127.0.0.1 but keep the virtual host's Host header."""

    def hook(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    return hook


def test_virtual_host_addressing(server: RunningServer, unique_name: str) -> None:
    # <bucket>.localhost does not resolve here (no nss-myhostname): botocore builds the
    # virtual-host request and signs it; the hook only changes where it connects.
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://localhost:{server.port}",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=boto3.session.Config(s3={"addressing_style": "virtual"}),
    )
    s3.meta.events.register_last("before-send.s3", _redirect_to(server.port))
    s3.create_bucket(Bucket=unique_name)
    try:
        s3.put_object(Bucket=unique_name, Key="a/b c+d", Body=b"virtual")
        assert s3.get_object(Bucket=unique_name, Key="a/b c+d")["Body"].read() == b"virtual"
        listed = s3.list_objects_v2(Bucket=unique_name)["Contents"]
        assert [o["Key"] for o in listed] == ["a/b c+d"]
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": unique_name, "Key": "a/b c+d"}
        )
        parts = urlsplit(url)
        assert parts.netloc == f"{unique_name}.localhost:{server.port}"
        direct = urlunsplit(parts._replace(netloc=f"127.0.0.1:{server.port}"))
        reply = requests.get(direct, headers={"Host": parts.netloc}, timeout=30)
        assert (reply.status_code, reply.content) == (200, b"virtual")
        s3.delete_object(Bucket=unique_name, Key="a/b c+d")
    finally:
        s3.delete_bucket(Bucket=unique_name)


def test_payload_signing_enabled(server: RunningServer, bucket: str, payload: bytes) -> None:
    s3 = client(server, "s3", s3={"addressing_style": "path", "payload_signing_enabled": True})
    s3.put_object(Bucket=bucket, Key="signed", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == b"hello"
    s3.upload_fileobj(io.BytesIO(payload), bucket, "signed-big", Config=SMALL_PARTS)
    assert s3.head_object(Bucket=bucket, Key="signed-big")["ContentLength"] == len(payload)


def test_checksums_when_required(server: RunningServer, bucket: str, payload: bytes) -> None:
    s3 = client(
        server,
        "s3",
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    s3.put_object(Bucket=bucket, Key="plain", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"hello"
    s3.upload_fileobj(io.BytesIO(payload), bucket, "parts", Config=SMALL_PARTS)
    back = io.BytesIO()
    s3.download_fileobj(bucket, "parts", back, Config=SMALL_PARTS)
    assert back.getvalue() == payload
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "plain"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["plain"]  # Content-MD5 still sent


# ---- POST Object (presigned POST) ---------------------------------------------------------


def _post(post: dict[str, Any], data: bytes, filename: str = "f.txt", **extra: str) -> Any:
    fields = {**post["fields"], **extra}
    return requests.post(post["url"], data=fields, files={"file": (filename, data)}, timeout=30)


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_post(
    server: RunningServer, s3: Any, bucket: str, signature_version: str
) -> None:
    signer = client(
        server, "s3", signature_version=signature_version, s3={"addressing_style": "path"}
    )
    post = signer.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "text/plain",
                "x-amz-meta-owner": "ada", "tagging": "<Tagging><TagSet><Tag><Key>t</Key>"
                "<Value>1</Value></Tag></TagSet></Tagging>"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "text/"],
                    {"x-amz-meta-owner": "ada"}, ["starts-with", "$tagging", ""],
                    ["content-length-range", 1, 1000]],
    )  # fmt: skip
    reply = _post(post, b"posted!", filename="hello.txt")
    assert reply.status_code == 201, reply.text
    assert "<Key>uploads/hello.txt</Key>" in reply.text
    assert f"<Bucket>{bucket}</Bucket>" in reply.text
    got = s3.get_object(Bucket=bucket, Key="uploads/hello.txt")
    assert got["Body"].read() == b"posted!"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "ada"}
    assert reply.headers["ETag"] == got["ETag"]
    tags = s3.get_object_tagging(Bucket=bucket, Key="uploads/hello.txt")["TagSet"]
    assert tags == [{"Key": "t", "Value": "1"}]


def test_presigned_post_default_status_and_redirect(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    signer = client(server, "s3", signature_version="s3v4", s3={"addressing_style": "path"})
    post = signer.generate_presigned_post(bucket, "plain")
    reply = _post(post, b"x" * 100_000)  # larger than an inline object: a blob
    assert (reply.status_code, reply.content) == (204, b"")
    assert reply.headers["Location"].endswith(f"/{bucket}/plain")
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"x" * 100_000
    post = signer.generate_presigned_post(
        bucket, "redirected", Fields={"success_action_redirect": "http://example.test/done"},
        Conditions=[{"success_action_redirect": "http://example.test/done"}],
    )  # fmt: skip
    reply = requests.post(
        post["url"], data=post["fields"], files={"file": ("f", b"r")}, allow_redirects=False,
        timeout=30,
    )  # fmt: skip
    assert reply.status_code == 303
    location = reply.headers["Location"]
    assert location.startswith(f"http://example.test/done?bucket={bucket}&key=redirected&etag=")


def test_presigned_post_refusals(server: RunningServer, s3: Any, bucket: str) -> None:
    signer = client(server, "s3", signature_version="s3v4", s3={"addressing_style": "path"})
    post = signer.generate_presigned_post(
        bucket, "limited", Conditions=[["content-length-range", 2, 10]]
    )
    too_big = _post(post, b"x" * 11)
    assert too_big.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in too_big.text
    too_small = _post(post, b"x")
    assert "<Code>EntityTooSmall</Code>" in too_small.text
    extra = _post(post, b"xx", **{"x-amz-meta-sneaky": "1"})
    assert extra.status_code == 403
    assert "Extra input fields: x-amz-meta-sneaky" in extra.text
    ignored = _post(post, b"xx", **{"x-ignore-this": "1"})
    assert ignored.status_code == 204
    wrong_key = _post(post, b"xx", key="elsewhere")
    assert wrong_key.status_code == 403
    assert "Policy Condition failed" in wrong_key.text
    forged = _post(post, b"xx", **{"x-amz-signature": "0" * 64})
    assert "<Code>SignatureDoesNotMatch</Code>" in forged.text
    expired = signer.generate_presigned_post(bucket, "late", ExpiresIn=-10)
    late = _post(expired, b"xx")
    assert late.status_code == 403
    assert "Policy expired" in late.text
    anonymous = requests.post(
        post["url"], data={"key": "anon"}, files={"file": ("f", b"a")}, timeout=30
    )
    assert anonymous.status_code == 403
    no_file = requests.post(post["url"], data=post["fields"], files={"x": ("", "")}, timeout=30)
    assert "<Code>InvalidArgument</Code>" in no_file.text
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {"limited"}  # only the upload with x-ignore- went in


def test_post_policy_signed_by_hand(server: RunningServer, s3: Any, bucket: str) -> None:
    """A form written as a browser page would: fields in any case, the file last."""
    policy = base64.b64encode(
        json.dumps(
            {
                "expiration": "2099-01-01T00:00:00Z",
                "conditions": [
                    {"bucket": bucket},
                    ["eq", "$key", "hand"],
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    ["starts-with", "$x-amz-credential", server.access_key],
                    ["starts-with", "$x-amz-date", ""],
                ],
            }
        ).encode()
    ).decode()
    date = "20250101"
    key = b"AWS4" + server.secret_key.encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), hashlib.sha256)
    fields = {
        "key": "hand",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{server.access_key}/{date}/us-east-1/s3/aws4_request",
        "X-Amz-Date": f"{date}T000000Z",
        "Policy": policy,
        "X-Amz-Signature": hmac.new(key, policy.encode(), hashlib.sha256).hexdigest(),
    }
    url = f"{server.endpoint}/{bucket}"
    reply = requests.post(url, data=fields, files={"file": ("f", b"by hand")}, timeout=30)
    assert reply.status_code == 204, reply.text
    assert s3.get_object(Bucket=bucket, Key="hand")["Body"].read() == b"by hand"
    not_form = requests.post(url, data=b"x", headers={"Content-Type": "text/plain"}, timeout=30)
    # unsigned and not a form: the anonymous caller's POST, which S3 refuses as no form
    assert not_form.status_code == 412
    assert "enclosure-type multipart/form-data" in not_form.text


def test_post_to_missing_bucket(server: RunningServer, unique_name: str) -> None:
    signer = client(server, "s3", signature_version="s3v4", s3={"addressing_style": "path"})
    post = signer.generate_presigned_post(unique_name, "k")
    reply = _post(post, b"x")
    assert reply.status_code == 404
    assert "<Code>NoSuchBucket</Code>" in reply.text


def test_post_streamed_virtual_host_fields_after_file(
    server: RunningServer, s3: Any, bucket: str
) -> None:
    """A form sent chunked (no Content-Length) to ``<bucket>.localhost``, in small pieces,
    with a field after the file (ignored, as S3 ignores it)."""
    signer = client(server, "s3", signature_version="s3v4", s3={"addressing_style": "path"})
    post = signer.generate_presigned_post(bucket, "streamed")
    boundary = "strataBoundary7MA4YWxk"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in post["fields"].items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    data = os.urandom(300_000) + f"\r\n--{boundary}".encode()[:-1]  # a near-delimiter inside
    tail = f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="submit"\r\n\r\nUpload'
    tail += f"\r\n--{boundary}--\r\n"

    def pieces() -> Any:
        yield head
        for start in range(0, len(data), 7001):
            yield data[start : start + 7001]
        yield tail.encode()

    reply = requests.post(
        f"{server.endpoint}/",
        data=pieces(),
        headers={
            "Host": f"{bucket}.localhost:{server.port}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        timeout=30,
    )
    assert reply.status_code == 204, reply.text
    assert reply.headers["Location"] == f"http://{bucket}.localhost:{server.port}/streamed"
    assert s3.get_object(Bucket=bucket, Key="streamed")["Body"].read() == data
