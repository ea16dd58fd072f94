"""Why a policy document is refused. IAM answers ``MalformedPolicyDocument`` (400) with the
message; S3 answers ``MalformedPolicy``, DynamoDB ``ValidationException``, each in its words
for the same ``reason``."""

from __future__ import annotations

from enum import Enum

from strata.service.iam import errors


class Reason(Enum):
    SYNTAX = "syntax"  # not JSON, or not the policy grammar
    VERSION = "version"  # no Version, or one this kind of policy does not take
    LEGACY = "legacy"  # IAM's "The policy failed legacy parsing"
    ACTION = "action"  # an Action that is no "vendor:name"
    RESOURCE = "resource"  # a Resource that is no ARN
    PRINCIPAL = "principal"  # a Principal where none may be, missing, or invalid
    CONDITION = "condition"  # an unknown operator or a value it cannot take
    MISSING = "missing"  # a statement without actions or resources
    SID = "sid"  # duplicate statement ids


class MalformedPolicyDocument(errors.MalformedPolicyDocument):
    """IAM's error (so IAM's table maps it), with the ``reason`` other services word."""

    def __init__(self, message: str, reason: Reason = Reason.SYNTAX) -> None:
        super().__init__(message)
        self.reason = reason
