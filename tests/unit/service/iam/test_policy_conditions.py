"""Condition operators and wildcard patterns, with AWS's rules for missing and multi-valued keys."""

# ruff: noqa: E501 - table rows and AWS messages are kept whole, so they can be searched for

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strata.service.iam.policy import parse_policy
from strata.service.iam.policy.conditions import all_hold
from strata.service.iam.policy.patterns import compile_pattern, context_lookup


def holds(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    text = json.dumps({
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition},
    })  # fmt: skip
    statement = parse_policy(text).statements[0]
    return all_hold(statement.conditions, context_lookup(context))


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringEquals": {"s3:prefix": "home/"}}, {"s3:prefix": "home/"}, True),
        ({"StringEquals": {"s3:prefix": "home/"}}, {"s3:prefix": "Home/"}, False),
        ({"StringEquals": {"S3:Prefix": "home/"}}, {"s3:prefix": "home/"}, True),  # keys: any case
        ({"StringEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": "b"}, True),  # values: OR
        ({"StringEquals": {"s3:prefix": "a"}}, {}, False),  # missing: positive false
        ({"StringNotEquals": {"s3:prefix": "a"}}, {}, True),  # missing: negated true
        ({"StringNotEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": "b"}, False),
        ({"StringNotEquals": {"s3:prefix": ["a", "b"]}}, {"s3:prefix": "c"}, True),
        ({"StringEqualsIfExists": {"s3:prefix": "a"}}, {}, True),
        ({"StringEqualsIfExists": {"s3:prefix": "a"}}, {"s3:prefix": "b"}, False),
        ({"StringEqualsIgnoreCase": {"k": "AbC"}}, {"k": "aBc"}, True),
        ({"StringNotEqualsIgnoreCase": {"k": "AbC"}}, {"k": "aBc"}, False),
        ({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/x/y"}, True),
        ({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/xy"}, False),
        ({"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "etc/"}, True),
        ({"StringNotLike": {"s3:prefix": "home/*"}}, {}, True),
        ({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/bob/x", "aws:username": "bob"}, True),
        ({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/eve/x", "aws:username": "bob"}, False),
        ({"StringEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": "bob", "aws:username": "bob"}, True),
        ({"StringEquals": {"s3:prefix": "${aws:username}"}}, {"s3:prefix": "bob"}, False),
        ({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'none'}"}}, {"s3:prefix": "none"}, True),
        ({"StringLike": {"k": "a${*}b"}}, {"k": "a*b"}, True),
        ({"StringLike": {"k": "a${*}b"}}, {"k": "axb"}, False),
        ({"StringEquals": {"k": "${$}x"}}, {"k": "$x"}, True),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, True),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False),
        ({"NumericLessThanEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "10"}, True),
        ({"NumericGreaterThan": {"n": "1.5"}}, {"n": "2"}, True),
        ({"NumericGreaterThanEquals": {"n": "2"}}, {"n": "1"}, False),
        ({"NumericEquals": {"n": "2"}}, {"n": "2.0"}, True),
        ({"NumericNotEquals": {"n": "2"}}, {"n": "3"}, True),
        ({"NumericEquals": {"n": "2"}}, {"n": "two"}, False),
        ({"NumericNotEquals": {"n": "2"}}, {}, True),
        ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-12-07T10:00:00Z"}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01"}}, {"aws:CurrentTime": "2026-12-07T10:00:00Z"}, False),
        ({"DateGreaterThanEquals": {"aws:EpochTime": "1700000000"}}, {"aws:EpochTime": "1700000000"}, True),
        ({"DateEquals": {"t": "2020-01-01T01:00:00+01:00"}}, {"t": "2020-01-01T00:00:00Z"}, True),
        ({"DateNotEquals": {"t": "2020-01-01T00:00:00Z"}}, {"t": "2020-01-01T00:00:00Z"}, False),
        ({"DateLessThanEquals": {"t": "2020-01-01T00:00:00Z"}}, {"t": "1577836800"}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True),
        ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "true"}, False),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {}, False),
        ({"BinaryEquals": {"k": "QUJD"}}, {"k": "QUJD"}, True),
        ({"BinaryEquals": {"k": "QUJD"}}, {"k": "QUJE"}, False),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.1.2.3"}, False),
        ({"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "127.0.0.1"]}}, {"aws:SourceIp": "127.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"}, True),
        ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "10.0.0.1"}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.1.2.3"}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {}, True),
        ({"IpAddress": {"aws:SourceIp": "not an ip"}}, {"aws:SourceIp": "10.1.2.3"}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/alice"}, False),
        ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}, True),
        ({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/bob"}, True),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, {}, True),
        ({"ArnLike": {"k": "arn:aws:s3:::*"}}, {"k": "not-an-arn"}, False),
        ({"Null": {"s3:prefix": "true"}}, {}, True),
        ({"Null": {"s3:prefix": "true"}}, {"s3:prefix": ""}, False),
        ({"Null": {"s3:prefix": "false"}}, {"s3:prefix": "x"}, True),
        ({"Null": {"s3:prefix": False}}, {}, False),
        ({"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}, {"dynamodb:Attributes": ["c", "b"]}, True),
        ({"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}, {"dynamodb:Attributes": ["c"]}, False),
        ({"ForAnyValue:StringEquals": {"dynamodb:Attributes": "a"}}, {}, False),
        ({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}, {"dynamodb:Attributes": ["a", "b"]}, True),
        ({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}, {"dynamodb:Attributes": ["a", "c"]}, False),
        ({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a"]}}, {}, True),
        ({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a"]}}, {"dynamodb:Attributes": []}, True),
        ({"ForAllValues:StringNotEquals": {"k": ["a", "b"]}}, {"k": ["c", "d"]}, True),
        ({"ForAllValues:StringNotEquals": {"k": ["a", "b"]}}, {"k": ["c", "a"]}, False),
        ({"ForAnyValue:StringNotEquals": {"k": ["a", "b"]}}, {"k": ["a", "c"]}, True),
        ({"ForAnyValue:StringNotEquals": {"k": ["a", "b"]}}, {"k": ["a", "b"]}, False),
        ({"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": "user-*"}}, {"dynamodb:LeadingKeys": ["user-1"]}, True),
        ({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:userid}"}}, {"dynamodb:LeadingKeys": ["AIDA1"], "aws:userid": "AIDA1"}, True),
        ({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:userid}"}}, {"dynamodb:LeadingKeys": ["AIDA2"], "aws:userid": "AIDA1"}, False),
        # every operator and every key must hold
        ({"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "3"}, False),
        ({"StringEquals": {"a": "1"}, "Bool": {"b": "true"}}, {"a": "1", "b": "true"}, True),
        ({"StringEquals": {"a": "1"}, "Bool": {"b": "true"}}, {"a": "1", "b": "false"}, False),
    ],
)  # fmt: skip
def test_operator(condition: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(condition, context) is expected


def reference_match(pattern: str, value: str) -> bool:
    """An independent reading of AWS's wildcards: backtracking over the two characters."""
    if not pattern:
        return not value
    head = pattern[0]
    if head == "*":
        return any(reference_match(pattern[1:], value[i:]) for i in range(len(value) + 1))
    if not value:
        return False
    return (head == "?" or head == value[0]) and reference_match(pattern[1:], value[1:])


ALPHABET = st.text(alphabet="ab*?.$\\[", max_size=8)


@given(pattern=ALPHABET, value=st.text(alphabet="ab*?.$\\[", max_size=8))
def test_wildcards_match_the_reference(pattern: str, value: str) -> None:
    compiled = compile_pattern(pattern, variables=False)
    assert compiled.matches(value, {}.get) is reference_match(pattern, value)


@given(
    name=st.text(alphabet="ab*?.", min_size=1, max_size=6),
    value=st.text(alphabet="ab*?./", max_size=10),
)
def test_variable_values_are_literal(name: str, value: str) -> None:
    compiled = compile_pattern("home/${aws:username}/*")
    expected = value.startswith(f"home/{name}/")
    assert compiled.matches(value, {"aws:username": name}.get) is expected


def test_actions_ignore_case_resources_do_not() -> None:
    statement = parse_policy(json.dumps({
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "S3:get*", "Resource": "arn:aws:s3:::Bucket/*"},
    })).statements[0]  # fmt: skip
    assert statement.actions.matches("s3:GetObject", {}.get)
    assert statement.resources is not None
    assert statement.resources.matches("arn:aws:s3:::Bucket/k", {}.get)
    assert not statement.resources.matches("arn:aws:s3:::bucket/k", {}.get)
