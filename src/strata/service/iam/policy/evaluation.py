"""Policy evaluation within one account, as the IAM User Guide's "Policy evaluation logic"
describes it: an explicit Deny in any applicable policy wins; otherwise an Allow from an
identity-based policy or from the resource's policy allows; otherwise the request is
implicitly denied.

A statement applies when its Action (or NotAction) matches the action, case-insensitively;
its Resource (or NotResource) matches the resource ARN, case-sensitively; in a resource
policy its Principal (or NotPrincipal) names the caller; and every condition holds.

Within one account a resource policy that names the account (``"AWS": "<account id>"``)
delegates to the account's identity policies: that Allow does not by itself let an IAM user
in, while such a Deny applies to every principal of the account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Final

from strata.service.iam.policy.conditions import all_hold
from strata.service.iam.policy.document import PolicyDocument, Principals, Statement
from strata.service.iam.policy.patterns import ContextValue, Lookup
from strata.service.iam.principal import Principal

Context = Mapping[str, ContextValue]


class Outcome(Enum):
    ALLOW = "allow"
    NONE = "none"  # nothing applies
    DENY = "deny"  # an explicit Deny applies


def _names(principals: Principals, principal: Principal, allow: bool) -> bool:
    if principals.everyone:
        return True
    if principal.anonymous:
        return False
    arns = principals.arns
    if principal.arn in arns:
        return True
    account_root = f"arn:aws:iam::{principal.account_id}:root"
    if account_root in arns and (principal.root or not allow):
        return True
    return principal.role_name is not None and role_arn(principal) in arns


def role_arn(principal: Principal) -> str:
    """An assumed-role session's role: a policy names the role, the request its session."""
    return f"arn:aws:iam::{principal.account_id}:role/{principal.role_name}"


def statement_applies(
    statement: Statement, principal: Principal, action: str, resource: str, lookup: Lookup
) -> bool:
    if statement.actions.matches(action, lookup) == statement.not_action:
        return False
    resources = statement.resources
    if resources is not None and resources.matches(resource, lookup) == statement.not_resource:
        return False
    principals = statement.principals
    if (
        principals is not None
        and _names(principals, principal, statement.allow) == statement.not_principal
    ):
        return False
    return not statement.conditions or all_hold(statement.conditions, lookup)


def evaluate(
    documents: Sequence[PolicyDocument],
    principal: Principal,
    action: str,
    resource: str,
    lookup: Lookup,
    *,
    allows: bool = True,
) -> Outcome:
    """The outcome of one kind of policy (identity or resource) for the request.
    ``allows=False``: only its Deny statements count (S3's RestrictPublicBuckets)."""
    allowed = False
    for document in documents:
        for statement in document.statements:
            if not allows and statement.allow:
                continue
            if statement_applies(statement, principal, action, resource, lookup):
                if not statement.allow:
                    return Outcome.DENY
                allowed = True
    return Outcome.ALLOW if allowed else Outcome.NONE


class LazyContext:
    """The request's condition keys, built (and lower-cased) only when a policy asks:
    the caller's keys (``principal_part``, lower-cased already), the time, the request's."""

    __slots__ = ("_build", "_context", "_now_s", "_principal_part")

    def __init__(
        self,
        build: Callable[[], Context],
        principal_part: Callable[[], Mapping[str, ContextValue]],
        now_s: Callable[[], float],
    ) -> None:
        self._build = build
        self._principal_part = principal_part
        self._now_s = now_s
        self._context: dict[str, ContextValue] | None = None

    def __call__(self, key: str) -> ContextValue | None:
        context = self._context
        if context is None:
            context = self._built()
        return context.get(key)

    def values_of(self, keys: tuple[str, ...]) -> tuple[object, ...]:
        """The keys' values, hashable (lists as tuples): a decision cache's key part.
        A context source that reads keys one by one (``RequestKeys.value``) is asked for
        the request's keys alone, so nothing else is built."""
        context = self._context
        single = getattr(self._build, "value", None) if context is None else None
        if single is not None:
            caller = self._principal_part()
            found: list[object] = []
            for key in keys:
                if key in caller:
                    found.append(caller[key])
                elif key in _TIME_KEYS:
                    found.append(_time_values(int(self._now_s()))[key])
                else:
                    found.append(single(key))
            values = tuple(found)
        else:
            values = tuple(map((context or self._built()).get, keys))
        if list in map(type, values):
            return tuple(tuple(v) if isinstance(v, list) else v for v in values)
        return values

    def _built(self) -> dict[str, ContextValue]:
        """The request's keys, then the time's and the caller's over them: a request
        cannot stand in for who is calling or when."""
        context = {name.lower(): value for name, value in self._build().items()}
        context.update(_time_context(int(self._now_s())))
        context.update(self._principal_part())
        self._context = context
        return context


_TIME_KEYS: Final = frozenset({"aws:currenttime", "aws:epochtime"})


@lru_cache(maxsize=4)
def _time_values(second: int) -> dict[str, str]:
    return dict(_time_context(second))


@lru_cache(maxsize=4)
def _time_context(second: int) -> tuple[tuple[str, str], ...]:
    """``aws:currenttime`` and ``aws:epochtime`` (lower-cased), formatted once per second."""
    moment = datetime.fromtimestamp(second, UTC)
    return (
        ("aws:currenttime", moment.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("aws:epochtime", str(second)),
    )


def principal_context(
    principal: Principal,
    tags: Mapping[str, str] = {},
) -> dict[str, ContextValue]:
    """The condition keys that describe the caller (``aws:username``, ``aws:PrincipalArn``...)."""
    if principal.anonymous:
        return {"aws:PrincipalType": "Anonymous"}
    context: dict[str, ContextValue] = {
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:userid": principal.user_id,
    }
    if principal.root:
        context["aws:PrincipalType"] = "Account"
    elif principal.role_name is not None:
        context["aws:PrincipalType"] = "AssumedRole"
        context["aws:PrincipalArn"] = role_arn(principal)
    else:
        context["aws:PrincipalType"] = "User"
    if principal.user_name is not None:
        context["aws:username"] = principal.user_name
    for name, value in tags.items():
        context[f"aws:PrincipalTag/{name}"] = value
    return context
