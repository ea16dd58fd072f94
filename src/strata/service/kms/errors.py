"""KMS's errors, each named by its AWS code in ``api/kms/errors.py``.

Messages are AWS's where it is known what they are (``Key '<arn>' does not exist``,
``<arn> is disabled.``, ``<arn> is pending deletion.``); the client sees them as they are.
"""

from __future__ import annotations

from typing import Final

from strata.errors import ProtocolError, StrataError


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


# Each error's AWS code: KMS answers it as is (400), S3 as ``KMS.<code>`` (``as_s3_error``).
AWS_CODES: Final[dict[type[KmsError], str]] = {
    KeyNotFound: "NotFoundException",
    KeyDisabled: "DisabledException",
    KeyInvalidState: "KMSInvalidStateException",
    InvalidCiphertext: "InvalidCiphertextException",
    IncorrectKey: "IncorrectKeyException",
    AliasExists: "AlreadyExistsException",
    InvalidAliasName: "InvalidAliasNameException",
    KmsValidation: "ValidationException",
    UnsupportedOperation: "UnsupportedOperationException",
    InvalidMarker: "InvalidMarkerException",
    InvalidKeyUsage: "InvalidKeyUsageException",
    InvalidArn: "InvalidArnException",
    KmsLimitExceeded: "LimitExceededException",
}


def as_s3_error(exc: KmsError) -> ProtocolError:
    """The error S3 answers when the key service refused it (``KMS.DisabledException``,
    400, with KMS's message), as S3 passes KMS's errors on."""
    code = next((AWS_CODES[c] for c in type(exc).__mro__ if c in AWS_CODES), "KMSInternalException")
    return ProtocolError(f"KMS.{code}", exc.message, 400)
