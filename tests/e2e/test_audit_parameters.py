"""S3 calls' requestParameters in the audit trail carry the query's parameters as
CloudTrail records them (prefix, list-type, versionId, a subresource), and never a
presigned URL's signature or credential."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.conftest import client
from tests.server import RunningServer


def recorded(server: RunningServer, name: str) -> list[dict[str, Any]]:
    cloudtrail = client(server, "cloudtrail")
    events = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]
    )["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def parameters_of(server: RunningServer, name: str, bucket: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["requestParameters"] for e in recorded(server, name)
        if e["requestParameters"]["bucketName"] == bucket
    )  # fmt: skip
    return found


def test_s3_query_parameters_are_recorded_without_signatures(
    server: RunningServer, s3: Any, unique_name: str
) -> None:
    s3.create_bucket(Bucket=unique_name)
    s3.put_object(Bucket=unique_name, Key="dir/a.txt", Body=b"a")
    s3.list_objects_v2(Bucket=unique_name, Prefix="dir/", Delimiter="/", MaxKeys=7)
    s3.get_object_tagging(Bucket=unique_name, Key="dir/a.txt")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": unique_name, "Key": "dir/a.txt"}, ExpiresIn=300
    )
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.read() == b"a"
    listing = parameters_of(server, "ListObjectsV2", unique_name)
    assert listing["prefix"] == "dir/"
    assert listing["delimiter"] == "/"
    assert listing["max-keys"] == "7"
    assert listing["list-type"] == "2"
    tagging = parameters_of(server, "GetObjectTagging", unique_name)
    assert tagging["key"] == "dir/a.txt"
    assert tagging["tagging"] == ""
    gets = [
        e for e in recorded(server, "GetObject")
        if e["requestParameters"]["bucketName"] == unique_name
    ]  # fmt: skip
    assert gets
    text = json.dumps(gets)
    for secret in ("X-Amz-Signature", "X-Amz-Credential", "Signature=", "x-id"):
        assert secret not in text
