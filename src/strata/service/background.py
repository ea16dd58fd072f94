"""Background tasks of the server process: started and stopped by the ASGI lifespan, and
woken early when the store clock moves.

Engines whose work falls due by the store clock (TTL expiry, change-log trim, lifecycle)
sleep between passes with ``Waker.pause``; ``wake_all`` (called when an operator or a test
moves the clock forward) ends every such pause at once, so work that fell due runs
promptly instead of at the next interval. A wake that arrives while a pass is running is
kept, and makes the next pause return at once: the pass may have read the old time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

_wakers: weakref.WeakSet[Waker] = weakref.WeakSet()


class BackgroundTask:
    """One named task on the running loop; ``start`` is idempotent, ``stop`` cancels and
    waits, so work a chunk already applied stays and nothing runs after the store closes."""

    def __init__(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._body = body
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._body(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Waker:
    """The pause between an engine's passes, which ``wake_all`` cuts short."""

    def __init__(self) -> None:
        self._woken = False
        self._event: asyncio.Event | None = None
        _wakers.add(self)

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if woken (now or since the last pause)."""
        if self._woken:
            self._woken = False
            await asyncio.sleep(0)
            return
        self._event = event = asyncio.Event()
        # A timer, not asyncio.wait_for: on Python 3.11, wait_for swallows a cancellation
        # that arrives as the event is set (a wake during stop), and the task never ends.
        timer = asyncio.get_running_loop().call_later(seconds, event.set)
        try:
            await event.wait()
        finally:
            timer.cancel()
            self._event = None
            self._woken = False

    def wake(self) -> None:
        self._woken = True
        if self._event is not None:
            self._event.set()


class PeriodicTask:
    """A pass run every ``interval_s`` (sooner when the clock moves: ``wake_all``) as a
    ``BackgroundTask``; a pass that fails is logged and tried again next time, so a bug
    never ends the engine for good."""

    def __init__(
        self,
        name: str,
        run_pass: Callable[[], Awaitable[object]],
        interval_s: float,
        log: logging.Logger,
    ) -> None:
        self.interval_s = interval_s
        self._pass = run_pass
        self._log = log
        self._waker = Waker()
        self._task = BackgroundTask(name, self._run)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    def wake(self) -> None:
        """Run the next pass now (or as soon as the running one ends)."""
        self._waker.wake()

    async def _run(self) -> None:
        while True:
            try:
                await self._pass()
            except Exception:
                self._log.exception("%s: pass failed", self._task.name)
            await self._waker.pause(self.interval_s)


def wake_all() -> None:
    """The store clock moved: every engine's pause ends now (on the event loop's thread)."""
    for waker in list(_wakers):
        waker.wake()
