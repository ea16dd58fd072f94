"""Identifiers as AWS shapes them: unique ids by entity kind, access keys, secrets, tokens."""

from __future__ import annotations

import base64
import secrets
import string
from typing import Final

_UPPER_DIGITS: Final = string.ascii_uppercase + string.digits
_SECRET_ALPHABET: Final = string.ascii_letters + string.digits + "+/"

# AWS's unique-id prefixes: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
USER_PREFIX: Final = "AIDA"
GROUP_PREFIX: Final = "AGPA"
POLICY_PREFIX: Final = "ANPA"
ROLE_PREFIX: Final = "AROA"
ACCESS_KEY_PREFIX: Final = "AKIA"
SESSION_KEY_PREFIX: Final = "ASIA"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def unique_id(prefix: str) -> str:
    """A 21-character id such as ``AIDAJQABLZS4A3QDU576Q``."""
    return prefix + _random(_UPPER_DIGITS, 17)


def access_key_id(prefix: str = ACCESS_KEY_PREFIX) -> str:
    return prefix + _random(_UPPER_DIGITS, 16)


def secret_access_key() -> str:
    return _random(_SECRET_ALPHABET, 40)


def session_token() -> str:
    """An opaque token; only its equality with the issued one matters."""
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(96)).decode()
