"""Routing: addressing styles, subresources, and key decoding."""

from __future__ import annotations

import pytest

from strata.api.http import Body, Request
from strata.api.s3.routes import MethodNotAllowedHere, resolve, virtual_host_bucket
from strata.errors import ProtocolError


async def _receive() -> dict[str, object]:
    return {"type": "http.request", "body": b""}


def request(method: str, path: str, query: dict[str, str] | None = None, host: str = "") -> Request:
    return Request(
        method=method,
        raw_path=path,
        query_string="",
        headers={"host": host or "127.0.0.1:4566"},
        body=Body(_receive),
        request_id="r",
        query=query or {},
    )


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("localhost:4566", None),
        ("s3.localhost:4566", None),
        ("s3.eu-west-1.localhost", None),
        ("127.0.0.1:4566", None),
        ("photos.localhost:4566", "photos"),
        ("photos.s3.localhost:4566", "photos"),
        ("my.dotted.bucket.s3.us-east-1.localhost:4566", "my.dotted.bucket"),
    ],
)
def test_virtual_host(host: str, bucket: str | None) -> None:
    assert virtual_host_bucket(host) == bucket


@pytest.mark.parametrize(
    ("method", "path", "query", "operation", "bucket", "key"),
    [
        ("GET", "/", {}, "ListBuckets", "", ""),
        ("PUT", "/b", {}, "CreateBucket", "b", ""),
        ("GET", "/b/", {}, "ListObjects", "b", ""),
        ("GET", "/b", {"list-type": "2"}, "ListObjectsV2", "b", ""),
        ("GET", "/b", {"versioning": ""}, "GetBucketVersioning", "b", ""),
        ("GET", "/b//lead/../x%20y", {}, "GetObject", "b", "/lead/../x y"),
        ("GET", "/b/k", {"tagging": ""}, "GetObjectTagging", "b", "k"),
        ("GET", "/b/k", {"partNumber": "1"}, "GetObject", "b", "k"),
        ("POST", "/b", {"delete": ""}, "DeleteObjects", "b", ""),
    ],
)
def test_resolve(
    method: str, path: str, query: dict[str, str], operation: str, bucket: str, key: str
) -> None:
    route = resolve(request(method, path, query))
    assert (route.operation, route.bucket, route.key) == (operation, bucket, key)


def test_virtual_host_object() -> None:
    route = resolve(request("GET", "/a/b", host="bkt.s3.localhost:4566"))
    assert (route.operation, route.bucket, route.key) == ("GetObject", "bkt", "a/b")


def test_unbuilt_operation_is_not_implemented() -> None:
    with pytest.raises(ProtocolError) as caught:
        resolve(request("GET", "/b/k", {"torrent": ""}))
    assert (caught.value.code, caught.value.status) == ("NotImplemented", 501)
    with pytest.raises(ProtocolError) as caught:
        resolve(request("PUT", "/b", {"website": ""}))
    assert (caught.value.code, caught.value.status) == ("NotImplemented", 501)


def test_a_method_the_resource_does_not_take_is_405() -> None:
    for method, path, query, resource_type, allow in (
        ("GET", "/b", {"torrent": ""}, "TORRENT", ""),
        ("PUT", "/b", {"delete": ""}, "DELETE", "POST"),
        ("POST", "/b/k", {}, "OBJECT", "DELETE, GET, HEAD, PUT"),
        ("PATCH", "/b", {}, "BUCKET", "DELETE, GET, HEAD, POST, PUT"),
        ("POST", "/b/k", {"acl": ""}, "ACL", "GET, PUT"),
    ):
        with pytest.raises(MethodNotAllowedHere) as caught:
            resolve(request(method, path, query))
        assert caught.value.status == 405
        assert caught.value.details == {"Method": method, "ResourceType": resource_type}
        assert caught.value.allow == allow


def test_acl_and_configuration_subresources() -> None:
    assert resolve(request("GET", "/b", {"acl": ""})).operation == "GetBucketAcl"
    assert resolve(request("PUT", "/b/k", {"acl": ""})).operation == "PutObjectAcl"
    assert resolve(request("GET", "/b", {"policy": ""})).operation == "GetBucketPolicy"


def test_bad_utf8_key() -> None:
    with pytest.raises(ProtocolError) as caught:
        resolve(request("GET", "/b/%ff"))
    assert caught.value.code == "InvalidURI"
