"""The DynamoDB condition keys a request offers: leading keys, attributes, Select, ReturnValues."""
# ruff: noqa: E501 - requests read best unwrapped

from __future__ import annotations

from typing import Any

import pytest

from strata.api.dynamodb.condition_keys import request_context
from strata.api.http import Request


def make_request() -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
             "scheme": "https", "headers": [(b"user-agent", b"boto3/1"), (b"x-forwarded-proto", b"http")], "client": ("10.0.0.9", 1)}  # fmt: skip
    return Request.from_scope(scope, receive)


def keys_of(req: dict[str, Any]) -> dict[str, Any]:
    return request_context(
        make_request(), {"TableName": "T", **req}, lambda t: "pk" if t == "T" else None
    )


@pytest.mark.parametrize(
    ("req", "leading"),
    [
        ({"Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}, ["a"]),
        ({"Item": {"pk": {"N": "7"}, "x": {"S": "1"}}}, ["7"]),
        ({"KeyConditions": {"pk": {"AttributeValueList": [{"S": "b"}], "ComparisonOperator": "EQ"}}}, ["b"]),
        ({"KeyConditionExpression": "pk = :p AND sk > :s", "ExpressionAttributeValues": {":p": {"S": "c"}, ":s": {"S": "0"}}}, ["c"]),
        ({"KeyConditionExpression": ":p = #k", "ExpressionAttributeNames": {"#k": "pk"}, "ExpressionAttributeValues": {":p": {"S": "d"}}}, ["d"]),
        ({"KeyConditionExpression": "sk = :s", "ExpressionAttributeValues": {":s": {"S": "0"}}}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_leading_keys(req: dict[str, Any], leading: list[str] | None) -> None:
    assert keys_of(req).get("dynamodb:LeadingKeys") == leading


def test_other_keys() -> None:
    context = keys_of({"ProjectionExpression": "#a, b.c, d[0]", "ExpressionAttributeNames": {"#a": "name"},
                       "Select": "SPECIFIC_ATTRIBUTES", "ReturnValues": "ALL_OLD"})  # fmt: skip
    assert context["dynamodb:Attributes"] == ["name", "b", "d"]
    assert context["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert context["dynamodb:ReturnValues"] == "ALL_OLD"
    assert context["aws:SourceIp"] == "10.0.0.9"
    assert context["aws:SecureTransport"] == "true"
    assert context["aws:UserAgent"] == "boto3/1"
    assert keys_of({"AttributesToGet": ["x"]})["dynamodb:Attributes"] == ["x"]
    assert keys_of({"Item": {"pk": {"S": "a"}, "v": {"S": "1"}}})["dynamodb:Attributes"] == [
        "pk",
        "v",
    ]
