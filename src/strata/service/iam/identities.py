"""The identity side of a policy decision: which policies apply to a principal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from strata.service.iam.policy import PolicyDocument
from strata.service.iam.principal import Principal


class IdentityPolicies(Protocol):
    def policies_for(self, principal: Principal) -> tuple[int, Sequence[PolicyDocument]]:
        """(generation, the principal's identity policies). The generation changes on any
        IAM write, so a decision cached under one is never reused after a change."""
        ...
