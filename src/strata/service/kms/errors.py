"""KMS's errors, each named by its AWS code in ``api/kms/errors.py``.

Messages are AWS's where it is known what they are (``Key '<arn>' does not exist``,
``<arn> is disabled.``, ``<arn> is pending deletion.``); the client sees them as they are.
"""

from __future__ import annotations

from strata.errors import StrataError


class KmsError(StrataError):
    """Base of the key service's errors."""


class KeyNotFound(KmsError):
    """No key (or alias) by that id, alias or ARN: NotFoundException."""


class KeyDisabled(KmsError):
    """The key is disabled: DisabledException."""


class KeyInvalidState(KmsError):
    """The key's state does not allow the operation (pending deletion): KMSInvalidStateException."""


class InvalidCiphertext(KmsError):
    """The blob is not ours, damaged, or its encryption context differs: AWS says no more."""

    default_message = ""


class IncorrectKey(KmsError):
    default_message = (
        "The key ID in the request does not identify a CMK that can perform this operation."
    )


class AliasExists(KmsError):
    """AlreadyExistsException."""


class InvalidAliasName(KmsError):
    """InvalidAliasNameException."""


class KmsValidation(KmsError):
    """ValidationException with KMS's own words (not the model's)."""


class UnsupportedOperation(KmsError):
    """UnsupportedOperationException."""


class InvalidMarker(KmsError):
    default_message = "Invalid marker"


class InvalidKeyUsage(KmsError):
    """InvalidKeyUsageException."""


class InvalidArn(KmsError):
    """InvalidArnException."""


class KmsLimitExceeded(KmsError):
    """LimitExceededException."""
