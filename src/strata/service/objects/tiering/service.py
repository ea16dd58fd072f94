"""``Tiering``: the configurations, the tiering engine and restores, started and stopped
together with the server's lifespan."""

from __future__ import annotations

import logging

from strata.errors import DiskFull
from strata.service.background import BackgroundTask
from strata.service.objects.buckets import BucketService
from strata.service.objects.objects import ObjectService
from strata.service.objects.tiering.configuration import TieringConfigurations
from strata.service.objects.tiering.engine import TieringEngine
from strata.service.objects.tiering.restore import Restores

log = logging.getLogger("strata.tiering")


class Tiering:
    def __init__(
        self,
        objects: ObjectService,
        buckets: BucketService,
        *,
        interval_s: float = 3600.0,
        flush_interval_s: float = 1.0,
        restore_delay_scale: float = 1.0,
        restore_interval_s: float = 60.0,
    ) -> None:
        self.configurations = TieringConfigurations(objects.store, buckets)
        self.engine = TieringEngine(objects, self.configurations, interval_s, flush_interval_s)
        self.restores = Restores(objects, restore_delay_scale)
        self._tasks = [
            BackgroundTask("strata-tiering", self.engine.run),
            BackgroundTask("strata-tiering-access", self.engine.run_flusher),
            BackgroundTask("strata-restores", lambda: self.restores.run(restore_interval_s)),
        ]

    def start(self) -> None:
        for task in self._tasks:
            task.start()

    async def stop(self) -> None:
        """Stop the engines, then write the access times still pending."""
        for task in self._tasks:
            await task.stop()
        if self.engine.pending:
            try:
                await self.engine.flush(retier=False)
            except DiskFull:  # lost, as after a crash: the documented window
                log.warning("intelligent-tiering: access times not written: the disk is full")
