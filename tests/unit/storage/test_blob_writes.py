"""BlobWriter against short writes and a full disk: every byte written, or the write fails."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from strata.errors import DiskFull
from strata.storage.blobs import BlobStore
from strata.storage.disk import DiskGuard
from tests.smallfs import fill, mounted_tmpfs


def test_short_write_is_never_taken_for_the_whole_chunk(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel write only up to the limit and answer with the short
    count (then EFBIG): the writer must not report the chunk written."""
    script = textwrap.dedent(
        f"""
        import json, os, resource, signal
        from strata.storage.blobs import BlobStore
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        blobs = BlobStore({str(tmp_path / "blobs")!r})
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))
        writer = blobs.writer()
        try:
            writer.write(b"x" * 150_000)
            outcome = {{"raised": None, "size": writer.size_bytes}}
        except OSError as exc:
            outcome = {{"raised": exc.errno, "size": writer.size_bytes}}
        writer.abort()
        outcome["left"] = os.listdir(blobs.tmp_dir)
        print(json.dumps(outcome))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    outcome = json.loads(done.stdout)
    assert outcome["raised"] == errno.EFBIG  # after the short write, the rest is refused
    assert outcome["size"] == 0
    assert outcome["left"] == []


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "fs", 2 * 1024 * 1024) as where:
        yield where


def test_no_space_is_disk_full_and_leaves_nothing(tiny_fs: Path) -> None:
    disk = DiskGuard(str(tiny_fs), reserve_bytes=0, free_min_bytes=0, free_warn_bytes=0)
    blobs = BlobStore(str(tiny_fs / "blobs"), disk)
    fill(tiny_fs / "filler", 300 * 1024)
    writer = blobs.writer()
    writer.write(b"y" * 100_000)  # fits
    with pytest.raises(DiskFull):
        writer.write(b"y" * 400_000)  # a short write of what is left, then ENOSPC
    assert writer.size_bytes == 100_000
    assert disk.full  # the next write is refused before it touches a file
    with pytest.raises(DiskFull):
        blobs.writer()
    writer.abort()
    assert os.listdir(blobs.tmp_dir) == []
    os.unlink(tiny_fs / "filler")
    disk.refresh()
    assert not disk.full
    again = blobs.writer()
    again.write(b"z" * 400_000)
    again.abort()
