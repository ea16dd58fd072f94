"""Lifecycle preview: what a candidate configuration would do to a bucket, and what the
bucket's storage would cost a month before and after.

Nothing is changed: the bucket's versions are read once (one range scan, paced by
nothing: a preview is an operator's request), and each version is asked the lifecycle
rules' own questions (``lifecycle/rules.py``: the engine's answers, so a preview never
disagrees with what the engine would do). Every action due within ``horizon_days`` is
listed in time order (at most ``actions_max``; the counts cover all). "After" is the
monthly storage cost once every action in the horizon has happened; the one-time cost is
the transition requests (billed at the target class's PUT price) and the early-deletion
charges the actions would incur.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from strata.service.cost.prices import DAY_S, GB, MINIMUM_DAYS, MONTH_DAYS, Prices
from strata.service.objects.lifecycle import rules
from strata.service.objects.lifecycle.rules import Due, LifecycleConfiguration
from strata.service.objects.records import bucket_key, decode_object_key
from strata.storage import keys, records, spaces
from strata.storage.store import Store

DAY_MS: Final = 86_400_000


class _Version(msgspec.Struct, frozen=True):
    """What the preview reads of a stored version (its bytes are never read)."""

    version_id: str
    last_modified_ms: int
    delete_marker: bool = False
    size_bytes: int = 0
    tags: list[tuple[str, str]] = []
    storage_class: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class Action:
    at_ms: int
    key: str
    version_id: str
    size_bytes: int
    action: str  # "transition", "expire" (current), "expire-noncurrent"
    from_class: str
    to_class: str
    rule_id: str


@dataclass(slots=True)
class _Outcome:
    """A version's class (or None: removed) once the horizon is reached, and its actions."""

    final_class: str | None
    actions: list[Action]


def _iso(at_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(at_ms / 1000, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _walk(
    key: str,
    version: _Version,
    moves: list[Due],
    expiry: Due | None,
    until_ms: int,
    expire_action: str,
) -> _Outcome:
    """Apply a version's due moves (coldest-so-far only, as the engine does) and its
    expiry, in time order, up to ``until_ms``."""
    cls = version.storage_class
    actions: list[Action] = []
    for due in moves:
        if due.at_ms > until_ms or (expiry is not None and due.at_ms >= expiry.at_ms):
            continue
        if rules.CLASS_RANK[due.storage_class] <= rules.CLASS_RANK.get(cls, 0):
            continue
        actions.append(
            Action(
                due.at_ms,
                key,
                version.version_id,
                version.size_bytes,
                "transition",
                cls,
                due.storage_class,
                due.rule_id,
            )
        )
        cls = due.storage_class
    if expiry is not None and expiry.at_ms <= until_ms:
        actions.append(
            Action(
                expiry.at_ms,
                key,
                version.version_id,
                version.size_bytes,
                expire_action,
                cls,
                "",
                expiry.rule_id,
            )
        )
        return _Outcome(None, actions)
    return _Outcome(cls, actions)


def _key_outcomes(
    config: LifecycleConfiguration,
    key: str,
    versions: list[_Version],
    versioned: bool,
    until_ms: int,
) -> list[tuple[_Version, _Outcome]]:
    out: list[tuple[_Version, _Outcome]] = []
    current = versions[0]
    if not current.delete_marker:
        expiry = rules.expiration(
            config, key, current.tags, current.size_bytes, current.last_modified_ms
        )
        moves = rules.transitions(
            config, key, current.tags, current.size_bytes, current.last_modified_ms
        )
        # In a versioned bucket expiry adds a delete marker: the bytes stay, noncurrent.
        action = "expire" if not versioned else "expire-to-noncurrent"
        outcome = _walk(key, current, moves, expiry, until_ms, action)
        if versioned and outcome.final_class is None:
            outcome.final_class = outcome.actions[-1].from_class
        out.append((current, outcome))
    for index, version in enumerate(versions[1:], start=1):
        if version.delete_marker:
            continue
        since_ms = versions[index - 1].last_modified_ms
        newer = index - 1
        expiry = rules.noncurrent_expiration(
            config, key, version.tags, version.size_bytes, since_ms, newer
        )
        moves = rules.noncurrent_transitions(
            config, key, version.tags, version.size_bytes, since_ms, newer
        )
        out.append((version, _walk(key, version, moves, expiry, until_ms, "expire-noncurrent")))
    return out


def _monthly(prices: Prices, by_class: dict[str, int]) -> float:
    return sum(size / GB * prices.storage(cls) for cls, size in by_class.items())


def preview(
    store: Store,
    prices: Prices,
    bucket: str,
    versioned: bool,
    config: LifecycleConfiguration,
    now_ms: int,
    horizon_days: int,
    actions_max: int,
) -> dict[str, Any]:
    until_ms = now_ms + horizon_days * DAY_MS
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    actions: list[Action] = []
    counts: dict[str, int] = {}
    versions_read = 0
    transition_requests = 0.0
    early = 0.0
    prefix = bucket_key(bucket)
    pending_key: str | None = None
    pending: list[_Version] = []

    def settle(key: str, group: list[_Version]) -> None:
        nonlocal transition_requests, early
        for version, outcome in _key_outcomes(config, key, group, versioned, until_ms):
            size = version.size_bytes
            before[version.storage_class] = before.get(version.storage_class, 0) + size
            if outcome.final_class is not None:
                after[outcome.final_class] = after.get(outcome.final_class, 0) + size
            entered_ms = version.last_modified_ms
            for action in outcome.actions:
                counts[action.action] = counts.get(action.action, 0) + 1
                if action.action == "transition":
                    transition_requests += prices.request("tier1", action.to_class) / 1000
                early += _early_charge(prices, action, entered_ms)
                entered_ms = action.at_ms
                if len(actions) < actions_max:
                    actions.append(action)

    for raw_key, value in store.scan(spaces.OBJECTS, prefix, keys.prefix_end(prefix)):
        _, key, _ = decode_object_key(raw_key)
        if key != pending_key and pending_key is not None:
            settle(pending_key, pending)
            pending = []
        pending_key = key
        pending.append(records.decode(value, _Version))
        versions_read += 1
    if pending_key is not None:
        settle(pending_key, pending)
    actions.sort(key=lambda a: (a.at_ms, a.key))
    return {
        "bucket": bucket,
        "currency": "USD",
        "now": _iso(now_ms),
        "horizon_days": horizon_days,
        "versions": versions_read,
        "counts": counts,
        "actions": [
            {
                "at": _iso(a.at_ms),
                "key": a.key,
                "version_id": a.version_id,
                "size_bytes": a.size_bytes,
                "action": a.action,
                "from_class": a.from_class,
                "to_class": a.to_class or None,
                "rule_id": a.rule_id,
            }
            for a in actions
        ],
        "actions_truncated": sum(counts.values()) > len(actions),
        "bytes_before": before,
        "bytes_after": after,
        "monthly_storage_usd": {
            "before": _monthly(prices, before),
            "after": _monthly(prices, after),
        },
        "one_time_usd": {"transition_requests": transition_requests, "early_deletion": early},
    }


def _early_charge(prices: Prices, action: Action, entered_ms: int) -> float:
    """What leaving ``from_class`` at the action's time costs before its minimum days."""
    if action.action == "expire-to-noncurrent":
        return 0.0  # a delete marker: the bytes stay where they are
    minimum_days = MINIMUM_DAYS.get(action.from_class)
    if minimum_days is None:
        return 0.0
    owed_s = minimum_days * DAY_S - (action.at_ms - entered_ms) / 1000
    if owed_s <= 0:
        return 0.0
    return (
        action.size_bytes / GB * owed_s / (MONTH_DAYS * DAY_S) * prices.storage(action.from_class)
    )
