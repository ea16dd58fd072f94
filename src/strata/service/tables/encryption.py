"""A table's ``SSESpecification`` with the key service: its data key, wrapped by its KMS key.

``Enabled: true`` with ``SSEType: KMS`` (the default type) encrypts the table's item values
(``sealing.py``) with a 256-bit data key of its own, wrapped by the KMS key named by
``KMSMasterKeyId`` (id, alias or ARN; without one the AWS managed ``alias/aws/dynamodb``)
under the encryption context ``aws:dynamodb:tableName`` / ``aws:dynamodb:subscriberId``,
as DynamoDB does. UpdateTable to another KMS key re-wraps the same data key: values stay
as they are. A table never goes back to plain: ``Enabled: false`` means AWS's own key,
which here is the same data key, so DescribeTable shows no SSEDescription as AWS does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from strata.service.tables.errors import ValidationError
from strata.service.tables.sealing import KEYS, new_key_id

if TYPE_CHECKING:
    from strata.service.tables.catalogue import Catalogue
    from strata.service.tables.schema import TableRecord

DATA_KEY_BYTES: Final = 32


class TableKeyProvider(Protocol):
    """The key service as tables need it (``service/kms/table_keys.py``)."""

    def wrap(self, table: str, kms_key: str | None, data_key: bytes) -> tuple[str, bytes]:
        """(the KMS key's ARN, ``data_key`` wrapped by it); ValidationException for a key
        that is missing, disabled or pending deletion."""
        ...

    def unwrap(self, table: str, wrapped: bytes) -> bytes:
        """The data key; raises while its KMS key is disabled or gone."""
        ...


def register(provider: TableKeyProvider, record: TableRecord, now_s: Callable[[], float]) -> None:
    """Make the table's values openable (its key is unwrapped at first use)."""
    wrapped, name = record.sse_wrapped_key, record.name
    KEYS.register(record.sse_key_id, lambda: provider.unwrap(name, wrapped), now_s)


def sse_changes(
    tables: Catalogue, name: str, spec: dict[str, Any] | None, record: TableRecord | None
) -> dict[str, Any]:
    """The record fields ``spec`` sets: ``sse`` (DescribeTable's SSEDescription), and for
    KMS the data key's id and wrapped form."""
    from strata.service.tables.specs import parse_sse  # specs imports the catalogue

    provider = tables.table_keys
    enabled = bool(spec and spec.get("Enabled"))
    if spec and spec.get("KMSMasterKeyId") and (spec.get("SSEType") or "KMS") != "KMS":
        raise ValidationError("SSEType KMS is required if KMSMasterKeyId is specified")
    if provider is None or not enabled or (spec or {}).get("SSEType", "KMS") != "KMS":
        return {"sse": parse_sse(spec, tables.region)}
    assert spec is not None
    kms_key = spec.get("KMSMasterKeyId")
    if record is not None and record.sse_key_id:
        data_key = provider.unwrap(record.name, record.sse_wrapped_key)
        key_id = record.sse_key_id
    else:
        data_key, key_id = os.urandom(DATA_KEY_BYTES), new_key_id()
    arn, wrapped = provider.wrap(name, kms_key, data_key)
    KEYS.register(key_id, lambda: provider.unwrap(name, wrapped), tables.store.clock.now_s)
    return {
        "sse": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": arn},
        "sse_key_id": key_id,
        "sse_wrapped_key": wrapped,
    }
