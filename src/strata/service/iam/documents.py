"""Policy documents as IAM accepts them on a write (CreatePolicy, Put*Policy, CreateRole,
AssumeRole's session policy): parsed by the policy engine, refused with its
``MalformedPolicyDocument`` message, stored as text exactly as sent."""

from __future__ import annotations

from strata.service.iam.policy import PolicyDocument, PolicyKind, parse_policy


def check_policy(text: str, *, trust: bool = False) -> PolicyDocument:
    """Raise ``MalformedPolicyDocument`` unless ``text`` is a valid identity policy (or,
    with ``trust``, a role's trust policy)."""
    return parse_policy(text, PolicyKind.TRUST if trust else PolicyKind.IDENTITY)
