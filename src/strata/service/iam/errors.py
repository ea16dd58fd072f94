"""IAM's and STS's errors, raised by the identity services; ``api/iam/errors.py`` maps
each to its query-protocol code and status."""

from __future__ import annotations

from strata.errors import StrataError


class IamError(StrataError):
    """Base of IAM's client errors."""


class NoSuchEntity(IamError):
    default_message = (
        "The request was rejected because it referenced an entity that does not exist."
    )


class EntityAlreadyExists(IamError):
    pass


class DeleteConflict(IamError):
    pass


class LimitExceeded(IamError):
    pass


class MalformedPolicyDocument(IamError):
    default_message = "Syntax errors in policy."


class InvalidInput(IamError):
    pass


class IamValidationError(IamError):
    """A parameter fails the model's constraints (AWS's ``ValidationError``)."""


class StsAccessDenied(IamError):
    """AssumeRole refused by the role's trust policy (STS ``AccessDenied``, 403)."""


class NotModifiable(IamError):
    """A change to an AWS managed policy: AWS answers AccessDenied (403)."""


class StsInvalidParameter(IamError):
    """An AssumeRole parameter STS refuses (session tags): ``InvalidParameterValue``, 400."""


class PackedPolicyTooLarge(IamError):
    """The session policies and tags together exceed the packed limit (400)."""
