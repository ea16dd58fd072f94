"""Delivery of the audit trail to a bucket, in CloudTrail's log-file layout.

Every ``interval_s`` the records written since the last delivery become gzipped JSON
files (``{"Records": [...]}``, oldest first, at most ``RECORDS_PER_FILE`` each) at

    AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz

(the day and time of the file's last record). The position delivered up to is kept in
META after each file's object is committed. A crash between the two delivers that file
again under the same name (the name's unique part comes from the records' positions), so
it overwrites itself: no record is lost and none appears twice. The objects are written
through the objects service, as any PutObject, and are not themselves audited.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from itertools import islice
from typing import Final

from strata.errors import StrataError
from strata.service.audit.entries import Entry, cloudtrail_event
from strata.service.audit.trail import AuditTrail, read_forward
from strata.service.background import BackgroundTask, Waker
from strata.service.objects.integrity import PayloadChecks
from strata.service.objects.objects import NewObject, ObjectService
from strata.storage import keys, spaces
from strata.storage.store import WriteBatch

log = logging.getLogger("strata.audit")

RECORDS_PER_FILE: Final = 5_000
_POSITION_KEY: Final = keys.pack("audit-delivered-position")


def log_file_key(account: str, region: str, last: Entry, unique: str) -> str:
    when = time.gmtime(last.time_ms / 1000)
    day = time.strftime("%Y/%m/%d", when)
    stamp = time.strftime("%Y%m%dT%H%MZ", when)
    return (
        f"AWSLogs/{account}/CloudTrail/{region}/{day}/"
        f"{account}_CloudTrail_{region}_{stamp}_{unique}.json.gz"
    )


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Delivery:
    """The lifespan task that copies new trail records into ``bucket``."""

    def __init__(
        self,
        trail: AuditTrail,
        objects: ObjectService,
        bucket: str,
        account: str,
        region: str,
        interval_s: float,
    ) -> None:
        self.trail = trail
        self.objects = objects
        self.bucket = bucket
        self.account = account
        self.region = region
        self.interval_s = interval_s
        self.delivered = 0  # records delivered since start (metrics)
        self._waker = Waker()
        self._task = BackgroundTask("audit-delivery", self._run)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        failing = False
        while True:
            await self._waker.pause(self.interval_s)
            try:
                await self.deliver()
                failing = False
            except StrataError as exc:  # no such bucket, a full disk: try again later
                if not failing:
                    log.warning(
                        "audit trail not delivered to s3://%s (will retry): %s", self.bucket, exc
                    )
                failing = True

    async def deliver(self) -> int:
        """Deliver every record not delivered yet; how many files were written."""
        await self.trail.flush()
        store = self.trail.store
        files = 0
        while True:
            position = store.get(spaces.META, _POSITION_KEY) or b""
            found = list(islice(read_forward(store, position), RECORDS_PER_FILE))
            if not found:
                return files
            last_position, last = found[-1]
            unique = hashlib.sha256(position + last_position).hexdigest()[:16].upper()
            records = [cloudtrail_event(entry, self.region) for _, entry in found]
            body = gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
            await self.objects.put(
                self.bucket,
                log_file_key(self.account, self.region, last, unique),
                _one(body),
                declared_size=len(body),
                new=NewObject(headers={"content-type": "application/gzip"}),
                checks=PayloadChecks(),
            )
            batch = WriteBatch()
            batch.put(spaces.META, _POSITION_KEY, last_position)
            await store.commit(batch)
            self.delivered += len(found)
            files += 1
