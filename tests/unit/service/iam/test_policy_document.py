"""The policy grammar: documents IAM refuses, with the message IAM gives, and ones it takes."""

# ruff: noqa: E501 - table rows and AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import json
from typing import Any

import pytest

from strata.service.iam.policy import (
    MalformedPolicyDocument,
    PolicyKind,
    Reason,
    parse_policy,
)

V = "2012-10-17"
GOOD = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


def doc(*statements: dict[str, Any], version: str | None = V, **top: Any) -> str:
    body: dict[str, Any] = dict(top)
    if version is not None:
        body["Version"] = version
    body["Statement"] = list(statements) if len(statements) != 1 else statements[0]
    return json.dumps(body)


def refused(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> MalformedPolicyDocument:
    with pytest.raises(MalformedPolicyDocument) as caught:
        parse_policy(text, kind)
    return caught.value


SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
VERSION = "Policy document must be version 2012-10-17 or greater."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."

CASES: list[tuple[str, str]] = [
    ("not json at all", SYNTAX),
    ("[1, 2]", SYNTAX),
    (json.dumps({"Version": V}), SYNTAX),
    (json.dumps({"Version": V, "Statement": []}), SYNTAX),
    (json.dumps({"Version": V, "Statement": ["x"]}), SYNTAX),
    (json.dumps({"Version": "2013-10-17", "Statement": GOOD}), SYNTAX),
    (doc(GOOD, Extra="x"), SYNTAX),
    (doc(GOOD, Id=["x"]), SYNTAX),
    (doc({**GOOD, "Other": 1}), SYNTAX),
    (doc({**GOOD, "Effect": "Permit"}), SYNTAX),
    (doc({"Action": "s3:GetObject", "Resource": "*"}), SYNTAX),
    (doc({**GOOD, "NotAction": "s3:PutObject"}), SYNTAX),
    (doc({**GOOD, "NotResource": "*"}), SYNTAX),
    (doc({**GOOD, "Action": {}}), SYNTAX),
    (doc({**GOOD, "Action": [[]]}), SYNTAX),
    (doc({**GOOD, "Resource": ["x", {}]}), SYNTAX),
    (doc({**GOOD, "Sid": []}), SYNTAX),
    (doc({**GOOD, "Condition": []}), SYNTAX),
    (doc({**GOOD, "Condition": {"StringEquals": "x"}}), SYNTAX),
    (doc({**GOOD, "Condition": {"Bogus": {"a": "1"}}}), SYNTAX),
    (doc({**GOOD, "Condition": {"ForAnyValue::StringEquals": {"a": "1"}}}), SYNTAX),
    (doc({**GOOD, "Condition": {"NullIfExists": {"a": "true"}}}), SYNTAX),
    (doc({**GOOD, "Condition": {"StringEquals": {"a": {}}}}), SYNTAX),
    (doc(GOOD, version=None), VERSION),
    (doc(GOOD, version="2008-10-17"), VERSION),
    (doc({**GOOD, "Effect": "allow"}), LEGACY),
    (doc({**GOOD, "Resource": "arn:aws:s3::b"}), LEGACY),
    (doc({**GOOD, "Resource": "arn:aws::::b"}), LEGACY),
    (doc({**GOOD, "Condition": {"DateLessThan": {"aws:CurrentTime": "someday"}}}), LEGACY),
    (doc({**GOOD, "Condition": {"DateLessThan": {"a": "9223372036854775808"}}}), LEGACY),
    (doc({**GOOD, "Sid": "a"}, {**GOOD, "Sid": "a"}), "Statement IDs (SID) in a single policy must be unique."),
    (doc({**GOOD, "Sid": "has space"}), "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
    (doc({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
    (doc({**GOOD, "Action": []}), "Policy statement must contain actions."),
    (doc({"Effect": "Deny"}, GOOD), "Policy statement must contain actions."),
    (doc({"Effect": "Allow", "Action": "s3:GetObject"}), "Policy statement must contain resources."),
    (doc({**GOOD, "Resource": []}), "Policy statement must contain resources."),
    (doc({**GOOD, "Action": "GetObject"}), VENDOR),
    (doc({**GOOD, "Action": ""}), VENDOR),
    (doc({**GOOD, "Action": "s3:Get:Object"}), "Actions/Condition can contain only one colon."),
    (doc({**GOOD, "Action": "s 3:GetObject"}), "Vendor s 3 is not valid"),
    (doc({**GOOD, "Resource": "bucket"}), 'Resource bucket must be in ARN format or "*".'),
    (doc({**GOOD, "Resource": ""}), 'Resource  must be in ARN format or "*".'),
    (doc({**GOOD, "Resource": "aws:s3:::b"}), 'Partition "s3" is not valid for resource "arn:s3:::b:*".'),
    (doc({**GOOD, "Resource": "x:y"}), 'Partition "y" is not valid for resource "arn:y:*:*:*:*".'),
    (doc({**GOOD, "Resource": "arn:error:s3:::b"}), 'Partition "error" is not valid for resource "arn:error:s3:::b".'),
    (doc({**GOOD, "Resource": "arn:aws"}), "Resource vendor must be fully qualified and cannot contain regexes."),
    (doc({**GOOD, "Resource": "arn:aws:s*:::b"}), "Resource vendor must be fully qualified and cannot contain regexes."),
    (doc({**GOOD, "Resource": "arn:aws:s3:us-east-1::b"}), "Resource arn:aws:s3:us-east-1::b can not contain region information."),
    (doc({**GOOD, "Resource": "arn:aws:iam:us-east-1::user/x"}), "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information."),
    (doc({**GOOD, "Principal": "*"}), "Policy document should not specify a principal."),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), CASES)
def test_refused_with_iams_message(text: str, message: str) -> None:
    assert refused(text).message == message


def test_iam_path_message() -> None:
    error = refused(doc({**GOOD, "Resource": "arn:aws:iam:::bucket"}))
    assert error.message.startswith('IAM resource path must either be "*" or start with user/,')
    assert error.reason is Reason.RESOURCE


def test_the_first_problem_is_named() -> None:
    # legacy checks come before missing actions; version before everything but syntax
    assert refused(doc({"Effect": "Allow", "Resource": "arn:aws:s3::b"})).message == LEGACY
    assert refused(doc({"Effect": "denY", "Action": "s3:x"}, version=None)).message == VERSION
    assert refused(doc({**GOOD, "Effect": "aLLow", "Sid": "a"}, {"Sid": "a", "Effect": "Allow"})).message == LEGACY  # fmt: skip


@pytest.mark.parametrize(
    "statement",
    [
        GOOD,
        {**GOOD, "Resource": ["arn:aws:s3:::b", "*"]},
        {**GOOD, "Action": "*"},
        {**GOOD, "Action": "iam: any thing "},
        {**GOOD, "Action": ["s3:Get*", "dynamodb:*"]},
        {**GOOD, "Resource": "arn:aws:iam:::user/x"},
        {**GOOD, "Resource": "arn:aws:anything"},
        {**GOOD, "Resource": "arn:aws:ec2:us-east-1::instance/x"},
        {**GOOD, "Condition": {}},
        {**GOOD, "Condition": {"Unknown": {}}},
        {**GOOD, "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2017-07-01T00:00:00Z"}}},
        {**GOOD, "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2017-07-01"}}},
        {**GOOD, "Condition": {"DateGreaterThan": {"aws:EpochTime": 1500000000}}},
        {**GOOD, "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}},
        {**GOOD, "Condition": {"StringLikeIfExists": {"s3:prefix": "home/*"}}},
        {**GOOD, "Condition": {"Bool": {"aws:SecureTransport": False}}},
        {**GOOD, "Condition": {"NumericLessThan": {"s3:max-keys": 10}}},
        {**GOOD, "Sid": "Ok1"},
        {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::b"},
    ],
)
def test_accepted(statement: dict[str, Any]) -> None:
    parsed = parse_policy(doc(statement))
    assert len(parsed.statements) == 1
    assert parsed.version == V


def test_resource_policies_need_a_principal() -> None:
    assert refused(doc(GOOD), PolicyKind.RESOURCE).message == "Missing required field Principal"
    bad = doc({**GOOD, "Principal": {"AWS": "bob"}})
    error = refused(bad, PolicyKind.RESOURCE)
    assert error.message == 'Invalid principal in policy: "AWS":"bob"'
    assert error.reason is Reason.PRINCIPAL
    assert (
        refused(doc({**GOOD, "Principal": {"Bogus": "x"}}), PolicyKind.RESOURCE).message == SYNTAX
    )


def test_resource_policy_principals() -> None:
    parsed = parse_policy(
        doc(
            {**GOOD, "Principal": "*"},
            {**GOOD, "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/a"]}},
            {**GOOD, "Principal": {"AWS": "*", "Service": "s3.amazonaws.com"}},
            version="2008-10-17",
        ),
        PolicyKind.RESOURCE,
    )
    first, second, third = (s.principals for s in parsed.statements)
    assert first is not None
    assert first.everyone
    assert second is not None
    assert second.arns == {"arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/a"}
    assert third is not None
    assert third.everyone
    assert third.services == {"s3.amazonaws.com"}
    assert parsed.version == "2008-10-17"


def test_trust_policies_need_no_resource() -> None:
    parsed = parse_policy(
        doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111122223333"}}),
        PolicyKind.TRUST,
    )
    assert parsed.statements[0].resources is None


def test_text_kept_as_sent() -> None:
    text = doc(GOOD)
    assert parse_policy(text).text == text


def test_context_free() -> None:
    assert parse_policy(doc(GOOD)).context_free
    assert not parse_policy(
        doc({**GOOD, "Resource": "arn:aws:s3:::b/${aws:username}/*"})
    ).context_free
    assert not parse_policy(
        doc({**GOOD, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    ).context_free
    # in a 2008-10-17 document "${" is plain text
    legacy = parse_policy(
        doc({**GOOD, "Principal": "*", "Resource": "arn:aws:s3:::b/${x}"}, version="2008-10-17"),
        PolicyKind.RESOURCE,
    )
    assert legacy.context_free
