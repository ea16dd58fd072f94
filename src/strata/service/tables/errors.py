"""Domain errors of the table service; ``api/dynamodb/errors.py`` maps them to AWS codes.

Tree (under ``strata.errors.StrataError``)::

    TablesError                 base of every table-service error
      ValidationError           bad input -> ValidationException (400); the message is AWS's
      SerializationError        a value that cannot be decoded -> SerializationException (400)
      ConditionalCheckFailed    condition evaluated false -> ConditionalCheckFailedException
                                (400); carries the current item for
                                ReturnValuesOnConditionCheckFailure

The engineer who builds the table service adds ResourceNotFound, ResourceInUse,
TransactionCanceled, ... here, under ``TablesError``, and keeps this tree current.
"""

from __future__ import annotations

from typing import Any

from strata.errors import StrataError


class TablesError(StrataError):
    """Base of the table service's errors, so the protocol table can catch them as one."""


class ValidationError(TablesError):
    """The request is invalid; the message is exactly the one AWS gives."""

    default_message = "One or more parameter values were invalid"


class SerializationError(TablesError):
    """A value has the wrong JSON shape or cannot be decoded (bad base64, wrong type)."""

    default_message = "Unable to deserialize the request"


class ConditionalCheckFailed(TablesError):
    """A ConditionExpression was false; ``item`` is the item as it stands, if asked for."""

    default_message = "The conditional request failed"

    def __init__(
        self, message: str | None = None, item: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.item = item
        super().__init__(message)
