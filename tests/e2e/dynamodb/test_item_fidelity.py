"""Item writes, batches and transactions: AWS's codes and words (second fidelity pass)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.dynamodb.conftest import error_of


def test_transaction_validation_error_depends_on_the_item(dynamodb: Any, table: str) -> None:
    """An error that only the stored item reveals cancels the transaction (ValidationError)."""
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"S": "text"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "c"}, "sk": {"S": "d"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert error_of(caught) == (
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError]",
    )
    assert caught.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "An operand in the update expression has an incorrect data type",
        },
    ]
    assert "Item" not in dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "c"}, "sk": {"S": "d"}}
    )
