"""The real ``Decider``: a principal's identity policies and the resource's policy, evaluated
as AWS does within one account, with decisions cached where the request cannot change them.

A decision is a function of the principal, its identity policies (their generation), the
resource's policy, the action, the resource and the values of the context keys those
policies read (``PolicyDocument.context_keys``: condition keys and policy variables). It is
cached under exactly that: with no key read (no condition, no variable) the context is
never built and the next identical request costs one dict lookup; otherwise the keys'
values (source IP, prefix, the current second, ...) are part of the cache key, so a
request that differs in any of them is evaluated afresh on the compiled documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from strata.service.iam.access import Context, Decision
from strata.service.iam.identities import IdentityPolicies
from strata.service.iam.policy.document import (
    CURRENT_VERSION,
    PolicyDocument,
    statement_context_keys,
)
from strata.service.iam.policy.evaluation import (
    LazyContext,
    Outcome,
    evaluate,
    principal_context,
)
from strata.service.iam.policy.patterns import ContextValue
from strata.service.iam.principal import Principal

CACHE_ENTRIES_MAX: Final = 65_536  # then the cache starts over: bounded memory


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    document: PolicyDocument
    # S3 RestrictPublicBuckets on a bucket whose policy is public: only same-account
    # principals get in, so the policy's Allow statements do not count for anonymous callers.
    restrict_public: bool = False
    # it has a Deny statement: the account's root user is checked against it (decide_root)
    denies: bool = False


class ResourcePolicies(Protocol):
    """The policy attached to a resource (a bucket, a table), or None (not its resource)."""

    def policy_for(self, resource: str) -> ResourcePolicy | None: ...


def _no_tags(principal: Principal) -> Mapping[str, str]:
    return {}


def _no_context(key: str) -> None:
    return None


def _keys_for_action(document: PolicyDocument, action: str) -> set[str]:
    """Keys of the statements whose Action/NotAction admits ``action`` (actions never hold
    variables, so this needs no request)."""
    if not document.context_keys:
        return set()
    variables = document.version == CURRENT_VERSION
    read: set[str] = set()
    for statement in document.statements:
        if statement.actions.matches(action, _no_context) != statement.not_action:
            read.update(statement_context_keys(statement, variables))
    return read


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
        self._reads: dict[
            tuple[int, int, str],
            tuple[tuple[str, ...], Sequence[PolicyDocument], ResourcePolicy | None],
        ] = {}
        self._principals: dict[tuple[str, str | None, int], Mapping[str, ContextValue]] = {}

    def _keys_read(
        self, documents: Sequence[PolicyDocument], attached: ResourcePolicy | None, action: str
    ) -> tuple[str, ...]:
        """The context keys the statements that name ``action`` read, in a fixed order; kept
        per list of documents and action (the lists and resource policies are themselves
        kept until they change). A statement for other actions never applies, whatever the
        request, so its keys (``s3:prefix`` for ListBucket, the time...) stay out of the key."""
        key = (id(documents), id(attached), action)
        found = self._reads.get(key)
        if found is None or found[1] is not documents or found[2] is not attached:
            read: set[str] = set()
            for document in documents:
                read.update(_keys_for_action(document, action))
            if attached is not None:
                read.update(_keys_for_action(attached.document, action))
            if len(self._reads) >= CACHE_ENTRIES_MAX:
                self._reads.clear()
            found = self._reads[key] = (tuple(sorted(read)), documents, attached)
        return found[0]

    def _principal_part(self, principal: Principal, generation: int) -> Mapping[str, ContextValue]:
        """The caller's condition keys (lower-cased), kept per principal and generation."""
        key = (principal.arn, principal.access_key, generation)
        found = self._principals.get(key)
        if found is None:
            context = principal_context(principal, self.tags(principal))
            found = {name.lower(): value for name, value in context.items()}
            if len(self._principals) >= CACHE_ENTRIES_MAX:
                self._principals.clear()
            self._principals[key] = found
        return found

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
        lookup = LazyContext(
            context, lambda: self._principal_part(principal, generation), self.now_s
        )
        # the context keys the applicable policies read (conditions, variables): their
        # values join the cache key, so a decision is reused only where nothing it depends
        # on differs; with none (context_free), the context is never built
        keys = self._keys_read(documents, attached, action)
        values = lookup.values_of(keys) if keys else ()
        key = (
            principal.arn,
            principal.access_key,
            generation,
            id(attached),
            action,
            resource,
            values,
        )
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        decision = self._evaluate(principal, action, resource, lookup, documents, attached)
        if len(self._cache) >= CACHE_ENTRIES_MAX:
            self._cache.clear()
        self._cache[key] = (decision, attached)
        return decision

    def decide_root(
        self, principal: Principal, action: str, resource: str, context: Callable[[], Context]
    ) -> Decision:
        """The account's root user has no identity policies and is never implicitly denied;
        an explicit Deny in the resource's policy stops it all the same (S3 documents it for
        bucket policies, sparing only the three bucket-policy actions: the caller's)."""
        attached = self.resource_policy(resource)
        if attached is None or not attached.denies:
            return Decision.ALLOW
        lookup = LazyContext(context, lambda: self._principal_part(principal, 0), self.now_s)
        found = evaluate((attached.document,), principal, action, resource, lookup, allows=False)
        return Decision.EXPLICIT_DENY_RESOURCE if found is Outcome.DENY else Decision.ALLOW

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        resource: str,
        lookup: LazyContext,
        documents: Sequence[PolicyDocument],
        attached: ResourcePolicy | None,
    ) -> Decision:
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
