"""The data directory's lock: one server per directory, refused before any start-up work.

RocksDB has its own ``db/LOCK``, but it is taken after the blob GC and the credentials,
and its error is a traceback. ``strata.pid`` is taken first, with ``flock`` (released
by the kernel when the process dies, however it dies), and holds the owner's pid so
the refusal can name it.
"""

from __future__ import annotations

import fcntl
import os

FILE_NAME = "strata.pid"


class DataDirInUse(Exception):
    """Another process holds the data directory's lock."""

    def __init__(self, path: str, pid: int | None) -> None:
        owner = f"process {pid}" if pid else "another process"
        directory = os.path.dirname(path)
        super().__init__(f"data directory {directory} is in use by {owner} (lock {path})")
        self.path = path
        self.pid = pid


class DataDirLock:
    """Held for the life of the server; ``release`` (or exit) frees it."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1


def lock(data_dir: str) -> DataDirLock:
    """Create ``data_dir`` if needed and take its lock, or raise ``DataDirInUse``."""
    data_dir = os.path.abspath(data_dir)
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, FILE_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise DataDirInUse(path, int(holder) if holder.isdigit() else None)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return DataDirLock(path, fd)
