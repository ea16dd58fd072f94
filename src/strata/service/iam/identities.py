"""The identity side of a policy decision: which policies apply to a principal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from strata.service.iam.directory import Directory
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.policy import PolicyDocument, parse_policy
from strata.service.iam.principal import Principal
from strata.service.iam.records import GroupRecord, RoleRecord, UserRecord

PARSED_MAX: Final = 4096  # documents (and principals' lists) kept parsed; then start over


class IdentityPolicies(Protocol):
    def policies_for(self, principal: Principal) -> tuple[int, Sequence[PolicyDocument]]:
        """(generation, the principal's identity policies). The generation changes on any
        IAM write, so a decision cached under one is never reused after a change."""
        ...


class DirectoryPolicies:
    """``IdentityPolicies`` over the IAM directory: a user's inline and attached policies
    and its groups'; an assumed role's inline and attached policies. Documents are parsed
    once per text and each principal's list once per directory generation.

    A session policy (AssumeRole's ``Policy``) narrows a session rather than adding to it,
    so it is not in this list: ``session_policies`` gives them to the evaluation to intersect.
    """

    def __init__(self, directory: Directory, managed: ManagedPolicies) -> None:
        self.directory = directory
        self.managed = managed
        self._parsed: dict[str, PolicyDocument] = {}
        self._lists: dict[tuple[str, str | None], Sequence[PolicyDocument]] = {}
        self._generation = -1

    def _document(self, text: str) -> PolicyDocument:
        found = self._parsed.get(text)
        if found is None:
            if len(self._parsed) >= PARSED_MAX:
                self._parsed.clear()
            found = self._parsed[text] = parse_policy(text)
        return found

    def _texts(self, principal: Principal) -> list[str]:
        holders: list[UserRecord | GroupRecord | RoleRecord] = []
        if principal.role_name is not None:
            role = self.directory.role(principal.role_name)
            holders = [role] if role is not None else []
        elif principal.user_name is not None:
            user = self.directory.user(principal.user_name)
            if user is not None:
                holders = [user, *self.directory.groups_of(user.name)]
        texts: list[str] = []
        for holder in holders:
            texts.extend(holder.inline.values())
            for arn in holder.attached:
                policy = self.managed.find(arn)
                if policy is not None:
                    texts.append(policy.default_document)
        return texts

    def policies_for(self, principal: Principal) -> tuple[int, Sequence[PolicyDocument]]:
        generation = self.directory.generation
        if generation != self._generation:
            self._lists = {}
            self._generation = generation
        key = (principal.arn, principal.access_key)
        found = self._lists.get(key)
        if found is None:
            found = tuple(self._document(text) for text in self._texts(principal))
            if len(self._lists) >= PARSED_MAX:
                self._lists.clear()
            self._lists[key] = found
        return generation, found

    def session_policies(self, principal: Principal) -> tuple[PolicyDocument, ...] | None:
        """An assumed-role session's session policies (AssumeRole's ``Policy`` and
        ``PolicyArns``), or None if it was issued without any. A managed policy deleted
        since grants nothing, and still narrows the session."""
        if principal.access_key is None or principal.role_name is None:
            return None
        session = self.directory.session(principal.access_key)
        if session is None or (session.session_policy is None and not session.policy_arns):
            return None
        documents = [] if session.session_policy is None else [session.session_policy]
        for arn in session.policy_arns:
            policy = self.managed.find(arn)
            if policy is not None:
                documents.append(policy.default_document)
        return tuple(self._document(text) for text in documents)

    def tags(self, principal: Principal) -> Mapping[str, str]:
        """``aws:PrincipalTag/<key>``: the user's tags, or the assumed role's."""
        holder: UserRecord | RoleRecord | None = None
        if principal.role_name is not None:
            holder = self.directory.role(principal.role_name)
        elif principal.user_name is not None:
            holder = self.directory.user(principal.user_name)
        tags = dict(holder.tags) if holder is not None else {}
        session = (
            self.directory.session(principal.access_key)
            if principal.role_name is not None and principal.access_key is not None
            else None
        )
        if session is not None and session.tags:  # session tags win over the role's
            folded = {key.lower(): key for key in tags}
            for key, value in session.tags:
                tags.pop(folded.get(key.lower(), key), None)
                tags[key] = value
        return tags
