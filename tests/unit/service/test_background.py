"""Waker: the pause between an engine's passes ends when the store clock moves."""

from __future__ import annotations

import asyncio

from strata.service.background import Waker, wake_all


def test_wake_all_ends_a_pause_at_once() -> None:
    async def run() -> bool:
        waker = Waker()
        pausing = asyncio.ensure_future(waker.pause(3600))
        await asyncio.sleep(0.01)
        assert not pausing.done()
        wake_all()
        await asyncio.wait_for(pausing, 5)
        return True

    assert asyncio.run(run())


def test_a_wake_during_a_pass_ends_the_next_pause() -> None:
    async def run() -> None:
        waker = Waker()
        wake_all()  # the engine is busy: not pausing
        await asyncio.wait_for(waker.pause(3600), 5)
        # consumed: the one after that sleeps its time
        pausing = asyncio.ensure_future(waker.pause(3600))
        await asyncio.sleep(0.01)
        assert not pausing.done()
        pausing.cancel()

    asyncio.run(run())
