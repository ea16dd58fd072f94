"""Whether a resource policy is public, by S3's definition ("The meaning of 'public'",
Blocking public access to your Amazon S3 storage).

A policy is non-public only if every Allow statement grants to fixed principals, or is
bound by a condition on one of the keys S3 lists with a fixed value (no wildcard): a
specific account, ARN, user id, organization, VPC or endpoint, or a source IP range of at
least /8 (IPv4) or /32 (IPv6). ``Principal: "*"`` (or ``NotPrincipal``) without such a
condition is public.
"""

from __future__ import annotations

from typing import Final

from strata.service.iam.policy.conditions import KeyCondition, parse_network
from strata.service.iam.policy.document import PolicyDocument, Statement

# Condition keys whose fixed value makes a grant to "*" non-public.
_FIXING_KEYS: Final = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
    "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid",
    "aws:sourceorgid", "aws:sourceorgpaths", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
})  # fmt: skip
_POSITIVE_FAMILIES: Final = frozenset({"string", "string-ignore-case", "string-like", "arn"})


def _fixes(condition: KeyCondition) -> bool:
    if condition.negated or condition.if_exists or not condition.values:
        return False
    if condition.key == "aws:sourceip" and condition.family == "ip":
        networks = [parse_network(v) for v in condition.values]
        return all(n is not None and n.prefixlen >= (8 if n.version == 4 else 32) for n in networks)
    if condition.key in _FIXING_KEYS and condition.family in _POSITIVE_FAMILIES:
        return all("*" not in v and "?" not in v for v in condition.values)
    return False


def _public_statement(statement: Statement) -> bool:
    principals = statement.principals
    if not statement.allow or principals is None:
        return False
    open_to_all = statement.not_principal or principals.everyone
    return open_to_all and not any(_fixes(c) for c in statement.conditions)


def is_public(document: PolicyDocument) -> bool:
    return any(_public_statement(s) for s in document.statements)
