"""Server memory while moving large objects: RSS must stay under 200 MB for 5 GiB.

    python -m benchmarks.s3_memory                 # 5 GiB, single PUT and multipart
    python -m benchmarks.s3_memory --size-gib 1    # quicker

Starts a fresh ``strata server`` in a temporary data directory, then with boto3:
  1. PutObject of one object of ``--size-gib`` GiB, streamed from a seekable reader
     (the client never holds the object);
  2. the same size as a multipart upload (``upload_fileobj``, 64 MiB parts, 4 threads);
  3. GetObject of each, read in 1 MiB chunks and discarded;
and reads the server's ``VmRSS`` after each step and ``VmHWM`` (peak RSS) at the end from
``/proc/<pid>/status``. The client checks the MD5 of what it receives against what it
sent, so the run also proves the bytes round-trip. The data directory is deleted afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from tests.server import RunningServer, start_server

MIB = 1024 * 1024
GIB = 1024 * MIB
RSS_LIMIT_MB = 200


BLOCK = hashlib.sha256(b"strata").digest() * (MIB // 32)


class PatternReader(io.RawIOBase):
    """``size`` bytes of a repeating pattern; seekable, so botocore can hash it first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.position)
        out = memoryview(buffer)
        written = 0
        while written < n:
            start = (self.position + written) % len(BLOCK)
            take = min(n - written, len(BLOCK) - start)
            out[written : written + take] = BLOCK[start : start + take]
            written += take
        self.position += n
        return n


def pattern_md5(size: int) -> str:
    md5 = hashlib.md5()
    reader = PatternReader(size)
    buffer = bytearray(4 * MIB)
    while n := reader.readinto(buffer):
        md5.update(memoryview(buffer)[:n])
    return md5.hexdigest()


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def mb(kb: int) -> float:
    return kb / 1024


def download_md5(s3: Any, bucket: str, key: str) -> str:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    md5 = hashlib.md5()
    for chunk in body.iter_chunks(MIB):
        md5.update(chunk)
    return md5.hexdigest()


def run(size: int, server: RunningServer) -> list[tuple[str, float, float]]:
    s3 = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"}, read_timeout=600, retries={"max_attempts": 1}
        ),
    )
    pid = server.process.pid
    rows: list[tuple[str, float, float]] = []

    def step(name: str, seconds: float) -> None:
        rss = mb(status_kb(pid, "VmRSS"))
        rows.append((name, seconds, rss))
        print(f"{name:<28} {seconds:7.1f} s   server VmRSS {rss:6.1f} MB", flush=True)

    step("idle after start", 0.0)
    s3.create_bucket(Bucket="memory")

    started = time.monotonic()
    reader = PatternReader(size)
    s3.put_object(Bucket="memory", Key="single", Body=reader, ContentLength=size)
    step("PutObject", time.monotonic() - started)

    started = time.monotonic()
    reader = PatternReader(size)
    config = TransferConfig(multipart_chunksize=64 * MIB, max_concurrency=4)
    s3.upload_fileobj(reader, "memory", "multipart", Config=config)
    step("multipart upload (64 MiB)", time.monotonic() - started)

    expected = pattern_md5(size)
    started = time.monotonic()
    assert download_md5(s3, "memory", "single") == expected, "single PUT bytes differ"
    step("GetObject (single)", time.monotonic() - started)

    started = time.monotonic()
    assert download_md5(s3, "memory", "multipart") == expected, "multipart bytes differ"
    step("GetObject (multipart)", time.monotonic() - started)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gib", type=float, default=5.0)
    args = parser.parse_args(argv)
    size = int(args.size_gib * GIB)
    work = Path(tempfile.mkdtemp(prefix="strata-memory-"))
    server = start_server(work / "data")
    try:
        print(f"object size {size / GIB:.2f} GiB, server pid {server.process.pid}")
        run(size, server)
        peak = mb(status_kb(server.process.pid, "VmHWM"))
        verdict = "OK" if peak < RSS_LIMIT_MB else "OVER"
        print(f"server peak RSS (VmHWM) {peak:.1f} MB: {verdict} (limit {RSS_LIMIT_MB} MB)")
        return 0 if peak < RSS_LIMIT_MB else 1
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
