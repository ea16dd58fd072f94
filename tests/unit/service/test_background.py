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


def test_a_cancel_just_after_a_wake_ends_the_engine() -> None:
    """A wake that has resolved the pause but not yet resumed the engine when the
    lifespan cancels it: the cancellation must not be swallowed (asyncio.wait_for on
    Python 3.11 returned instead, and the engine ran on: a shutdown that never ended)."""

    async def run(yields: int) -> bool:
        waker = Waker()

        async def engine() -> None:
            while True:
                await waker.pause(3600)

        task = asyncio.ensure_future(engine())
        await asyncio.sleep(0.01)  # the engine is in its pause
        waker.wake()  # a buffer filled, or the store clock moved ...
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()  # ... as the lifespan stops it
        await asyncio.wait({task}, timeout=5)
        return task.cancelled()

    for yields in range(4):
        assert asyncio.run(run(yields)), f"the engine went on ({yields} yields)"
