"""Space on the data directory's filesystem, as the metrics and low-disk checks see it."""

from __future__ import annotations

import os
from typing import NamedTuple


class DiskSpace(NamedTuple):
    size_bytes: int  # the filesystem's capacity
    used_bytes: int  # used by anyone (not only Strata)
    free_bytes: int  # available to this (unprivileged) process: what writes can still use


def disk_space(path: str) -> DiskSpace:
    """One ``statvfs``: cheap enough for every scrape."""
    stat = os.statvfs(path)
    return DiskSpace(
        size_bytes=stat.f_blocks * stat.f_frsize,
        used_bytes=(stat.f_blocks - stat.f_bfree) * stat.f_frsize,
        free_bytes=stat.f_bavail * stat.f_frsize,
    )
