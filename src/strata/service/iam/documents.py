"""Policy documents as IAM accepts them on a write (CreatePolicy, Put*Policy, CreateRole).

IAM refuses a document that is not a policy with ``MalformedPolicyDocument`` and stores
the text as given (GetPolicyVersion returns it as sent). The full grammar and its messages
are the policy engine's (``service/iam/policy``); here the shape every policy must have.
"""

from __future__ import annotations

import json
from typing import Any

from strata.service.iam.errors import MalformedPolicyDocument

_VERSIONS = ("2012-10-17", "2008-10-17")


def check_policy(text: str, *, trust: bool = False) -> None:
    """Raise ``MalformedPolicyDocument`` unless ``text`` is a JSON policy with statements.

    ``trust``: a role's trust policy, a resource policy whose statements name a Principal."""
    try:
        document: Any = json.loads(text)
    except ValueError:
        raise MalformedPolicyDocument("This policy contains invalid Json")
    if not isinstance(document, dict):
        raise MalformedPolicyDocument("This policy contains invalid Json")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise MalformedPolicyDocument("The policy must contain a valid version string")
    statements = document.get("Statement")
    if statements is None:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    for statement in statements:
        if not isinstance(statement, dict):
            raise MalformedPolicyDocument("Syntax errors in policy.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicyDocument("Syntax errors in policy.")
        if "Action" not in statement and "NotAction" not in statement:
            raise MalformedPolicyDocument("Policy statement must contain actions.")
        if trust:
            if "Principal" not in statement and "NotPrincipal" not in statement:
                raise MalformedPolicyDocument("Missing required field Principal")
            if "Resource" in statement or "NotResource" in statement:
                raise MalformedPolicyDocument("Has prohibited field Resource")
        else:
            if "Principal" in statement or "NotPrincipal" in statement:
                raise MalformedPolicyDocument("Policy document should not specify a principal.")
            if "Resource" not in statement and "NotResource" not in statement:
                raise MalformedPolicyDocument("Policy statement must contain resources.")
