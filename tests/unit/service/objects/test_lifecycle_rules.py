"""The lifecycle rule model: when actions fall due, what filters match, which move wins,
and the validation S3 does (the same functions the engine and the cost preview use)."""

from __future__ import annotations

import datetime

import pytest

from strata.errors import ProtocolError
from strata.service.objects.lifecycle import rules
from strata.service.objects.lifecycle.rules import (
    LifecycleConfiguration,
    NoncurrentTransition,
    Rule,
    RuleFilter,
    Transition,
)


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    moment = datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def test_due_is_the_midnight_after_the_age() -> None:
    # S3's example: created 1/15 10:30 UTC, 3 days: due 1/19 00:00 UTC
    assert rules.due_after_days(ms(2026, 1, 15, 10, 30), 3) == ms(2026, 1, 19)
    assert rules.due_after_days(ms(2026, 1, 15, 23, 59), 0) == ms(2026, 1, 16)
    assert rules.due_after_days(ms(2026, 12, 31, 1), 1) == ms(2027, 1, 2)


def test_filters() -> None:
    both = RuleFilter(prefix="a/", tags=[("k", "v"), ("t", "1")], size_greater_than=10,
                      size_less_than=100, form="and")  # fmt: skip
    assert both.matches("a/x", [("k", "v"), ("t", "1"), ("z", "z")], 50)
    assert not both.matches("b/x", [("k", "v"), ("t", "1")], 50)
    assert not both.matches("a/x", [("k", "v")], 50)  # every tag is needed
    assert not both.matches("a/x", [("k", "v"), ("t", "1")], 10)  # strictly greater
    assert not both.matches("a/x", [("k", "v"), ("t", "1")], 100)  # strictly less
    assert not both.matches("a/x", [("k", "v"), ("t", "1")], None)  # a delete marker
    assert RuleFilter(prefix="a/").matches("a/x", [], None)  # markers match a prefix
    assert RuleFilter().matches("anything", [], 0)
    assert both.describe() == (
        "(prefix=a/ and tag={key=k, value=v} and tag={key=t, value=1} and "
        "objectsizegreaterthan=10 and objectsizelessthan=100)"
    )
    assert RuleFilter(prefix="x", form="prefix").describe() == "(prefix=x)"
    assert RuleFilter().describe() == "(prefix=)"


def test_expiration_takes_the_earliest_enabled_rule() -> None:
    config = LifecycleConfiguration(
        [
            Rule("slow", True, RuleFilter(prefix=""), expiration_days=30),
            Rule("fast", True, RuleFilter(prefix="tmp/"), expiration_days=2),
            Rule("off", False, RuleFilter(), expiration_days=1),
            Rule("date", True, RuleFilter(prefix="old/"), expiration_date_ms=ms(2020, 1, 1)),
        ]
    )
    created = ms(2026, 3, 1, 12)
    assert rules.expiration(config, "tmp/a", [], 1, created) == rules.Due(ms(2026, 3, 4), "fast")
    assert rules.expiration(config, "x", [], 1, created) == rules.Due(ms(2026, 4, 1), "slow")
    # a Date rule applies to objects written after its date too: due at once
    assert rules.expiration(config, "old/a", [], 1, created) == rules.Due(ms(2020, 1, 1), "date")


def test_transitions_honour_the_128k_default_and_pick_the_coldest_due() -> None:
    steps = [Transition("STANDARD_IA", 30), Transition("GLACIER", 90)]
    config = LifecycleConfiguration([Rule("t", True, RuleFilter(), transitions=steps)])
    created = ms(2026, 1, 1, 6)
    planned = rules.transitions(config, "k", [], 200_000, created)
    assert [(d.storage_class, d.at_ms) for d in planned] == [
        ("STANDARD_IA", ms(2026, 2, 1)),
        ("GLACIER", ms(2026, 4, 2)),
    ]
    assert rules.latest_move(planned, "STANDARD", ms(2026, 1, 31)) is None
    assert rules.latest_move(planned, "STANDARD", ms(2026, 2, 1)).storage_class == "STANDARD_IA"  # type: ignore[union-attr]
    assert rules.latest_move(planned, "STANDARD", ms(2027, 1, 1)).storage_class == "GLACIER"  # type: ignore[union-attr]
    assert rules.latest_move(planned, "GLACIER", ms(2027, 1, 1)) is None  # never back up
    assert rules.latest_move(planned, "DEEP_ARCHIVE", ms(2027, 1, 1)) is None
    assert rules.transitions(config, "k", [], 1000, created) == []  # under 128 KB
    varies = LifecycleConfiguration(config.rules, minimum_object_size=rules.VARIES_BY_CLASS)
    assert [d.storage_class for d in rules.transitions(varies, "k", [], 1000, created)] == [
        "GLACIER"
    ]
    sized = LifecycleConfiguration(
        [Rule("t", True, RuleFilter(size_greater_than=10), transitions=steps)]
    )
    assert len(rules.transitions(sized, "k", [], 1000, created)) == 2  # its own filter decides


def test_noncurrent_rules_keep_the_newest() -> None:
    config = LifecycleConfiguration(
        [
            Rule(
                "n",
                True,
                RuleFilter(),
                noncurrent_expiration=True,
                noncurrent_days=10,
                newer_noncurrent_versions=2,
                noncurrent_transitions=[NoncurrentTransition("GLACIER_IR", 5)],
            )
        ]
    )
    since = ms(2026, 5, 1, 8)
    assert rules.noncurrent_expiration(config, "k", [], 1, since, 0) is None  # kept
    assert rules.noncurrent_expiration(config, "k", [], 1, since, 1) is None  # kept
    assert rules.noncurrent_expiration(config, "k", [], 1, since, 2) == rules.Due(
        ms(2026, 5, 12), "n"
    )
    moved = rules.noncurrent_transitions(config, "k", [], 200_000, since, 0)
    assert moved == [rules.Due(ms(2026, 5, 7), "n", "GLACIER_IR")]


def test_markers_and_uploads() -> None:
    config = LifecycleConfiguration(
        [
            Rule("m", True, RuleFilter(prefix="a/"), expired_object_delete_marker=True),
            Rule("no", True, RuleFilter(), expired_object_delete_marker=False),
            Rule("u", True, RuleFilter(prefix="up/"), abort_days=7),
        ]
    )
    assert rules.removes_delete_marker(config, "a/x") == "m"
    assert rules.removes_delete_marker(config, "b/x") is None
    by_days = LifecycleConfiguration([Rule("d", True, RuleFilter(prefix="c/"), expiration_days=2)])
    made = ms(2026, 2, 1, 9)
    assert rules.removes_delete_marker(by_days, "c/x") is None  # its age is not known
    assert rules.removes_delete_marker(by_days, "c/x", made, ms(2026, 2, 3, 23)) is None
    assert rules.removes_delete_marker(by_days, "c/x", made, ms(2026, 2, 4)) == "d"
    assert rules.removes_delete_marker(by_days, "z/x", made, ms(2027, 1, 1)) is None
    started = ms(2026, 2, 1, 20)
    assert rules.upload_abort(config, "up/f", started) == rules.Due(ms(2026, 2, 9), "u")
    assert rules.upload_abort(config, "f", started) is None


def _config(**fields: object) -> LifecycleConfiguration:
    return LifecycleConfiguration([Rule("r", True, RuleFilter(prefix="p/"), **fields)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "InvalidRequest"),
        ({"expiration_days": 0}, "InvalidArgument"),
        ({"transitions": [Transition("STANDARD_IA", 29)]}, "InvalidArgument"),
        ({"transitions": [Transition("GLACIER", 10), Transition("GLACIER", 20)]}, "InvalidRequest"),
        ({"transitions": [Transition("GLACIER", 10), Transition("DEEP_ARCHIVE", 10)]},
         "InvalidArgument"),
        ({"transitions": [Transition("GLACIER", 10)], "expiration_days": 10}, "InvalidArgument"),
        ({"noncurrent_expiration": True, "noncurrent_days": 1, "newer_noncurrent_versions": 0},
         "InvalidArgument"),
        ({"abort_days": 0}, "InvalidArgument"),
    ],
)  # fmt: skip
def test_validation_refuses(fields: dict[str, object], code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        rules.validate(_config(**fields))
    assert caught.value.code == code


def test_validation_accepts_a_full_rule() -> None:
    rules.validate(
        _config(
            expiration_days=400,
            transitions=[Transition("STANDARD_IA", 30), Transition("GLACIER", 60),
                         Transition("DEEP_ARCHIVE", 180)],
            noncurrent_expiration=True,
            noncurrent_days=90,
            newer_noncurrent_versions=5,
            noncurrent_transitions=[NoncurrentTransition("GLACIER", 30)],
            abort_days=3,
        )
    )  # fmt: skip
