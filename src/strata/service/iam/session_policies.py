"""Session policies (AssumeRole's ``Policy``): a session may do only what both its role's
policies and the session policy allow. AWS documents the effective permissions of such a
session as that intersection, so the session policy is checked after the role's decision
rather than added to the role's policies (where it could only widen them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from strata.service.iam.access import Context, ContextValue, Decider, Decision
from strata.service.iam.identities import DirectoryPolicies
from strata.service.iam.policy.evaluation import (
    LazyContext,
    Outcome,
    evaluate,
    principal_context,
)
from strata.service.iam.principal import Principal


class SessionPolicyDecider:
    def __init__(
        self, inner: Decider, identities: DirectoryPolicies, now_s: Callable[[], float]
    ) -> None:
        self.inner = inner
        self.identities = identities
        self.now_s = now_s

    def decide(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        decision = self.inner.decide(principal, action, resource, context)
        if decision is not Decision.ALLOW or principal.role_name is None:
            return decision
        session = self.identities.session_policies(principal)
        if session is None:
            return decision
        lookup = LazyContext(context, lambda: self._principal_part(principal), self.now_s)
        # several session policies: any Allow of one of them counts, any Deny wins
        outcome = evaluate(session, principal, action, resource, lookup)
        if outcome is Outcome.DENY:
            return Decision.EXPLICIT_DENY_SESSION
        return decision if outcome is Outcome.ALLOW else Decision.IMPLICIT_DENY_SESSION

    def decide_root(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        return self.inner.decide_root(principal, action, resource, context)

    def _principal_part(self, principal: Principal) -> Mapping[str, ContextValue]:
        context = principal_context(principal, self.identities.tags(principal))
        return {name.lower(): value for name, value in context.items()}
