"""The audit trail over a real store: order, filters, paging by key, retention trim."""

from __future__ import annotations

import asyncio
from pathlib import Path

from strata.service.audit.entries import Entry, cloudtrail_event
from strata.service.audit.trail import AuditTrail, Filters
from strata.storage.clock import ManualClock
from strata.storage.store import LocalStore

DAY_S = 86_400


def _entry(clock: ManualClock, operation: str, resource: str = "b/k", **fields: object) -> Entry:
    values: dict[str, object] = {
        "time_ms": int(clock.now_s() * 1000),
        "request_id": f"R{operation}{clock.now_s()}",
        "source": "s3",
        "operation": operation,
        "principal_arn": "arn:aws:iam::000000000000:root",
        "principal_id": "000000000000",
        "account_id": "000000000000",
        "access_key": "AKIA0",
        "user_name": None,
        "client_ip": "127.0.0.1",
        "user_agent": "test",
        "resource": resource,
        "host": "localhost",
        "status": 200,
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def test_read_is_newest_first_filtered_and_resumable(tmp_path: Path) -> None:
    clock = ManualClock(1_800_000_000.0)
    store = LocalStore(str(tmp_path / "db"), clock)
    trail = AuditTrail(store, clock, retention_days=90, flush_interval_s=0.2)
    names = []
    for day in range(3):
        for n in range(4):
            operation = f"Op{day}{n}"
            names.append(operation)
            trail.add(_entry(clock, operation, error_code="NoSuchKey" if n == 3 else None))
            clock.advance(60)
        clock.advance(DAY_S)
    asyncio.run(trail.flush())
    every = [e.operation for _, e in trail.read(Filters())]
    assert every == names[::-1]
    errors = [e.operation for _, e in trail.read(Filters(error="*"))]
    assert errors == ["Op23", "Op13", "Op03"]
    page = list(trail.read(Filters()))[:5]
    rest = [e.operation for _, e in trail.read(Filters(), after=page[-1][0])]
    assert rest == names[::-1][5:]
    start_ms = int((1_800_000_000.0 + DAY_S + 4 * 60) * 1000)  # the second day's first call
    ranged = [e.operation for _, e in trail.read(Filters(start_ms=start_ms))]
    assert ranged[-1] == "Op10"
    assert len(ranged) == 8
    store.close()


def test_trim_drops_days_past_retention(tmp_path: Path) -> None:
    clock = ManualClock(1_800_000_000.0)
    store = LocalStore(str(tmp_path / "db"), clock)
    trail = AuditTrail(store, clock, retention_days=2, flush_interval_s=0.2)
    trail.add(_entry(clock, "Old"))
    clock.advance(DAY_S)
    trail.add(_entry(clock, "Middle"))
    clock.advance(2 * DAY_S)
    trail.add(_entry(clock, "New"))
    asyncio.run(trail.flush())
    trail.trim_if_due(force=True)
    assert [e.operation for _, e in trail.read(Filters())] == ["New", "Middle"]
    store.close()


def test_cloudtrail_shape_of_anonymous_and_user_calls() -> None:
    clock = ManualClock(1_800_000_000.0)
    anonymous = _entry(clock, "GetObject", principal_arn="*", principal_id="", access_key=None)
    event = cloudtrail_event(anonymous, "us-east-1")
    assert event["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": "",
        "accountId": "anonymous",
    }
    user = _entry(
        clock, "PutItem", "orders", source="dynamodb",
        principal_arn="arn:aws:iam::000000000000:user/alice", principal_id="AIDA1",
        user_name="alice",
    )  # fmt: skip
    event = cloudtrail_event(user, "eu-west-1")
    assert event["userIdentity"]["type"] == "IAMUser"
    assert event["userIdentity"]["userName"] == "alice"
    assert event["eventSource"] == "dynamodb.amazonaws.com"
    assert event["resources"] == [
        {
            "type": "AWS::DynamoDB::Table",
            "ARN": "arn:aws:dynamodb:eu-west-1:000000000000:table/orders",
            "accountId": "000000000000",
        }
    ]
    assert event["eventTime"] == "2027-01-15T08:00:00Z"
    assert "errorCode" not in event
