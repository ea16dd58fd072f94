"""S3 behaviours as AWS shows them (issue 16): buckets, repeated completions, conditions."""

from __future__ import annotations

import http.client
import socket
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from strata.storage.volumes.cipher import sealed_size
from tests.e2e.s3.conftest import error_of
from tests.e2e.s3.test_multipart import MIB, complete, upload
from tests.e2e.s3.test_volumes import live
from tests.server import RunningServer


def test_delete_bucket_aborts_its_uploads(s3: Any, server: RunningServer, unique_name: str) -> None:
    before = live(server, "hot")
    s3.create_bucket(Bucket=unique_name)
    upload(s3, unique_name, "big", [b"x" * (5 * MIB), b"tail"])
    upload(s3, unique_name, "dir/other", [])
    assert live(server, "hot") == before + sealed_size(5 * MIB) + sealed_size(4)
    s3.delete_bucket(Bucket=unique_name)
    assert live(server, "hot") == before  # the parts' bytes went with their uploads
    with pytest.raises(ClientError) as caught:
        s3.head_bucket(Bucket=unique_name)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A namesake starts empty: the uploads went with the bucket.
    s3.create_bucket(Bucket=unique_name)
    try:
        assert s3.list_multipart_uploads(Bucket=unique_name).get("Uploads", []) == []
    finally:
        s3.delete_bucket(Bucket=unique_name)


def test_delete_bucket_with_objects_and_uploads_is_refused(s3: Any, bucket: str) -> None:
    upload_id, _ = upload(s3, bucket, "u", [b"part"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(caught) == ("BucketNotEmpty", 409)
    # Nothing changed: the upload is still there.
    assert s3.list_parts(Bucket=bucket, Key="u", UploadId=upload_id)["Parts"][0]["Size"] == 4


def test_create_bucket_again_in_us_east_1_is_ok(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"kept")
    reply = s3.create_bucket(Bucket=bucket)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert reply["Location"] == f"/{bucket}"
    # Nothing was reset.
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"


def test_create_bucket_again_elsewhere_is_already_owned(s3: Any, unique_name: str) -> None:
    where = {"LocationConstraint": "eu-west-1"}
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration=where)
    try:
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration=where)
        assert error_of(caught) == ("BucketAlreadyOwnedByYou", 409)
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=unique_name)
        assert error_of(caught) == ("BucketAlreadyOwnedByYou", 409)
    finally:
        s3.delete_bucket(Bucket=unique_name)


def test_repeated_completion_answers_the_same(s3: Any, bucket: str) -> None:
    upload_id, parts = upload(s3, bucket, "k", [b"a" * (5 * MIB), b"b"])
    first = complete(s3, bucket, "k", upload_id, parts)
    again = complete(s3, bucket, "k", upload_id, parts)
    assert again["ETag"] == first["ETag"]
    assert (again["Key"], again["Bucket"]) == ("k", bucket)
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == first["ETag"]
    # Once the object is replaced, the upload is gone for good.
    s3.put_object(Bucket=bucket, Key="k", Body=b"new")
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "k", upload_id, parts)
    assert error_of(caught) == ("NoSuchUpload", 404)
    # Another key with that upload id is no completion of it.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    with pytest.raises(ClientError) as caught:
        complete(s3, bucket, "other", upload_id, parts)
    assert error_of(caught) == ("NoSuchUpload", 404)


def test_repeated_completion_in_a_versioned_bucket(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload_id, parts = upload(s3, bucket, "k", [b"only part"])
    first = complete(s3, bucket, "k", upload_id, parts)
    again = complete(s3, bucket, "k", upload_id, parts)
    assert (again["ETag"], again["VersionId"]) == (first["ETag"], first["VersionId"])
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [first["VersionId"]]


def _not_implemented(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    assert error_of(caught) == ("NotImplemented", 501)
    error = caught.value.response["Error"]
    assert error["Message"] == "A header you provided implies functionality that is not implemented"
    return error["Header"], error["additionalMessage"]


def test_put_object_condition_values(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch=etag)
    assert _not_implemented(caught) == (
        "If-None-Match",
        "We don't accept the provided value of If-None-Match header for this API",
    )
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch="*")
    assert _not_implemented(caught) == (
        "If-Match",
        "We don't accept the provided value of If-Match header for this API",
    )
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag, IfNoneMatch="*")
    assert _not_implemented(caught) == (
        "If-Match,If-None-Match",
        "Multiple conditional request headers present in the request",
    )
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    # The ETag, quoted or not, is compared with the current one.
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag.strip('"'))
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfMatch=etag)
    assert error_of(caught) == ("PreconditionFailed", 412)
    assert caught.value.response["Error"]["Condition"] == "If-Match"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"


def test_put_object_if_match_after_delete(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)
    assert error_of(caught) == ("NoSuchKey", 404)
    # If-None-Match looks at the current version only: a delete marker is no object.
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfNoneMatch="*")


def test_complete_condition_values(s3: Any, bucket: str) -> None:
    upload_id, parts = upload(s3, bucket, "k", [b"part"])

    def finish(**condition: str) -> Any:
        return complete(s3, bucket, "k", upload_id, parts, **condition)

    cases = [
        ({"IfNoneMatch": '"abc"'}, "If-None-Match"),
        ({"IfMatch": "*"}, "If-None-Match"),
        ({"IfMatch": '"abc"', "IfNoneMatch": "*"}, "If-Match,If-None-Match"),
    ]
    for condition, header in cases:
        with pytest.raises(ClientError) as caught:
            finish(**condition)
        assert _not_implemented(caught)[0] == header
    with pytest.raises(ClientError) as caught:
        finish(IfMatch='"abc"')
    assert error_of(caught) == ("NoSuchKey", 404)
    # The upload survives every refusal.
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"before")["ETag"]
    with pytest.raises(ClientError) as caught:
        finish(IfMatch='"abc"')
    assert error_of(caught) == ("PreconditionFailed", 412)
    done = finish(IfMatch=etag)
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == done["ETag"]


def test_url_encoding_in_every_listing(s3: Any, bucket: str) -> None:
    """A space is +, a plus %2B, in keys and common prefixes, as AWS answers (measured;
    the ceph s3-tests expect %20 there, RGW's answer: see ``listing.url_encode``)."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b", "100% é"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    expected_keys = ["100%25+%C3%A9", "asdf%2Bb"]
    expected_prefixes = ["foo%2B1/", "foo/", "quux+ab/"]
    pages = [
        s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url"),
        s3.list_objects_v2(Bucket=bucket, Delimiter="/", EncodingType="url"),
    ]
    for page in pages:
        assert [o["Key"] for o in page["Contents"]] == expected_keys
        assert [p["Prefix"] for p in page["CommonPrefixes"]] == expected_prefixes
    versions = s3.list_object_versions(Bucket=bucket, Delimiter="/", EncodingType="url")
    assert [v["Key"] for v in versions["Versions"]] == expected_keys
    assert [p["Prefix"] for p in versions["CommonPrefixes"]] == expected_prefixes
    s3.create_multipart_upload(Bucket=bucket, Key="quux ab/up load")
    uploads = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url")
    assert [u["Key"] for u in uploads["Uploads"]] == ["quux+ab/up+load"]
    # Without the parameter boto3 asks for url encoding itself and decodes: keys round-trip.
    plain = s3.list_objects_v2(Bucket=bucket, Prefix="quux ab/")
    assert [o["Key"] for o in plain["Contents"]] == ["quux ab/thud"]


def test_content_encoding_values_as_sent(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentEncoding="gzip, br")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentEncoding"] == "gzip, br"
    # aws-chunked is framing: removed, the rest kept.
    s3.put_object(Bucket=bucket, Key="c", Body=b"x", ContentEncoding="aws-chunked,gzip")
    assert s3.head_object(Bucket=bucket, Key="c")["ContentEncoding"] == "gzip"


def test_content_encoding_repeated_headers_are_joined(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/k", data=b"body")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    credentials = Credentials(server.access_key, server.secret_key)
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("PUT", f"/{bucket}/k", skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Encoding", "gzip")
        connection.putheader("Content-Encoding", "identity")
        connection.putheader("Content-Length", "4")
        connection.endheaders(b"body")
        reply = connection.getresponse()
        reply.read()
    finally:
        connection.close()
    assert reply.status == 200
    assert s3.head_object(Bucket=bucket, Key="k")["ContentEncoding"] == "gzip,identity"


def test_tags_come_back_sorted_by_key(s3: Any, bucket: str) -> None:
    tags = [("zeta", "1"), ("Alpha", "2"), ("beta", "3"), ("alpha", "4")]
    tag_set = {"TagSet": [{"Key": k, "Value": v} for k, v in tags]}
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set)
    expected = [{"Key": k, "Value": v} for k, v in sorted(tags)]
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == expected
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", Tagging="z=1&a=2")
    assert [t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key="h")["TagSet"]] == ["a", "z"]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == expected


def test_list_objects_v1_prefix_is_not_encoded(s3: Any, bucket: str) -> None:
    """boto3 asks for url encoding itself and decodes every element S3 encodes: the v1
    Prefix it leaves alone must come back as sent (the ceph s3-tests' unreadable prefix)."""
    s3.put_object(Bucket=bucket, Key="\nfoo", Body=b"")
    s3.put_object(Bucket=bucket, Key="c a/x", Body=b"")
    page = s3.list_objects(Bucket=bucket, Prefix="\n")
    assert page["Prefix"] == "\n"
    assert [o["Key"] for o in page["Contents"]] == ["\nfoo"]
    page = s3.list_objects(Bucket=bucket, Prefix="c a", Delimiter="/")
    assert page["Prefix"] == "c a"
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["c a/"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="\n")["Prefix"] == "\n"


def test_empty_authorization_is_access_denied(server: RunningServer, bucket: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("PUT", f"/{bucket}/k", body=b"bar", headers={"Authorization": ""})
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 403
    assert b"<Code>AccessDenied</Code>" in body


def test_complete_after_a_delete_since_initiation_conflicts(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    upload_id, parts = upload(s3, bucket, "k", [b"new"])
    s3.delete_object(Bucket=bucket, Key="k")  # a delete marker, newer than the upload
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": etag}):
        with pytest.raises(ClientError) as caught:
            complete(s3, bucket, "k", upload_id, parts, **condition)
        assert error_of(caught) == ("ConditionalRequestConflict", 409)
        assert caught.value.response["Error"]["Key"] == "k"
    # A delete marker older than the upload is no conflict: the key is simply absent.
    later_id, later_parts = upload(s3, bucket, "k", [b"newer"])
    done = complete(s3, bucket, "k", later_id, later_parts, IfNoneMatch="*")
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == done["ETag"]


def _put_waiting_for_continue(server: RunningServer, bucket: str, key: str, if_match: str) -> Any:
    """Send the head of a conditional PUT of b"body" with ``Expect: 100-continue``; return
    the socket once the server asks for the body (its first condition check is done)."""
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/{key}", data=b"body")
    request.headers["If-Match"] = if_match
    credentials = Credentials(server.access_key, server.secret_key)
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    head = f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
    for name, value in request.headers.items():
        if name.lower() != "host":
            head += f"{name}: {value}\r\n"
    head += "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(head.encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        interim += connection.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return connection


def test_put_if_match_losing_to_a_delete_conflicts(
    s3: Any, server: RunningServer, bucket: str
) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    connection = _put_waiting_for_continue(server, bucket, "k", etag)
    try:
        s3.delete_object(Bucket=bucket, Key="k")  # lands while the PUT is under way
        connection.sendall(b"body")
        reply = b""
        while b"</Error>" not in reply:
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    finally:
        connection.close()
    assert reply.startswith(b"HTTP/1.1 409"), reply
    assert b"<Code>ConditionalRequestConflict</Code>" in reply
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="k")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
