"""Time, from one object that tests can drive, and hybrid logical clock stamps.

Everything that asks "what time is it" (presigned expiry, lifecycle, TTL, retention,
Last-Modified) reads ``Clock.now_s``. A server started with ``STRATA_CLOCK_OFFSET_S``
shifts it, and tests move it through ``ManualClock``.

An HLC stamp is a 64-bit int: 48 bits of wall-clock milliseconds, 16 bits of counter.
Stamps only grow, even when the wall clock steps back, so they order versions, stream
records and (later) replica writes.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

_LOGICAL_BITS = 16
_LOGICAL_MASK = (1 << _LOGICAL_BITS) - 1


class Clock(Protocol):
    def now_s(self) -> float:
        """Seconds since the epoch, as a float."""
        ...


class SystemClock:
    """Wall-clock time, optionally shifted by a fixed offset (for tests driving time)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def now_s(self) -> float:
        return time.time() + self.offset_s


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now_s: float = 1_700_000_000.0) -> None:
        self._now_s = now_s

    def now_s(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> None:
        self._now_s += seconds


class HybridClock:
    """Monotonic HLC stamps on top of a ``Clock``; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        physical = int(self._clock.now_s() * 1000) << _LOGICAL_BITS
        with self._lock:
            self._last = physical if physical > self._last else self._last + 1
            return self._last

    @property
    def last(self) -> int:
        """The highest stamp handed out (or observed) so far."""
        return self._last

    def observe(self, stamp: int) -> int:
        """Merge a stamp seen from elsewhere (a replica, a recovered log); return a later one."""
        with self._lock:
            self._last = max(self._last, stamp)
        return self.now()


def stamp_ms(stamp: int) -> int:
    """Wall-clock milliseconds of an HLC stamp."""
    return stamp >> _LOGICAL_BITS


def stamp_logical(stamp: int) -> int:
    return stamp & _LOGICAL_MASK
