"""The policy engine: documents parsed and compiled once (``document.py``), conditions
(``conditions.py``), wildcards and variables (``patterns.py``), evaluation
(``evaluation.py``) and the ``Decider`` that answers ``AccessControl`` (``decider.py``)."""

from strata.service.iam.policy.document import (
    PolicyDocument,
    PolicyKind,
    Principals,
    Statement,
    parse_policy,
)
from strata.service.iam.policy.errors import MalformedPolicyDocument, Reason

__all__ = [
    "MalformedPolicyDocument",
    "PolicyDocument",
    "PolicyKind",
    "Principals",
    "Reason",
    "Statement",
    "parse_policy",
]
