"""The real ``Decider``: a principal's identity policies and the resource's policy, evaluated
as AWS does within one account, with decisions cached where the request cannot change them.

A decision depends on the principal, the action, the resource and, through conditions and
policy variables, on the request's context. When no applicable document has a condition or
a variable (``PolicyDocument.context_free``), the decision is cached per (principal,
identity generation, resource policy, action, resource): the next identical request costs
one dict lookup. Otherwise the compiled documents are evaluated, and the context is built
only if a statement reaches a condition or a variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from strata.service.iam.access import Context, Decision
from strata.service.iam.identities import IdentityPolicies
from strata.service.iam.policy.document import PolicyDocument
from strata.service.iam.policy.evaluation import LazyContext, Outcome, evaluate
from strata.service.iam.principal import Principal

CACHE_ENTRIES_MAX: Final = 65_536  # then the cache starts over: bounded memory


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    document: PolicyDocument
    # S3 RestrictPublicBuckets on a bucket whose policy is public: only same-account
    # principals get in, so the policy's Allow statements do not count for anonymous callers.
    restrict_public: bool = False


class ResourcePolicies(Protocol):
    """The policy attached to a resource (a bucket, a table), or None (not its resource)."""

    def policy_for(self, resource: str) -> ResourcePolicy | None: ...


def _no_tags(principal: Principal) -> Mapping[str, str]:
    return {}


class PolicyDecider:
    def __init__(
        self,
        identities: IdentityPolicies,
        resources: Sequence[ResourcePolicies] = (),
        now_s: Callable[[], float] = lambda: 0.0,
        tags: Callable[[Principal], Mapping[str, str]] = _no_tags,
    ) -> None:
        self.identities = identities
        self.resources = tuple(resources)
        self.now_s = now_s
        self.tags = tags
        # key -> (decision, the resource policy it was made under: kept alive so its id
        # is never reused while the entry stands)
        self._cache: dict[tuple[object, ...], tuple[Decision, ResourcePolicy | None]] = {}

    def resource_policy(self, resource: str) -> ResourcePolicy | None:
        for source in self.resources:
            found = source.policy_for(resource)
            if found is not None:
                return found
        return None

    def decide(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        documents: Sequence[PolicyDocument] = ()
        generation = 0
        if not principal.anonymous:
            generation, documents = self.identities.policies_for(principal)
        attached = self.resource_policy(resource)
        cacheable = all(d.context_free for d in documents) and (
            attached is None or attached.document.context_free
        )
        key: tuple[object, ...] = ()
        if cacheable:
            key = (principal.arn, principal.access_key, generation, id(attached), action, resource)
            hit = self._cache.get(key)
            if hit is not None:
                return hit[0]
        decision = self._evaluate(principal, action, resource, context, documents, attached)
        if cacheable:
            if len(self._cache) >= CACHE_ENTRIES_MAX:
                self._cache.clear()
            self._cache[key] = (decision, attached)
        return decision

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Callable[[], Context],
        documents: Sequence[PolicyDocument],
        attached: ResourcePolicy | None,
    ) -> Decision:
        lookup = LazyContext(context, principal, self.tags(principal), self.now_s)
        identity = evaluate(documents, principal, action, resource, lookup)
        if identity is Outcome.DENY:
            return Decision.EXPLICIT_DENY
        by_resource = Outcome.NONE
        if attached is not None:
            allows = not (attached.restrict_public and principal.anonymous)
            by_resource = evaluate(
                (attached.document,), principal, action, resource, lookup, allows=allows
            )
            if by_resource is Outcome.DENY:
                return Decision.EXPLICIT_DENY_RESOURCE
        if Outcome.ALLOW in (identity, by_resource):
            return Decision.ALLOW
        return Decision.IMPLICIT_DENY
