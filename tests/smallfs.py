"""A small filesystem to fill: a tmpfs with ``size=``, mounted in a test's tmp dir (root only)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size_bytes: int) -> Iterator[Path]:
    """Mount a tmpfs of ``size_bytes`` at ``where``; skip the test if that is impossible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(filler: Path, leave_bytes: int) -> None:
    """Grow (or shrink) ``filler`` so that ``leave_bytes`` stay free on its filesystem."""
    size = filler.stat().st_size if filler.exists() else 0
    target = max(0, size + free_bytes(filler.parent) - leave_bytes)
    if target < size:
        os.truncate(filler, target)
        return
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        if target > size:
            os.posix_fallocate(fd, size, target - size)
    finally:
        os.close(fd)
