"""The query protocol's edges, sent by hand: what boto3 would refuse to send."""

from __future__ import annotations

import pytest

from tests.e2e.iam.conftest import query
from tests.server import RunningServer


def iam_call(server: RunningServer, **params: str) -> tuple[int, str]:
    return query(server, "iam", {"Version": "2010-05-08", **params})


def test_unknown_and_unbuilt_actions(server: RunningServer) -> None:
    status, body = iam_call(server, Action="MakeCoffee")
    assert status == 400
    assert "<Code>InvalidAction</Code>" in body
    assert "Could not find operation MakeCoffee for version 2010-05-08" in body
    status, body = iam_call(server, Action="CreateLoginProfile", UserName="x", Password="p")
    assert status == 501
    assert "<Code>NotImplemented</Code>" in body
    status, body = query(server, "sts", {"Action": "AssumeRoleWithSAML", "Version": "2011-06-15"})
    assert status == 501


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Action": "CreateUser"},
            "1 validation error detected: Value null at 'userName' failed to satisfy "
            "constraint: Member must not be null",
        ),
        (
            {"Action": "CreateUser", "UserName": "x" * 65},
            f"1 validation error detected: Value '{'x' * 65}' at 'userName' failed to satisfy "
            "constraint: Member must have length less than or equal to 64",
        ),
        (
            {"Action": "ListUsers", "MaxItems": "0", "PathPrefix": "nope"},
            "2 validation errors detected: Value 'nope' at 'pathPrefix' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "\\u002F[\\u0021-\\u007F]*; Value '0' at 'maxItems' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {
                "Action": "GetPolicyVersion",
                "PolicyArn": "arn:aws:iam::000000000000:policy/p",
                "VersionId": "version1",
            },
            "1 validation error detected: Value 'version1' at 'versionId' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ),
    ],
)
def test_validation_errors_are_awss(
    server: RunningServer, params: dict[str, str], message: str
) -> None:
    status, body = iam_call(server, **params)
    assert status == 400
    assert "<Error><Type>Sender</Type><Code>ValidationError</Code>" in body
    assert f"<Message>{message}</Message>" in body
    assert "<RequestId>" in body


def test_user_names_with_xml_characters_are_escaped(server: RunningServer) -> None:
    status, body = iam_call(server, Action="GetUser", UserName="a&b")
    assert status == 400  # & is outside the name pattern: ValidationError, escaped
    assert "Value 'a&amp;b' at 'userName'" in body
