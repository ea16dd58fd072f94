from __future__ import annotations

from strata.storage.clock import HybridClock, ManualClock, stamp_logical, stamp_ms


def test_hlc_is_strictly_increasing_when_wall_clock_stands_still() -> None:
    clock = ManualClock(1000.0)
    hlc = HybridClock(clock)
    stamps = [hlc.now() for _ in range(5)]
    assert stamps == sorted(set(stamps))
    assert stamp_ms(stamps[0]) == 1_000_000
    assert [stamp_logical(s) for s in stamps] == [0, 1, 2, 3, 4]


def test_hlc_survives_wall_clock_going_backwards() -> None:
    clock = ManualClock(1000.0)
    hlc = HybridClock(clock)
    before = hlc.now()
    clock.advance(-60)
    assert hlc.now() > before


def test_hlc_follows_wall_clock_forward_and_observed_stamps() -> None:
    clock = ManualClock(1000.0)
    hlc = HybridClock(clock)
    first = hlc.now()
    clock.advance(1)
    second = hlc.now()
    assert stamp_ms(second) == 1_001_000
    assert stamp_logical(second) == 0
    remote = second + (5000 << 16)
    assert hlc.observe(remote) > remote > first
