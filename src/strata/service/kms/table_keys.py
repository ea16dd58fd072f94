"""The key service as DynamoDB tables use it (``service/tables/encryption.py``): a table's
data key wrapped by its KMS key, under DynamoDB's encryption context."""

from __future__ import annotations

from strata.service.kms.errors import KmsError
from strata.service.kms.keys import KeyService
from strata.service.tables.errors import ValidationError

DEFAULT_KEY = "alias/aws/dynamodb"
INVOKED_BY = "dynamodb.amazonaws.com"


class KmsTableKeys:
    def __init__(self, keys: KeyService) -> None:
        self.keys = keys

    def _context(self, table: str) -> dict[str, str]:
        return {"aws:dynamodb:tableName": table, "aws:dynamodb:subscriberId": self.keys.account_id}

    def wrap(self, table: str, kms_key: str | None, data_key: bytes) -> tuple[str, bytes]:
        try:
            _, record = self.keys.resolve_now(kms_key or DEFAULT_KEY)
            wrapped = self.keys.encrypt_now(record, data_key, self._context(table))
        except KmsError as exc:
            # DynamoDB refuses a table whose key it cannot use; the words here are Strata's.
            raise ValidationError(f"KMSMasterKeyId {kms_key} cannot be used: {exc.message}")
        self.keys.used("GenerateDataKey", record, INVOKED_BY)
        return self.keys.key_arn(record.key_id), wrapped

    def unwrap(self, table: str, wrapped: bytes) -> bytes:
        try:
            data_key, record = self.keys.decrypt(wrapped, self._context(table))
        except KmsError as exc:
            raise ValidationError(
                f"The table's KMS key is not accessible (table {table}): {exc.message}"
            ) from None
        self.keys.used("Decrypt", record, INVOKED_BY)
        return data_key
