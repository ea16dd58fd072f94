"""``compile_request`` keeps what a request compiled to: a repeat gets the same answer."""

from __future__ import annotations

from typing import Any

import pytest

from strata.service.tables import exprs
from strata.service.tables.errors import SerializationError, ValidationError


def _update(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "UpdateExpression": "SET #a = :v",
        "ExpressionAttributeNames": {"#a": "a"},
        "ExpressionAttributeValues": values,
    }


def test_repeat_is_served_from_the_cache() -> None:
    first = exprs.compile_request(_update({":v": {"N": "1"}}), condition=True, update=True)
    again = exprs.compile_request(_update({":v": {"N": "1"}}), condition=True, update=True)
    assert again is first
    other = exprs.compile_request(_update({":v": {"N": "2"}}), condition=True, update=True)
    assert other is not first
    assert other.update is not None
    assert other.update.apply({}).item == {"a": {"N": "2"}}


def test_bool_and_integer_do_not_share_an_entry() -> None:
    exprs.compile_request(_update({":v": {"BOOL": True}}), condition=True, update=True)
    with pytest.raises(SerializationError, match="Unexpected value type: int"):
        exprs.compile_request(_update({":v": {"BOOL": 1}}), condition=True, update=True)


def test_errors_are_raised_every_time() -> None:
    req = _update({":v": {"N": "1"}, ":unused": {"S": "x"}})
    for _ in range(2):
        with pytest.raises(ValidationError, match="unused in expressions"):
            exprs.compile_request(req, condition=True, update=True)


def test_operations_do_not_share_an_entry() -> None:
    req = {"ProjectionExpression": "a, b"}
    assert exprs.compile_request(req, projection=True).projection is not None
    # UpdateItem has no ProjectionExpression: not GetItem's answer
    assert exprs.compile_request(req, update=True).projection is None


def test_lists_are_not_cached_but_still_compile() -> None:
    req = _update({":v": {"L": [{"S": "x"}]}})
    first = exprs.compile_request(req, condition=True, update=True)
    assert exprs.compile_request(req, condition=True, update=True) is not first
