"""Table-service errors beyond validation and conditions (those live in ``errors.py``).

Tree (under ``errors.TablesError``)::

    ResourceNotFound              table or index missing -> ResourceNotFoundException
    ResourceInUse                 table exists / is busy -> ResourceInUseException
    LimitExceeded                 too many tables or index changes -> LimitExceededException
    ItemCollectionSizeLimitExceeded  an LSI item collection would pass 10 GB
    TransactionCanceled           some action of a transaction failed; carries the reasons
    TransactionConflict           another transaction holds the item
    IdempotentParameterMismatch   same ClientRequestToken, different request
    DuplicateItem                 (internal) two actions on one item -> ValidationException
    DuplicateItemExists           a PartiQL INSERT on a key in use -> DuplicateItemException
    ExpiredIterator               a Streams shard iterator older than 15 minutes
    TrimmedDataAccess             a Streams read behind the retention trim point
    InvalidRestoreTime            a PITR restore time outside the window

``api/dynamodb/errors.py`` maps each to AWS's code and status.
"""

from __future__ import annotations

from typing import Any

from strata.service.tables.errors import TablesError, ValidationError


class ResourceNotFound(TablesError):
    default_message = "Requested resource not found"


class ResourceInUse(TablesError):
    default_message = "Resource in use"


class LimitExceeded(TablesError):
    default_message = "Limit exceeded"


class ItemCollectionSizeLimitExceeded(TablesError):
    default_message = "Item collection size limit exceeded"


class ExpiredIterator(TablesError):
    default_message = "Iterator expired"


class TrimmedDataAccess(TablesError):
    default_message = "The data you are trying to access has been trimmed."


class TransactionConflict(TablesError):
    default_message = "Transaction is ongoing for the item"


class IdempotentParameterMismatch(TablesError):
    default_message = "Request token is already used in a transaction with different parameters"


class TransactionCanceled(TablesError):
    """``reasons``: one ``{"Code": ...}`` per action, in request order."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        self.reasons = reasons
        codes = ", ".join(r.get("Code", "None") for r in reasons)
        super().__init__(
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]"
        )

    def document_fields(self) -> dict[str, Any]:
        return {"CancellationReasons": self.reasons}


class DuplicateItem(ValidationError):
    pass


class DuplicateItemExists(TablesError):
    default_message = "Duplicate primary key exists in table"


class InvalidRestoreTime(TablesError):
    default_message = (
        "An invalid restore time was specified. RestoreDateTime must be between "
        "EarliestRestorableDateTime and LatestRestorableDateTime."
    )
