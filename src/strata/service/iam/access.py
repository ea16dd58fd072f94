"""The one authorization step: may this principal perform this action on this resource?

Protocol handlers call ``AccessControl.authorize`` once they know the operation (S3:
after routing; DynamoDB: once the target and body are decoded), with the IAM action name
as AWS maps it (``s3:GetObjectVersion``, ``dynamodb:PutItem``) and the resource ARN.
The root user is always allowed, before anything else is looked at: its cost is one
attribute test. Everyone else is decided by their identity policies (``Decider``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from enum import Enum
from typing import Protocol

from strata.errors import StrataError
from strata.service.iam.principal import Principal

# Who the request being served is, for checks a service makes on its caller's behalf deep
# below the protocol (S3 using a KMS key needs the caller's kms:Decrypt). Set by the edge
# per request; None in background work, which acts as the service itself.
acting: ContextVar[Principal | None] = ContextVar("strata_acting_principal", default=None)

ContextValue = str | list[str]
Context = Mapping[str, ContextValue]


class Decision(Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit"  # nothing allows it
    EXPLICIT_DENY = "explicit"  # a statement of an identity policy denies it
    EXPLICIT_DENY_RESOURCE = "explicit-resource"  # a statement of the resource's policy does
    IMPLICIT_DENY_SESSION = "implicit-session"  # the role allows it, no session policy does
    EXPLICIT_DENY_SESSION = "explicit-session"  # a statement of a session policy denies it


_EXPLICIT = frozenset(
    {Decision.EXPLICIT_DENY, Decision.EXPLICIT_DENY_RESOURCE, Decision.EXPLICIT_DENY_SESSION}
)


class AccessDenied(StrataError):
    """Authorization refused the request; the message is AWS's "User: ... is not authorized"."""

    def __init__(
        self, principal: Principal | None, action: str, resource: str, decision: Decision, *,
        quote_resource: bool = False,
    ) -> None:  # fmt: skip
        self.action = action
        self.resource = resource
        self.explicit = decision in _EXPLICIT
        if principal is None or principal.anonymous:
            super().__init__("Access Denied")
            return
        shown = f'"{resource}"' if quote_resource else resource
        if decision is Decision.EXPLICIT_DENY:
            why = "with an explicit deny in an identity-based policy"
        elif decision is Decision.EXPLICIT_DENY_RESOURCE:
            why = "with an explicit deny in a resource-based policy"
        elif decision is Decision.EXPLICIT_DENY_SESSION:
            why = "with an explicit deny in a session policy"
        elif decision is Decision.IMPLICIT_DENY_SESSION:
            why = f"because no session policy allows the {action} action"
        else:
            why = f"because no identity-based policy allows the {action} action"
        super().__init__(
            f"User: {principal.arn} is not authorized to perform: {action} "
            f"on resource: {shown} {why}"
        )


class Decider(Protocol):
    """Evaluates a non-root principal's policies (``policy/decider.py``). ``context`` builds
    the request's condition keys: called only if a policy needs them."""

    def decide(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision: ...

    def decide_root(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        """The account's root user: refused only by an explicit Deny of a resource policy."""
        ...


class DenyAll:
    """No policies: every non-root principal is implicitly denied."""

    def decide(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        return Decision.IMPLICIT_DENY

    def decide_root(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        return Decision.ALLOW


def _no_bucket_denies(bucket: str) -> bool:
    return False


class AccessControl:
    def __init__(self, decider: Decider | None = None) -> None:
        self.decider: Decider = decider or DenyAll()
        # bucket -> its policy has a Deny statement, so even root is checked (S3 only)
        self.bucket_denies: Callable[[str], bool] = _no_bucket_denies

    def authorize_root(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Callable[[], Context],
        *,
        quote_resource: bool = False,
    ) -> None:
        """Root against the resource's policy: only its explicit Deny refuses."""
        decision = self.decider.decide_root(principal, action, resource, context)
        if decision is not Decision.ALLOW:
            raise AccessDenied(principal, action, resource, decision, quote_resource=quote_resource)

    def authorize(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        context: Context | Callable[[], Context] = {},  # noqa: B006 (never mutated)
        *,
        quote_resource: bool = False,
    ) -> None:
        """Return if allowed; raise ``AccessDenied`` otherwise. ``context`` (the condition
        keys) may be a function, so the root fast path never builds it."""
        if principal is not None and principal.root:
            return
        if principal is None:
            raise AccessDenied(principal, action, resource, Decision.IMPLICIT_DENY)
        build = context if callable(context) else lambda: context
        decision = self.decider.decide(principal, action, resource, build)
        if decision is not Decision.ALLOW:
            raise AccessDenied(principal, action, resource, decision, quote_resource=quote_resource)
