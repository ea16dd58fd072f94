"""``JobQueue``: background work a request asks for, done by one task the lifespan starts.

A request path only adds a job (a key: a table id, an owner prefix) and returns; the
queue's task, started once by ``TableOperations.start`` with the server's lifespan, runs
the jobs one at a time in the order asked. Asking again for a job still waiting is a
no-op; asking while it runs queues it once more (its data may have changed since it read
them). Work that must survive a restart is recorded in the store by whoever asks, and
asked for again by ``start``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

import msgspec

from strata.service.background import BackgroundTask
from strata.service.tables import keycodec
from strata.storage import keys, records, spaces
from strata.storage.store import Store

log = logging.getLogger("strata.tables")

Job = TypeVar("Job", bound=Hashable)
Record = TypeVar("Record", bound=msgspec.Struct)


def job_records(store: Store, name: str, kind: type[Record]) -> list[Record]:
    """Every record META holds under ``keys.pack(name)`` (exports, imports), in key order."""
    prefix = keys.pack(name)
    return [
        records.decode(value, kind)
        for _, value in store.scan(spaces.META, prefix, keycodec.after_prefix(prefix))
    ]


def request_digest(req: dict[str, Any]) -> str:
    """A request's parameters but its ClientToken, hashed: the same token with another
    digest is a conflict."""
    rest = {k: v for k, v in req.items() if k != "ClientToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


class JobQueue(Generic[Job]):
    def __init__(self, name: str, run: Callable[[Job], Awaitable[None]]) -> None:
        self.name = name
        self._run = run
        self._waiting: dict[Job, None] = {}  # an ordered set
        self._running: Job | None = None
        self._wake = asyncio.Event()
        self._task = BackgroundTask(name, self._work)

    def add(self, job: Job) -> None:
        """Ask for ``job``; never waits, needs no running loop."""
        self._waiting[job] = None
        self._wake.set()

    def busy(self, job: Job) -> bool:
        """Whether ``job`` is waiting or running."""
        return job in self._waiting or job == self._running

    def idle(self) -> bool:
        return not self._waiting and self._running is None

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        self._running = None

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                job = next(iter(self._waiting))
                del self._waiting[job]
                self._running = job
                try:
                    await self._run(job)
                except asyncio.CancelledError:
                    self._waiting = {job: None, **self._waiting}  # done again after a restart
                    raise
                except Exception:  # one failed job must not stop the others
                    log.exception("%s: job %r failed", self.name, job)
                finally:
                    self._running = None
