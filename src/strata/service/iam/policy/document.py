"""The policy language: a JSON document parsed, validated and compiled once.

``parse_policy`` checks a document in the order IAM does, so the first problem found is
the one AWS names: the grammar ("Syntax errors in policy."), the version, IAM's legacy
checks (an Effect in the wrong case, a malformed ARN, a date it cannot read), duplicate
statement ids, then each statement's principal, actions and resources. The result is a
``PolicyDocument`` of ``Statement``s whose Action/Resource patterns and conditions are
compiled matchers; evaluation (``evaluation.py``) only runs them.

``PolicyKind`` says which element rules apply: identity policies name no Principal and need
Version 2012-10-17; resource policies (bucket, table) and trust policies must name one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from strata.service.iam.policy.conditions import (
    KeyCondition,
    compile_condition,
    condition_value,
    parse_date,
    parse_operator,
)
from strata.service.iam.policy.errors import MalformedPolicyDocument, Reason
from strata.service.iam.policy.patterns import PatternSet, Variable, compile_set, split_variables

CURRENT_VERSION: Final = "2012-10-17"
LEGACY_VERSION: Final = "2008-10-17"  # no policy variables: "${" is literal text

SYNTAX: Final = "Syntax errors in policy."
_TOP_FIELDS: Final = frozenset({"Version", "Id", "Statement"})
_STATEMENT_FIELDS: Final = frozenset({
    "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
    "NotPrincipal", "Condition",
})  # fmt: skip
_EFFECTS: Final = ("Allow", "Deny")
_PARTITIONS: Final = frozenset({
    "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc",
})  # fmt: skip
_VENDOR: Final = re.compile(r"^[A-Za-z0-9*?-]+$")
_SID: Final = re.compile(r"^[0-9A-Za-z]*$")
_IAM_PATHS: Final = (
    "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
    "server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/",
    "report/", "access-report/",
)  # fmt: skip
_ACCOUNT: Final = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL: Final = re.compile(
    r"^arn:aws[a-z-]*:(iam::\d{12}:(root|user/.+|role/.+|group/.+)"
    r"|sts::\d{12}:(assumed-role/.+/.+|federated-user/.+))$"
)
_PRINCIPAL_TYPES: Final = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


class PolicyKind(Enum):
    IDENTITY = "identity"  # user, group, role and managed policies: no Principal
    RESOURCE = "resource"  # bucket and table policies: Principal required
    TRUST = "trust"  # a role's trust policy: Principal required, no Resource


@dataclass(frozen=True, slots=True)
class Principals:
    """A statement's Principal (or NotPrincipal): whom it names."""

    everyone: bool  # "*" or {"AWS": "*"}
    arns: frozenset[str]  # AWS principals, account ids as arn:aws:iam::<id>:root
    services: frozenset[str]  # "Service" entries: never a request's principal here


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    allow: bool
    actions: PatternSet  # Action, or NotAction when ``not_action``
    not_action: bool
    resources: PatternSet | None  # None: the statement has no Resource (trust policies)
    not_resource: bool
    principals: Principals | None  # None: an identity policy's statement
    not_principal: bool
    conditions: tuple[KeyCondition, ...]


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    text: str  # as sent: Get*Policy returns it unchanged
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    kind: PolicyKind
    # True if its decisions depend on principal, action and resource only (no conditions,
    # no variables), so they may be cached; computed once, read on every request.
    context_free: bool = False
    # lower-cased context keys its conditions and policy variables read
    context_keys: frozenset[str] = frozenset()


def _context_free(statements: Sequence[Statement]) -> bool:
    return all(
        not s.conditions and (s.resources is None or s.resources.context_free) for s in statements
    )


def statement_context_keys(statement: Statement, variables: bool) -> frozenset[str]:
    """The lower-cased context keys one statement reads (its conditions, its variables)."""
    return _context_keys((statement,), variables)


def _context_keys(statements: Sequence[Statement], variables: bool) -> frozenset[str]:
    found: set[str] = set()
    texts: list[str] = []
    for statement in statements:
        for condition in statement.conditions:
            found.add(condition.key)
            texts.extend(condition.values)
        if statement.resources is not None:
            texts.extend(p.text for p in statement.resources.others)
    if variables:
        for text in texts:
            if "${" in text:
                found.update(
                    p.key for p in split_variables(text) if isinstance(p, Variable) and p.key
                )
    return frozenset(found)


def _fail(message: str, reason: Reason = Reason.SYNTAX) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(message, reason)


def _strings(value: Any) -> list[str] | None:
    """A string or list of strings as a list; None if it is anything else."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _check_grammar(document: Any) -> list[dict[str, Any]]:
    """The document's shape, as JSON; returns its statements as a list."""
    if not isinstance(document, dict) or not set(document) <= _TOP_FIELDS:
        raise _fail(SYNTAX)
    version = document.get("Version")
    if version is not None and version not in (CURRENT_VERSION, LEGACY_VERSION):
        raise _fail(SYNTAX)
    if "Id" in document and not isinstance(document["Id"], str):
        raise _fail(SYNTAX)
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _fail(SYNTAX)
    for statement in statements:
        _check_statement_grammar(statement)
    return statements


def _check_statement_grammar(statement: Any) -> None:
    if not isinstance(statement, dict) or not set(statement) <= _STATEMENT_FIELDS:
        raise _fail(SYNTAX)
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        raise _fail(SYNTAX)
    effect = statement.get("Effect")
    if not isinstance(effect, str) or effect.capitalize() not in _EFFECTS:
        raise _fail(SYNTAX)
    for one, other in (("Action", "NotAction"), ("Resource", "NotResource"),
                       ("Principal", "NotPrincipal")):  # fmt: skip
        if one in statement and other in statement:
            raise _fail(SYNTAX)
    for field in ("Action", "NotAction", "Resource", "NotResource"):
        if field in statement and _strings(statement[field]) is None:
            raise _fail(SYNTAX)
    for field in ("Principal", "NotPrincipal"):
        if field in statement:
            _check_principal_shape(statement[field])
    if "Condition" in statement:
        _check_condition_shape(statement["Condition"])


def _check_principal_shape(value: Any) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value:
        raise _fail(SYNTAX)
    for kind, names in value.items():
        if kind not in _PRINCIPAL_TYPES or _strings(names) is None:
            raise _fail(SYNTAX)


def _check_condition_shape(block: Any) -> None:
    if not isinstance(block, dict):
        raise _fail(SYNTAX)
    for operator, keys in block.items():
        if not isinstance(keys, dict):
            raise _fail(SYNTAX)
        if keys and parse_operator(operator) is None:
            raise _fail(SYNTAX)
        for values in keys.values():
            listed = values if isinstance(values, list) else [values]
            if any(condition_value(v) is None for v in listed):
                raise _fail(SYNTAX)


def _condition_values(values: Any) -> list[str]:
    listed = values if isinstance(values, list) else [values]
    return [v for v in (condition_value(x) for x in listed) if v is not None]


def _check_legacy(statements: Sequence[dict[str, Any]]) -> None:
    """What IAM's older parser refuses: "The policy failed legacy parsing"."""
    for statement in statements:
        if statement["Effect"] not in _EFFECTS:
            raise _fail("The policy failed legacy parsing", Reason.LEGACY)
        for field in ("Resource", "NotResource"):
            for resource in _strings(statement.get(field, [])) or []:
                if resource.startswith("arn:"):
                    parts = resource.split(":", 5)
                    if len(parts) in (4, 5) or (len(parts) == 6 and not parts[2]):
                        raise _fail("The policy failed legacy parsing", Reason.LEGACY)
        for operator, keys in statement.get("Condition", {}).items():
            name = parse_operator(operator)
            if name is None or not name.base.startswith("Date"):
                continue
            for values in keys.values():
                if any(parse_date(v) is None for v in _condition_values(values)):
                    raise _fail("The policy failed legacy parsing", Reason.LEGACY)


def _check_action(action: str) -> None:
    if action == "*":
        return
    if ":" not in action:
        raise _fail(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            Reason.ACTION,
        )
    if action.count(":") > 1:
        raise _fail("Actions/Condition can contain only one colon.", Reason.ACTION)
    vendor = action.partition(":")[0]
    if not _VENDOR.match(vendor):
        raise _fail(f"Vendor {vendor} is not valid", Reason.ACTION)


def _check_resource(resource: str) -> None:
    if resource == "*":
        return
    if ":" not in resource:
        raise _fail(f'Resource {resource} must be in ARN format or "*".', Reason.RESOURCE)
    parts = resource.split(":", 5)
    shown = resource
    if parts[0] != "arn":
        parts[0] = "arn"
        shown = ":".join(parts + ["*"] * (6 - len(parts)))
    partition = parts[1]
    if partition not in _PARTITIONS:
        raise _fail(
            f'Partition "{partition}" is not valid for resource "{shown}".', Reason.RESOURCE
        )
    if len(parts) < 3 or "*" in parts[2] or "?" in parts[2]:
        raise _fail(
            "Resource vendor must be fully qualified and cannot contain regexes.",
            Reason.RESOURCE,
        )
    if len(parts) < 6:
        return
    vendor, region, path = parts[2], parts[3], parts[5]
    if vendor == "iam":
        if region:
            raise _fail(
                f"IAM resource {resource} cannot contain region information.", Reason.RESOURCE
            )
        if path != "*" and not path.startswith(_IAM_PATHS):
            raise _fail(
                'IAM resource path must either be "*" or start with ' + ", ".join(_IAM_PATHS) + ".",
                Reason.RESOURCE,
            )
    elif vendor == "s3" and region:
        raise _fail(f"Resource {resource} can not contain region information.", Reason.RESOURCE)


def _compile_principals(value: Any) -> Principals:
    if value == "*":
        return Principals(True, frozenset(), frozenset())
    everyone = False
    arns: set[str] = set()
    services: set[str] = set()
    for kind, names in value.items():
        for name in _strings(names) or []:
            if kind == "AWS":
                if name == "*":
                    everyone = True
                elif _ACCOUNT.match(name):
                    arns.add(f"arn:aws:iam::{name}:root")
                elif _AWS_PRINCIPAL.match(name):
                    arns.add(name)
                else:
                    raise _fail(f'Invalid principal in policy: "AWS":"{name}"', Reason.PRINCIPAL)
            elif kind == "Service":
                services.add(name)
    return Principals(everyone, frozenset(arns), frozenset(services))


def _compile_conditions(block: dict[str, Any], variables: bool) -> tuple[KeyCondition, ...]:
    compiled: list[KeyCondition] = []
    for operator, keys in block.items():
        name = parse_operator(operator)
        if name is None:
            continue  # an unknown operator with no keys: accepted, tests nothing
        for key, values in keys.items():
            compiled.append(
                compile_condition(
                    name, operator, key, _condition_values(values), variables=variables
                )
            )
    return tuple(compiled)


def _compile_statement(statement: dict[str, Any], kind: PolicyKind, variables: bool) -> Statement:
    principal_field = next((f for f in ("Principal", "NotPrincipal") if f in statement), None)
    if kind is PolicyKind.IDENTITY and principal_field is not None:
        raise _fail("Policy document should not specify a principal.", Reason.PRINCIPAL)
    if kind is not PolicyKind.IDENTITY and principal_field is None:
        raise _fail("Missing required field Principal", Reason.PRINCIPAL)
    principals = (
        _compile_principals(statement[principal_field]) if principal_field is not None else None
    )

    action_field = "NotAction" if "NotAction" in statement else "Action"
    actions = _strings(statement.get(action_field, [])) or []
    if not actions:
        raise _fail("Policy statement must contain actions.", Reason.MISSING)
    for action in actions:
        _check_action(action)

    resource_field = "NotResource" if "NotResource" in statement else "Resource"
    resources = _strings(statement.get(resource_field, [])) or []
    if not resources and kind is not PolicyKind.TRUST:
        raise _fail("Policy statement must contain resources.", Reason.MISSING)
    for resource in resources:
        _check_resource(resource)

    return Statement(
        sid=statement.get("Sid"),
        allow=statement["Effect"] == "Allow",
        actions=compile_set(actions, ignore_case=True, variables=False),
        not_action=action_field == "NotAction",
        resources=compile_set(resources, variables=variables) if resources else None,
        not_resource=resource_field == "NotResource",
        principals=principals,
        not_principal=principal_field == "NotPrincipal",
        conditions=_compile_conditions(statement.get("Condition", {}), variables),
    )


def parse_policy(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> PolicyDocument:
    """Validate and compile a policy; raise ``MalformedPolicyDocument`` with IAM's message."""
    try:
        document = json.loads(text)
    except ValueError:
        raise _fail(SYNTAX)
    statements = _check_grammar(document)
    version = document.get("Version")
    if kind is PolicyKind.IDENTITY and version != CURRENT_VERSION:
        raise _fail("Policy document must be version 2012-10-17 or greater.", Reason.VERSION)
    _check_legacy(statements)
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        raise _fail("Statement IDs (SID) in a single policy must be unique.", Reason.SID)
    if kind is PolicyKind.IDENTITY:
        for sid in sids:
            if not _SID.match(sid):
                raise _fail(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input "
                    "satisfies the regular expression [0-9A-Za-z]*",
                    Reason.SID,
                )
    variables = version == CURRENT_VERSION
    compiled = tuple(_compile_statement(s, kind, variables) for s in statements)
    return PolicyDocument(
        text, version or LEGACY_VERSION, document.get("Id"), compiled, kind,
        _context_free(compiled), _context_keys(compiled, variables),
    )  # fmt: skip
