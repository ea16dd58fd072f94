"""STS: temporary credentials for an assumed role (AssumeRole) or for the caller itself
(GetSessionToken), valid until their expiry by the store clock.

Whether a principal may assume a role is the role's trust policy's say, with AWS's rule
for the same account: a statement naming the caller's ARN (or ``*``) grants it by itself;
one naming the account (its root ARN or id) hands the decision to the caller's identity
policies (``sts:AssumeRole`` through ``AccessControl``); an explicit Deny wins.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from strata.service.iam import arns, ids, records
from strata.service.iam.access import AccessControl, AccessDenied
from strata.service.iam.directory import Change, Directory
from strata.service.iam.documents import check_policy
from strata.service.iam.errors import (
    IamValidationError,
    PackedPolicyTooLarge,
    StsAccessDenied,
    StsInvalidParameter,
)
from strata.service.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy
from strata.service.iam.policy.conditions import all_hold
from strata.service.iam.policy.patterns import Lookup
from strata.service.iam.principal import Principal
from strata.service.iam.records import RoleRecord, SessionRecord
from strata.storage.clock import Clock

ROLE_CHAINING_S_MAX: Final = 3600
ROOT_SESSION_S_MAX: Final = 3600
EXPIRED_SWEPT_PER_ISSUE: Final = 64  # expired sessions deleted with each new one


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names_action(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(a in ("*", "sts:*", action) or str(a).lower() == action.lower()
                   for a in _listed(statement["Action"]))  # fmt: skip
    return False


def _trust(
    role: RoleRecord, principal: Principal, names: set[str], action: str, lookup: Lookup
) -> str | None:
    """ "principal" (named), "account" (delegated to identity policies), "deny" or None.

    A statement counts only if its conditions hold for the request (``lookup``:
    ``sts:ExternalId``, ``aws:PrincipalArn``, ...), evaluated by the policy engine."""
    try:
        document = json.loads(role.trust_policy)
        compiled = parse_policy(role.trust_policy, PolicyKind.TRUST).statements
    except (ValueError, MalformedPolicyDocument):
        return None
    account_names = {principal.account_id, f"arn:aws:iam::{principal.account_id}:root"}
    verdict = None
    listed = _listed(document.get("Statement", []))
    for statement, checked in zip(listed, compiled, strict=False):
        if not isinstance(statement, dict) or not _names_action(statement, action):
            continue
        if not all_hold(checked.conditions, lookup):
            continue
        named = statement.get("Principal")
        entries = _listed(named.get("AWS", [])) if isinstance(named, dict) else _listed(named)
        if names & set(entries) or "*" in entries:
            match = "principal"
        elif account_names & set(entries):
            match = "account"
        else:
            continue
        if statement.get("Effect") == "Deny":
            return "deny"
        if statement.get("Effect") == "Allow" and verdict != "principal":
            verdict = match
    return verdict


@dataclass(frozen=True, slots=True)
class SessionExtras:
    """AssumeRole's PolicyArns, Tags, TransitiveTagKeys and SourceIdentity."""

    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None


NO_EXTRAS: Final = SessionExtras()


class Sessions:
    def __init__(
        self, directory: Directory, clock: Clock, account_id: str, access: AccessControl
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.account_id = account_id
        self.access = access

    def _role(self, role_arn: str, principal: Principal) -> RoleRecord:
        prefix = f"arn:aws:iam::{self.account_id}:role/"
        name = role_arn.rsplit("/", 1)[-1] if role_arn.startswith(prefix) else ""
        role = self.directory.role(name) if name else None
        if role is None or role_arn != arns.role_arn(self.account_id, role.path, role.name):
            raise StsAccessDenied(_not_authorized(principal, role_arn))
        return role

    def _names(self, principal: Principal) -> set[str]:
        """The ARNs a trust policy may name the caller by: its own, and for a role's
        session (role chaining) the role's."""
        names = {principal.arn}
        if principal.role_name is not None:
            role = self.directory.role(principal.role_name)
            if role is not None:
                names.add(arns.role_arn(self.account_id, role.path, role.name))
        return names

    async def assume_role(
        self, principal: Principal, role_arn: str, session_name: str, duration_s: int,
        session_policy: str | None, external_id: str | None = None,
        extras: SessionExtras = NO_EXTRAS,
    ) -> tuple[SessionRecord, RoleRecord]:  # fmt: skip
        if principal.root:
            raise StsAccessDenied("Roles may not be assumed by root accounts.")
        role = self._role(role_arn, principal)
        caller = (
            self.directory.session(principal.access_key)
            if principal.role_name is not None and principal.access_key is not None
            else None
        )
        tags, transitive, source_identity = session_tags(caller, extras)
        now_s = self.clock.now_s()
        context: dict[str, str] = {
            "aws:principalarn": principal.arn,
            "aws:principalaccount": principal.account_id,
            "aws:userid": principal.user_id,
            "aws:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_s)),
            "aws:epochtime": str(int(now_s)),
            "sts:rolesessionname": session_name,
        }
        if principal.user_name:
            context["aws:username"] = principal.user_name
        if external_id is not None:
            context["sts:externalid"] = external_id
        trust_context: dict[str, str | list[str]] = dict(context)
        for key, value in extras.tags:
            trust_context[f"aws:requesttag/{key.lower()}"] = value
        if extras.tags:
            trust_context["aws:tagkeys"] = [key for key, _ in extras.tags]
        if extras.source_identity is not None:
            trust_context["sts:sourceidentity"] = extras.source_identity
        # AssumeRole, and with session tags sts:TagSession, with a source identity
        # sts:SetSourceIdentity: each must be trusted (AWS's IAM User Guide, session tags)
        wanted = ["sts:AssumeRole"]
        if extras.tags:
            wanted.append("sts:TagSession")
        if extras.source_identity is not None:
            wanted.append("sts:SetSourceIdentity")
        for action in wanted:
            self._check_trust(role, principal, role_arn, action, trust_context)
        if principal.role_name is not None and duration_s > ROLE_CHAINING_S_MAX:
            raise IamValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        if duration_s > role.max_session_s:
            raise IamValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        if session_policy is not None:
            check_policy(session_policy)
        packed_percent(session_policy, extras.policy_arns, tags)  # raises past the limit
        session = SessionRecord(
            ids.access_key_id(ids.SESSION_KEY_PREFIX), ids.secret_access_key(),
            ids.session_token(), self.clock.now_s() + duration_s, role.name, role.role_id,
            session_name, session_policy=session_policy, policy_arns=extras.policy_arns,
            tags=tags, transitive_tag_keys=transitive, source_identity=source_identity,
        )  # fmt: skip
        await self._issue(session)
        return session, role

    def _check_trust(
        self, role: RoleRecord, principal: Principal, role_arn: str, action: str,
        context: dict[str, str | list[str]],
    ) -> None:  # fmt: skip
        verdict = _trust(role, principal, self._names(principal), action, context.get)
        if verdict == "account":
            try:
                self.access.authorize(principal, action, role_arn)
            except AccessDenied:
                verdict = None
        if verdict not in ("principal", "account"):
            raise StsAccessDenied(_not_authorized(principal, role_arn, action))

    async def session_token(self, principal: Principal, duration_s: int) -> SessionRecord:
        if principal.role_name is not None or principal.access_key is None:
            raise StsAccessDenied("Cannot call GetSessionToken with session credentials")
        if principal.access_key.startswith(ids.SESSION_KEY_PREFIX):
            raise StsAccessDenied("Cannot call GetSessionToken with session credentials")
        if principal.root:
            duration_s = min(duration_s, ROOT_SESSION_S_MAX)
        session = SessionRecord(
            ids.access_key_id(ids.SESSION_KEY_PREFIX), ids.secret_access_key(),
            ids.session_token(), self.clock.now_s() + duration_s, "", "", "",
            user_name=principal.user_name or "", root=principal.root,
        )  # fmt: skip
        await self._issue(session)
        return session

    async def _issue(self, session: SessionRecord) -> None:
        now = self.clock.now_s()
        expired = [s for s in self.directory.sessions() if s.expires_s <= now]
        changes: list[Change] = [
            (records.SESSION, s.access_key, None) for s in expired[:EXPIRED_SWEPT_PER_ISSUE]
        ]
        changes.append((records.SESSION, session.access_key, session))
        await self.directory.commit(changes)


def _not_authorized(principal: Principal, role_arn: str, action: str = "sts:AssumeRole") -> str:
    return f"User: {principal.arn} is not authorized to perform: {action} on resource: {role_arn}"


# The packed limit of session policies and tags. AWS compresses them into a binary form
# first; here the plain text counts, so a request near the limit may be refused here
# that AWS would take.
PACKED_BYTES_MAX: Final = 2048


def session_tags(
    caller: SessionRecord | None, extras: SessionExtras
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str | None]:
    """The new session's tags, transitive keys and source identity: the caller's transitive
    tags and source identity carry over a role chain and cannot be replaced."""
    folded = [key.lower() for key, _ in extras.tags]
    if len(set(folded)) != len(folded):
        raise StsInvalidParameter(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        )
    if not {key.lower() for key in extras.transitive_tag_keys} <= set(folded):
        raise StsInvalidParameter(
            "The specified transitive tag key must be included in the requested tags."
        )
    tags = list(extras.tags)
    transitive = list(extras.transitive_tag_keys)
    source_identity = extras.source_identity
    if caller is not None:
        kept = {key.lower() for key in caller.transitive_tag_keys}
        for key, value in caller.tags:
            if key.lower() not in kept:
                continue
            if key.lower() in folded:
                raise StsInvalidParameter(
                    f"The transitive tag key {key} is set by the session that assumes the"
                    " role, and cannot be changed."
                )
            tags.append((key, value))
            transitive.append(key)
        if caller.source_identity is not None:
            if source_identity not in (None, caller.source_identity):
                raise StsInvalidParameter(
                    "The source identity is set by the session that assumes the role, and"
                    " cannot be changed."
                )
            source_identity = caller.source_identity
    return tuple(tags), tuple(transitive), source_identity


def packed_percent(
    policy: str | None, policy_arns: tuple[str, ...], tags: tuple[tuple[str, str], ...]
) -> int:
    """How much of the packed limit the session policies and tags take (PackedPolicySize);
    ``PackedPolicyTooLarge`` past 100, in AWS's words."""
    size = len(_compact(policy)) if policy is not None else 0
    size += sum(len(arn) for arn in policy_arns)
    size += sum(len(key) + len(value) for key, value in tags)
    percent = -(-size * 100 // PACKED_BYTES_MAX)
    if percent > 100:
        raise PackedPolicyTooLarge(
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy"
            " for session."
        )
    return percent


def _compact(policy: str) -> str:
    try:
        return json.dumps(json.loads(policy), separators=(",", ":"))
    except ValueError:
        return policy
