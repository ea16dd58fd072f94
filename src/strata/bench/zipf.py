"""Key choosers of YCSB (Cooper et al., SoCC 2010), so `--workload a..f` means what it
means in YCSB: a few keys are hot (zipfian, theta 0.99), hot keys are scattered over the
key space (scrambled by FNV-1a), and workload D reads mostly what was inserted last.
"""

from __future__ import annotations

import random
from functools import lru_cache

ZIPFIAN_THETA = 0.99
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


@lru_cache(maxsize=8)
def zeta(count: int, theta: float) -> float:
    """Sum of 1/i**theta for i in 1..count (computed once per size)."""
    total = 0.0
    for i in range(1, count + 1):
        total += 1.0 / i**theta
    return total


def fnv1a_64(value: int) -> int:
    """FNV-1a over the 8 little-endian bytes of `value`, as YCSB scrambles keys."""
    digest = _FNV_OFFSET
    for _ in range(8):
        digest ^= value & 0xFF
        digest = (digest * _FNV_PRIME) & _MASK64
        value >>= 8
    return digest


class Zipfian:
    """Ranks 0..count-1, rank 0 the most popular (Gray et al.'s rejection-free method)."""

    def __init__(self, count: int, theta: float = ZIPFIAN_THETA, rng: random.Random | None = None):
        if count < 1:
            raise ValueError("zipfian needs at least one item")
        self.count = count
        self._rng = rng or random.Random()
        self._theta = theta
        self._zetan = zeta(count, theta)
        self._alpha = 1.0 / (1.0 - theta)
        zeta2 = 1.0 + 0.5**theta
        self._half_pow_theta = 0.5**theta
        self._eta = (1.0 - (2.0 / count) ** (1.0 - theta)) / (1.0 - zeta2 / self._zetan)

    def next(self) -> int:
        """The next rank."""
        u = self._rng.random()
        uz = u * self._zetan
        if uz < 1.0:
            return 0
        if uz < 1.0 + self._half_pow_theta:
            return min(1, self.count - 1)
        rank = int(self.count * (self._eta * u - self._eta + 1.0) ** self._alpha)
        return min(rank, self.count - 1)


class ScrambledZipfian:
    """Zipfian popularity, but the popular keys spread over the whole range."""

    def __init__(self, count: int, rng: random.Random | None = None) -> None:
        self.count = count
        self._zipf = Zipfian(count, rng=rng)

    def next(self) -> int:
        """The next key index in 0..count-1."""
        return fnv1a_64(self._zipf.next()) % self.count


class Uniform:
    """Every key equally likely."""

    def __init__(self, count: int, rng: random.Random | None = None) -> None:
        self.count = count
        self._rng = rng or random.Random()

    def next(self) -> int:
        """The next key index in 0..count-1."""
        return self._rng.randrange(self.count)


class AcknowledgedCounter:
    """Insert sequence numbers, and the highest one below which every insert completed.

    Workload D reads "the latest" records; reading one whose insert is still in flight
    would be a miss that is the benchmark's fault, so reads only see acknowledged ones.
    """

    def __init__(self) -> None:
        self._next = 0
        self._acked = 0
        self._done: set[int] = set()

    def take(self) -> int:
        """A new sequence number to insert."""
        value = self._next
        self._next += 1
        return value

    def acknowledge(self, value: int) -> None:
        """Mark `value` as inserted."""
        self._done.add(value)
        while self._acked in self._done:
            self._done.discard(self._acked)
            self._acked += 1

    @property
    def acknowledged(self) -> int:
        """Count of the prefix of sequence numbers known to be inserted."""
        return self._acked
