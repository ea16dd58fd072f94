"""Moving the store clock of a test server, and bounded waits for the engines it wakes."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from strata.remote import Credentials, Remote
from tests.server import RunningServer


def remote(server: RunningServer) -> Remote:
    return Remote(server.endpoint, Credentials(server.access_key, server.secret_key))


def advance(server: RunningServer, seconds: float) -> None:
    remote(server).clock({"advance_s": seconds})


def now_s(server: RunningServer) -> float:
    return datetime.datetime.fromisoformat(remote(server).clock()["now"]).timestamp()


def wait_for(check: Callable[[], bool], what: str) -> None:
    """The engines run promptly once the clock moves; a few seconds at most."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def restore_header(s3: Any, bucket: str, key: str, **kwargs: Any) -> str | None:
    found: str | None = s3.head_object(Bucket=bucket, Key=key, **kwargs).get("Restore")
    return found
