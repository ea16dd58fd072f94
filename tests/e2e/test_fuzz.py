"""Fuzz both protocols, signed so every request reaches the handlers: never a 5xx, never a hang.

A seeded generator (``STRATA_FUZZ_SEED`` to replay another run) builds requests from the
botocore models, then breaks them: wrong JSON types, deep nesting, garbage bytes, unknown
targets and members for DynamoDB; random methods, subresources, query parameters, headers,
XML shapes, aws-chunked framing and garbage for S3. Every answer must be a 4xx (or 501
NotImplemented, S3's word for an operation not built yet), within the client's timeout.

Nothing may change that the requests could not legitimately change: the requests name only
a dedicated bucket and table (or names S3 and DynamoDB refuse), so the lists of buckets and
tables must be as before; the dedicated bucket's objects and table's items must be too when
no request that could write was answered with a success.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from strata.api.dynamodb.model import MEMBERS
from strata.api.s3.routes import SUBRESOURCES
from tests.e2e.dynamodb.conftest import make_table
from tests.e2e.raw import RawClient, S3SigV4AuthPayload
from tests.server import RunningServer

SEED = int(os.environ.get("STRATA_FUZZ_SEED", "20261204"))
REQUESTS = 400  # per DynamoDB phase; S3 sends twice as many
WRITES = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "TagResource",
        "UntagResource",
        "UpdateTimeToLive",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    }
)
_DYNAMODB = botocore.session.get_session().get_service_model("dynamodb")


@pytest.fixture
def raw(server: RunningServer) -> Iterator[RawClient]:
    client = RawClient(server)
    yield client
    client.close()


# ---------------------------------------------------------------------------------------
# Values


def garbage_text(rng: random.Random, size_max: int = 40) -> str:
    alphabet = "abc:#=()<>!&|,.'\" _-/\\%{}[]$\t\n\u00e9\u4e2d\U0001f600\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, size_max)))


def any_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value of any type."""
    choice = rng.randrange(9 if depth < 4 else 6)
    return [
        lambda: garbage_text(rng),
        lambda: rng.choice([True, False]),
        lambda: rng.choice([0, -1, 1, 2**31, 2**63, -(2**64), 10**40]),
        lambda: rng.choice([0.5, -1e300, 1e-300]),
        lambda: None,
        lambda: "",
        lambda: [any_json(rng, depth + 1) for _ in range(rng.randint(0, 3))],
        lambda: {garbage_text(rng, 6): any_json(rng, depth + 1) for _ in range(rng.randint(0, 3))},
        lambda: {"S": garbage_text(rng)} if rng.random() < 0.5 else {"N": garbage_text(rng, 5)},
    ][choice]()


def deep(rng: random.Random, levels: int) -> Any:
    value: Any = {"S": "x"}
    for _ in range(levels):
        value = rng.choice([{"M": {"k": value}}, {"L": [value]}, [value], {"a": value}])
    return value


# ---------------------------------------------------------------------------------------
# DynamoDB


class DynamoDbFuzz:
    def __init__(self, rng: random.Random, table: str, wrong: float) -> None:
        self.rng = rng
        self.table = table
        self.wrong = wrong  # the chance that any one value (below the top) is of any type

    def name(self, operation: str) -> str:
        # Tables a fuzzed request may write: the dedicated one, or names DynamoDB refuses.
        if operation in ("DeleteTable", "UpdateTable", "CreateTable"):
            return self.rng.choice(["bad name!", "ab", "x" * 300])
        return self.rng.choice([self.table, self.table, "bad name!", "", "arn:aws:x"])

    def value(self, shape: Any, name: str, operation: str, depth: int = 0) -> Any:
        rng = self.rng
        if depth > 0 and rng.random() < self.wrong:
            return any_json(rng)
        kind = shape.type_name
        if name in ("TableName", "ResourceArn", "ExclusiveStartTableName"):
            return self.name(operation)
        if shape.name == "AttributeValue":
            if depth > 6:
                return {"S": "leaf"}
            kind_name = rng.choice(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"])
            member = shape.members[kind_name]
            return {kind_name: self.value(member, kind_name, operation, depth + 1)}
        if kind == "structure":
            out: dict[str, Any] = {}
            for member_name, member in shape.members.items():
                chance = 0.8 if member_name in shape.required_members else 0.3
                if rng.random() < chance:
                    out[member_name] = self.value(member, member_name, operation, depth + 1)
            if rng.random() < 0.1:
                out[garbage_text(rng, 8)] = any_json(rng)
            return out
        if kind == "list":
            count = rng.choice([0, 1, 1, 2, 3, 30])
            return [self.value(shape.member, name, operation, depth + 1) for _ in range(count)]
        if kind == "map":
            keys = [":v", "#a", "pk", "sk", self.table, garbage_text(rng, 5)]
            return {
                rng.choice(keys): self.value(shape.value, name, operation, depth + 1)
                for _ in range(rng.choice([0, 1, 2, 3]))
            }
        if kind == "string":
            if shape.enum:
                return rng.choice([*shape.enum, garbage_text(rng, 8)])
            return rng.choice(
                [
                    "pk",
                    "#a = :v",
                    "SET #a = :v",
                    "attribute_exists(pk) AND size(#a) > :v",
                    "pk = :v AND begins_with(sk, :v)",
                    "REMOVE a[1], b.c ADD n :v",
                    "1",
                    "-1.5e3",
                    "AQID",
                    garbage_text(rng),
                    "(" * 300,
                ]
            )
        if kind in ("integer", "long"):
            return rng.choice([0, 1, 5, -1, 2**31, 2**63 - 1, 10**30])
        if kind == "boolean":
            return rng.choice([True, False])
        if kind == "blob":
            return rng.choice(["AQID", "", "!!", "abc"])
        return any_json(rng)

    def request(self) -> tuple[str, bytes]:
        rng = self.rng
        operation = rng.choice([*sorted(MEMBERS), "Nope", ""])
        roll = rng.random()
        if operation not in MEMBERS or roll < 0.1:
            body = rng.choice(
                [
                    b"",
                    b"{",
                    b"[]",
                    b"null",
                    b'{"TableName": "\xff\xfe"}',
                    rng.randbytes(rng.randint(1, 200)),
                    b'{"a":' * 2000 + b"1" + b"}" * 2000,
                    b"[" * 5000,
                    b'{"TableName": 1e400}',
                ]
            )
            return operation, body
        req = self.value(_DYNAMODB.operation_model(operation).input_shape, "", operation)
        if roll < 0.2:
            req[rng.choice(list(req) or ["Item"])] = deep(rng, rng.choice([33, 100, 600]))
        try:
            return operation, json.dumps(req).encode()
        except RecursionError:  # deeper than this process's own stack allows: send it raw
            return operation, b'{"a":' * 2000 + b"1" + b"}" * 2000


def dynamodb_state(raw: RawClient, table: str) -> tuple[Any, Any]:
    tables = raw.dynamodb("ListTables", {})[1]["TableNames"]
    items = raw.dynamodb("Scan", {"TableName": table})[1]["Items"]
    return tables, sorted(items, key=json.dumps)


def send_dynamodb(raw: RawClient, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = AWSRequest(
        method="POST",
        url=f"{raw.server.endpoint}/",
        data=body,
        headers={"X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "x"},
    )
    SigV4Auth(raw.credentials, "dynamodb", "us-east-1").add_auth(request)
    status, _, answer = raw.send("POST", "/", dict(request.headers.items()), body)
    try:
        return status, json.loads(answer) if answer else {}
    except ValueError:
        return status, {"raw": answer[:200].decode("latin-1")}


@pytest.mark.parametrize(("phase", "wrong"), [("hostile", 0.3), ("near-valid", 0.03)])
def test_fuzz_dynamodb(dynamodb: Any, raw: RawClient, phase: str, wrong: float) -> None:
    rng = random.Random(f"{SEED}-dynamodb-{phase}")
    table = make_table(dynamodb, f"fuzz-{uuid.uuid4().hex[:8]}")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    before = dynamodb_state(raw, table)
    fuzz = DynamoDbFuzz(rng, table, wrong)
    failures: list[str] = []
    wrote = False
    for _ in range(REQUESTS):
        operation, body = fuzz.request()
        status, answer = send_dynamodb(raw, operation, body)
        if status >= 500 or "Signature" in str(answer.get("__type")):  # must reach the handlers
            failures.append(f"{operation} {body[:300]!r} -> {status} {answer}")
        wrote = wrote or (status < 300 and operation in WRITES)
    assert failures == [], f"seed {SEED}"
    tables, items = dynamodb_state(raw, table)
    assert tables == before[0]
    if not wrote:
        assert items == before[1]


# ---------------------------------------------------------------------------------------
# S3

S3_PARAMETERS = [
    "versionId",
    "partNumber",
    "max-keys",
    "prefix",
    "delimiter",
    "marker",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "key-marker",
    "upload-id-marker",
    "version-id-marker",
    "max-uploads",
    "max-parts",
    "part-number-marker",
    "response-content-type",
    "response-expires",
    "x-id",
    "id",
]
S3_HEADERS = {
    "range": ["bytes=abc", "bytes=5-1", "bytes=-0", "bytes=0-0,2-3", "items=1-2"],
    "if-match": ['"abc"', "*", ""],
    "if-none-match": ['"abc"', "*"],
    "if-modified-since": ["garbage", "Sat, 01 Jan 2000 00:00:00 GMT"],
    "if-unmodified-since": ["garbage", "Sat, 01 Jan 2000 00:00:00 GMT"],
    "x-amz-copy-source": ["/nope/k", "%%%", "", "/{bucket}/missing?versionId=x"],
    "x-amz-copy-source-range": ["bytes=0-0", "bytes=a-b"],
    "x-amz-metadata-directive": ["REPLACE", "FOO"],
    "content-md5": ["garbage", "1B2M2Y8AsgTpgAmY7PhCfg=="],
    "x-amz-checksum-crc32": ["garbage", "AAAAAA=="],
    "x-amz-checksum-sha256": ["garbage"],
    "x-amz-sdk-checksum-algorithm": ["FOO", "CRC32", "SHA1"],
    "x-amz-tagging": ["a=b&&=", "%ZZ", "k=v"],
    "x-amz-acl": ["weird", "private", "public-read"],
    "x-amz-meta-x": ["v", "\u00e9".encode().decode("latin-1")],
    "x-amz-server-side-encryption": ["rot13", "AES256", "aws:kms"],
    "x-amz-storage-class": ["FOO", "STANDARD", "GLACIER"],
    "x-amz-object-lock-mode": ["GOVERNANCE", "X"],
    "x-amz-object-lock-retain-until-date": ["garbage"],
    "x-amz-website-redirect-location": ["/x", "garbage"],
    "x-amz-expected-bucket-owner": ["123", "000000000000"],
    "x-amz-object-ownership": ["X", "BucketOwnerEnforced"],
    "x-amz-bucket-object-lock-enabled": ["true", "maybe"],
    "x-amz-grant-read": ["id=x", "garbage"],
    "x-amz-mfa": ["x y"],
    "x-amz-request-payer": ["requester"],
    "x-amz-bypass-governance-retention": ["true"],
    "x-amz-server-side-encryption-customer-algorithm": ["AES256"],
    "x-amz-write-offset-bytes": ["-1", "abc"],
    "x-amz-delete-marker": ["true"],
    "origin": ["http://example.com", "null"],
    "access-control-request-method": ["PUT", "FOO"],
    "content-type": ["garbage", "multipart/form-data; boundary=x", "application/xml"],
    "expires": ["garbage"],
    "cache-control": ["no-cache"],
}
XML_NAMES = [
    "Tagging", "TagSet", "Tag", "Key", "Value", "Delete", "Object", "Quiet", "VersionId",
    "CORSConfiguration", "CORSRule", "AllowedMethod", "AllowedOrigin", "MaxAgeSeconds",
    "VersioningConfiguration", "Status", "MfaDelete", "CompleteMultipartUpload", "Part",
    "PartNumber", "ETag", "AccessControlPolicy", "Owner", "ID", "AccessControlList", "Grant",
    "Grantee", "Permission", "OwnershipControls", "Rule", "ObjectOwnership",
    "PublicAccessBlockConfiguration", "BlockPublicAcls", "CreateBucketConfiguration",
    "LocationConstraint", "RestoreRequest", "Days",
]  # fmt: skip


class S3Fuzz:
    def __init__(self, rng: random.Random, bucket: str) -> None:
        self.rng = rng
        self.bucket = bucket

    def path(self) -> str:
        rng = self.rng
        # Buckets a fuzzed request may name: the dedicated one, or names S3 refuses.
        bucket = rng.choice([self.bucket] * 4 + ["Bad_Name", "a", "x" * 70, "..", "-ab"])
        key = rng.choice(
            ["k", "dir/k", "f-" + garbage_text(rng, 20), "x" * 1100, "..", "a//b", "%ff", ""]
        )
        shape = rng.random()
        if shape < 0.1:
            return "/"
        if shape < 0.35:
            return f"/{bucket}"
        return f"/{bucket}/{quote(key, safe='/%')}"

    def query(self) -> str:
        rng = self.rng
        names = rng.sample(sorted(SUBRESOURCES), rng.choice([0, 0, 0, 0, 1, 1, 2]))
        names += rng.sample(S3_PARAMETERS, rng.choice([0, 0, 1, 2]))
        parts = []
        for name in names:
            value = rng.choice(["", "", "abc", "-1", "0", "99999999999", garbage_text(rng, 8)])
            parts.append(f"{quote(name)}={quote(value, safe='')}" if value else quote(name))
        return "?" + "&".join(parts) if parts else ""

    def headers(self) -> dict[str, str]:
        rng = self.rng
        chosen = rng.sample(sorted(S3_HEADERS), rng.choice([0, 1, 1, 2, 3, 5]))
        return {
            name: rng.choice(S3_HEADERS[name]).replace("{bucket}", self.bucket) for name in chosen
        }

    def xml(self, depth: int = 0) -> str:
        rng = self.rng
        name = rng.choice(XML_NAMES)
        if depth > 3 or rng.random() < 0.3:
            inner = rng.choice(["", "1", "Enabled", "GET", "k", garbage_text(rng, 10)])
            inner = inner.replace("&", "&amp;").replace("<", "&lt;")
        else:
            inner = "".join(self.xml(depth + 1) for _ in range(rng.randint(0, 3)))
        return f"<{name}>{inner}</{name}>"

    def body(self) -> bytes:
        rng = self.rng
        return rng.choice(
            [
                lambda: b"",
                lambda: rng.randbytes(rng.randint(1, 300)),
                lambda: self.xml().encode(),
                lambda: b'<?xml version="1.0"?>' + self.xml().encode(),
                lambda: b"<a>" * 3000 + b"</a>" * 3000,
                lambda: b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Tagging>&b;',
                lambda: b"5\r\nhello\r\n0\r\n\r\n",
                lambda: b"zz;chunk-signature=00\r\nabc\r\n",
            ]
        )()

    def request(self) -> tuple[str, str, dict[str, str], bytes]:
        rng = self.rng
        method = rng.choice(["GET", "PUT", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"])
        headers = self.headers()
        body = self.body() if method in ("PUT", "POST") or rng.random() < 0.1 else b""
        if rng.random() < 0.15:  # aws-chunked framing, declared lengths right or wrong
            headers["x-amz-content-sha256"] = rng.choice(
                ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"]
            )
            headers["content-encoding"] = "aws-chunked"
            if rng.random() < 0.8:
                headers["x-amz-decoded-content-length"] = rng.choice(["5", "0", "x", "99"])
        return method, self.path() + self.query(), headers, body


def s3_state(s3: Any, bucket: str) -> tuple[Any, Any]:
    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    listing = s3.list_object_versions(Bucket=bucket)
    versions = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in listing.get("Versions", []))
    markers = sorted((m["Key"], m["VersionId"]) for m in listing.get("DeleteMarkers", []))
    return buckets, (versions, markers)


def send_s3(
    raw: RawClient, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    request = AWSRequest(method=method, url=f"{raw.server.endpoint}{path}", data=body)
    for name, value in headers.items():
        if name != "x-amz-content-sha256":
            request.headers[name] = value
    payload = headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    S3SigV4AuthPayload(raw.credentials, payload).add_auth(request)
    sent = dict(request.headers.items())
    if body or method in ("PUT", "POST"):
        sent["Content-Length"] = str(len(body))
    status, _, answer = raw.send(method, path, sent, body)
    return status, answer


def test_fuzz_s3(s3: Any, raw: RawClient) -> None:
    rng = random.Random(f"{SEED}-s3")
    bucket = f"fuzz-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"keep-{uuid.uuid4().hex}", Body=b"x")  # never empty
    before = s3_state(s3, bucket)
    fuzz = S3Fuzz(rng, bucket)
    failures: list[str] = []
    wrote = False
    for _ in range(REQUESTS * 2):
        method, path, headers, body = fuzz.request()
        status, answer = send_s3(raw, method, path, headers, body)
        refused = status >= 500 and not (status == 501 and b"<Code>NotImplemented</Code>" in answer)
        if refused or b"<Code>SignatureDoesNotMatch</Code>" in answer:  # must reach the handlers
            failures.append(f"{method} {path} {headers} {body[:100]!r} -> {status} {answer!r}")
        wrote = wrote or (status < 300 and method in ("PUT", "POST", "DELETE"))
    assert failures == [], f"seed {SEED}"
    buckets, objects = s3_state(s3, bucket)
    assert buckets == before[0]
    if not wrote:
        assert objects == before[1]
