"""The Decider on real parsed documents: explicit deny wins, then any allow, else implicit."""

# ruff: noqa: E501 - one decision per line reads as a table

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from strata.service.iam.access import AccessControl, AccessDenied, Context, Decision
from strata.service.iam.policy import PolicyDocument, PolicyKind, parse_policy
from strata.service.iam.policy.decider import PolicyDecider, ResourcePolicy
from strata.service.iam.principal import (
    Principal,
    anonymous_principal,
    assumed_role_principal,
    user_principal,
)

ACCOUNT = "111122223333"
ALICE = user_principal(ACCOUNT, "alice", "AIDAALICE", "AKIAALICE")
BOB = user_principal(ACCOUNT, "bob", "AIDABOB", "AKIABOB")
ANONYMOUS = anonymous_principal(ACCOUNT)
OBJECT = "arn:aws:s3:::photos/cat.jpg"


def identity(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def resource(*statements: dict[str, Any]) -> PolicyDocument:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return parse_policy(text, PolicyKind.RESOURCE)


def allow(action: str, res: str = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": res, **more}


def deny(action: str, res: str = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": res, **more}


class Identities:
    def __init__(self) -> None:
        self.generation = 1
        self.by_arn: dict[str, list[PolicyDocument]] = {}
        self.asked = 0

    def give(self, principal: Principal, *documents: PolicyDocument) -> None:
        self.by_arn[principal.arn] = list(documents)
        self.generation += 1

    def policies_for(self, principal: Principal) -> tuple[int, Sequence[PolicyDocument]]:
        self.asked += 1
        return self.generation, self.by_arn.get(principal.arn, [])


class Buckets:
    def __init__(self) -> None:
        self.policies: dict[str, ResourcePolicy] = {}

    def policy_for(self, res: str) -> ResourcePolicy | None:
        if not res.startswith("arn:aws:s3:::"):
            return None
        return self.policies.get(res[len("arn:aws:s3:::") :].split("/", 1)[0])


class Built:
    """A context function that counts how often it is built."""

    def __init__(self, context: Context | None = None) -> None:
        self.context = context or {}
        self.calls = 0

    def __call__(self) -> Context:
        self.calls += 1
        return self.context


@pytest.fixture
def identities() -> Identities:
    return Identities()


@pytest.fixture
def buckets() -> Buckets:
    return Buckets()


@pytest.fixture
def decider(identities: Identities, buckets: Buckets) -> PolicyDecider:
    return PolicyDecider(identities, [buckets], now_s=lambda: 1_800_000_000.0)


def decide(
    decider: PolicyDecider,
    principal: Principal,
    action: str,
    res: str = OBJECT,
    context: Context | None = None,
) -> Decision:
    return decider.decide(principal, action, res, Built(context))


def test_nothing_allows_by_default(decider: PolicyDecider) -> None:
    assert decide(decider, ALICE, "s3:GetObject") is Decision.IMPLICIT_DENY


def test_identity_allow(decider: PolicyDecider, identities: Identities) -> None:
    identities.give(ALICE, identity(allow("s3:Get*", "arn:aws:s3:::photos/*")))
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ALICE, "S3:GETOBJECT") is Decision.ALLOW
    assert decide(decider, ALICE, "s3:PutObject") is Decision.IMPLICIT_DENY
    assert (
        decide(decider, ALICE, "s3:GetObject", "arn:aws:s3:::Photos/cat.jpg")
        is Decision.IMPLICIT_DENY
    )
    assert decide(decider, BOB, "s3:GetObject") is Decision.IMPLICIT_DENY


def test_explicit_deny_beats_allow_in_any_policy(
    decider: PolicyDecider, identities: Identities, buckets: Buckets
) -> None:
    identities.give(
        ALICE, identity(allow("s3:*")), identity(deny("s3:DeleteObject", "arn:aws:s3:::photos/*"))
    )
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ALICE, "s3:DeleteObject") is Decision.EXPLICIT_DENY
    buckets.policies["photos"] = ResourcePolicy(
        resource(deny("s3:GetObject", "arn:aws:s3:::photos/*", Principal={"AWS": ALICE.arn}))
    )
    assert decide(decider, ALICE, "s3:GetObject") is Decision.EXPLICIT_DENY_RESOURCE
    assert decide(decider, ALICE, "s3:GetObject", "arn:aws:s3:::other/x") is Decision.ALLOW


def test_not_action_and_not_resource(decider: PolicyDecider, identities: Identities) -> None:
    identities.give(ALICE, identity(
        {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"]},
    ))  # fmt: skip
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ALICE, "s3:DeleteObject") is Decision.IMPLICIT_DENY
    assert decide(decider, ALICE, "s3:GetObject", "arn:aws:s3:::secret/x") is Decision.EXPLICIT_DENY
    assert (
        decide(decider, ALICE, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/T")
        is Decision.ALLOW
    )


def test_resource_policy_allows_a_named_user_in_the_account(
    decider: PolicyDecider, buckets: Buckets
) -> None:
    buckets.policies["photos"] = ResourcePolicy(
        resource(allow("s3:GetObject", "arn:aws:s3:::photos/*", Principal={"AWS": [ALICE.arn]}))
    )
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, BOB, "s3:GetObject") is Decision.IMPLICIT_DENY
    assert decide(decider, ANONYMOUS, "s3:GetObject") is Decision.IMPLICIT_DENY


def test_the_account_principal_delegates_allows_but_not_denies(
    decider: PolicyDecider, identities: Identities, buckets: Buckets
) -> None:
    buckets.policies["photos"] = ResourcePolicy(resource(
        allow("s3:GetObject", "arn:aws:s3:::photos/*", Principal={"AWS": ACCOUNT}),
        deny("s3:PutObject", "arn:aws:s3:::photos/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    ))  # fmt: skip
    assert decide(decider, ALICE, "s3:GetObject") is Decision.IMPLICIT_DENY
    identities.give(ALICE, identity(allow("s3:*")))
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ALICE, "s3:PutObject") is Decision.EXPLICIT_DENY_RESOURCE


def test_not_principal(decider: PolicyDecider, identities: Identities, buckets: Buckets) -> None:
    identities.give(ALICE, identity(allow("s3:*")))
    identities.give(BOB, identity(allow("s3:*")))
    buckets.policies["photos"] = ResourcePolicy(resource(
        {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE.arn}, "Action": "s3:*", "Resource": "arn:aws:s3:::photos/*"},
    ))  # fmt: skip
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, BOB, "s3:GetObject") is Decision.EXPLICIT_DENY_RESOURCE


def test_anonymous_through_a_public_policy(decider: PolicyDecider, buckets: Buckets) -> None:
    public = resource(allow("s3:GetObject", "arn:aws:s3:::photos/*", Principal="*"))
    buckets.policies["photos"] = ResourcePolicy(public)
    assert decide(decider, ANONYMOUS, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, ANONYMOUS, "s3:PutObject") is Decision.IMPLICIT_DENY
    buckets.policies["photos"] = ResourcePolicy(public, restrict_public=True)
    assert decide(decider, ANONYMOUS, "s3:GetObject") is Decision.IMPLICIT_DENY
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW


def test_assumed_role_named_by_its_role(decider: PolicyDecider, buckets: Buckets) -> None:
    session = assumed_role_principal(ACCOUNT, "reader", "AROAREADER", "s1", "ASIA1")
    buckets.policies["photos"] = ResourcePolicy(
        resource(
            allow("s3:GetObject", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"})
        )
    )
    assert decide(decider, session, "s3:GetObject") is Decision.ALLOW


def test_variables_and_conditions(decider: PolicyDecider, identities: Identities) -> None:
    identities.give(ALICE, identity(
        allow("s3:ListBucket", "arn:aws:s3:::home", Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}),
        allow("s3:*", "arn:aws:s3:::home/home/${aws:username}/*"),
        deny("s3:*", Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1/128"]}}),
        deny("s3:PutObject", Condition={"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
    ))  # fmt: skip
    inside = {"aws:SourceIp": "10.1.1.1", "s3:prefix": "home/alice/docs"}
    assert decide(decider, ALICE, "s3:ListBucket", "arn:aws:s3:::home", inside) is Decision.ALLOW
    assert (
        decide(
            decider,
            ALICE,
            "s3:ListBucket",
            "arn:aws:s3:::home",
            {**inside, "s3:prefix": "home/bob/"},
        )
        is Decision.IMPLICIT_DENY
    )
    assert (
        decide(decider, ALICE, "s3:GetObject", "arn:aws:s3:::home/home/alice/x", inside)
        is Decision.ALLOW
    )
    assert (
        decide(decider, ALICE, "s3:GetObject", "arn:aws:s3:::home/home/bob/x", inside)
        is Decision.IMPLICIT_DENY
    )
    assert (
        decide(
            decider,
            ALICE,
            "s3:GetObject",
            "arn:aws:s3:::home/home/alice/x",
            {"aws:SourceIp": "8.8.8.8"},
        )
        is Decision.EXPLICIT_DENY
    )
    # now_s is 2027-01-15: before the cut-off
    assert (
        decide(decider, ALICE, "s3:PutObject", "arn:aws:s3:::home/home/alice/x", inside)
        is Decision.ALLOW
    )
    late = PolicyDecider(identities, now_s=lambda: 1_900_000_000.0)  # 2030-03
    assert (
        decide(late, ALICE, "s3:PutObject", "arn:aws:s3:::home/home/alice/x", inside)
        is Decision.EXPLICIT_DENY
    )


def test_principal_keys_in_conditions(identities: Identities) -> None:
    decider = PolicyDecider(identities, tags=lambda p: {"team": "red"} if p is ALICE else {})
    policy = identity(allow("s3:*", Condition={"StringEquals": {
        "aws:PrincipalTag/team": "red", "aws:PrincipalType": "User", "aws:userid": "${aws:userid}",
        "aws:PrincipalArn": "${aws:PrincipalArn}",
    }}))  # fmt: skip
    identities.give(ALICE, policy)
    identities.give(BOB, policy)
    assert decide(decider, ALICE, "s3:GetObject") is Decision.ALLOW
    assert decide(decider, BOB, "s3:GetObject") is Decision.IMPLICIT_DENY


def test_context_free_decisions_are_cached_and_build_no_context(
    decider: PolicyDecider, identities: Identities
) -> None:
    identities.give(ALICE, identity(allow("s3:GetObject")))
    built = Built()
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, built) is Decision.ALLOW
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, built) is Decision.ALLOW
    assert built.calls == 0
    # a write to IAM is a new generation: the cached decision is not reused
    identities.give(ALICE, identity(deny("s3:GetObject")))
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, built) is Decision.EXPLICIT_DENY


def test_context_built_once_when_a_condition_needs_it(
    decider: PolicyDecider, identities: Identities
) -> None:
    identities.give(
        ALICE,
        identity(
            allow(
                "s3:GetObject",
                Condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                },
            )
        ),
    )
    built = Built({"aws:SecureTransport": "true", "aws:SourceIp": "10.0.0.1"})
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, built) is Decision.ALLOW
    assert built.calls == 1
    other = Built({"aws:SecureTransport": "false", "aws:SourceIp": "10.0.0.1"})
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, other) is Decision.IMPLICIT_DENY


def test_access_control_with_the_decider(decider: PolicyDecider, identities: Identities) -> None:
    identities.give(ALICE, identity(allow("s3:GetObject")))
    access = AccessControl(decider)
    access.authorize(ALICE, "s3:GetObject", OBJECT)
    with pytest.raises(AccessDenied) as caught:
        access.authorize(ALICE, "s3:PutObject", OBJECT, quote_resource=True)
    assert caught.value.message == (
        f'User: {ALICE.arn} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" '
        "because no identity-based policy allows the s3:PutObject action"
    )


def test_statements_for_other_actions_add_no_key(
    decider: PolicyDecider, identities: Identities
) -> None:
    """A ListBucket statement's s3:prefix condition cannot change a GetObject decision: the
    context is not built for GetObject at all, and the decision is cached."""
    identities.give(
        ALICE,
        identity(
            allow("s3:GetObject"),
            allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "home/*"}}),
        ),
    )
    built = Built({"s3:prefix": "home/a"})
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, built) is Decision.ALLOW
    assert built.calls == 0
    listing = Built({"s3:prefix": "etc/"})
    assert (
        decider.decide(ALICE, "s3:ListBucket", "arn:aws:s3:::photos", listing)
        is Decision.IMPLICIT_DENY
    )
    assert listing.calls == 1


def test_the_request_cannot_stand_in_for_the_caller(
    decider: PolicyDecider, identities: Identities
) -> None:
    identities.give(ALICE, identity(allow("s3:GetObject", "arn:aws:s3:::photos/${aws:username}/*")))
    spoofed = Built({"aws:username": "bob", "aws:PrincipalArn": BOB.arn})
    own = "arn:aws:s3:::photos/alice/a.jpg"
    other = "arn:aws:s3:::photos/bob/b.jpg"
    assert decider.decide(ALICE, "s3:GetObject", own, spoofed) is Decision.ALLOW
    assert decider.decide(ALICE, "s3:GetObject", other, spoofed) is Decision.IMPLICIT_DENY


def test_request_keys_are_read_one_by_one(decider: PolicyDecider, identities: Identities) -> None:
    """With RequestKeys the cache key reads single keys; the whole context is built only to
    evaluate, so a repeated request builds nothing."""
    from strata.service.iam.request_keys import RequestKeys

    identities.give(
        ALICE, identity(allow("s3:GetObject", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    )
    built = Built({"aws:SecureTransport": "true"})

    def keys(secure: str) -> RequestKeys[str]:
        return RequestKeys(secure, {"aws:securetransport": lambda s: s}, ("dynamodb:",), built)

    assert decider.decide(ALICE, "s3:GetObject", OBJECT, keys("true")) is Decision.ALLOW
    assert built.calls == 1  # evaluated once
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, keys("true")) is Decision.ALLOW
    assert built.calls == 1  # the cached decision, keyed on the one key read alone
    built.context = {"aws:SecureTransport": "false"}
    assert decider.decide(ALICE, "s3:GetObject", OBJECT, keys("false")) is Decision.IMPLICIT_DENY
