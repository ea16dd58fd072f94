"""The one read path for object bytes: ranges over plain and compressed pieces.

A ``BlobReader`` is the ordered pieces of one byte range of an object: plain file
ranges (legacy blob files, hot extents, frames stored plain) or compressed frames of an
extent. Responses send plain-only readers from the files themselves (sendfile), others
from ``stream`` (frames decoded in a worker thread); the scrub, ``strata verify``,
copies and moves read with ``chunks`` in a thread. A piece of a sealed (encrypted)
extent names the extent's ``Sealed`` stream: its offsets are in that stream, and the
chunks covering them are read, authenticated and decrypted before anything is decoded
or served (never sendfile). A file missing or shorter than a piece needs is
``DataCorruption``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strata.errors import DataCorruption
from strata.storage.volumes.cipher import (
    CHUNK_BYTES,
    chunk_span,
    extent_cipher,
    open_chunks,
    stream_size,
)
from strata.storage.volumes.codec import FRAME_BYTES, decode_frame
from strata.storage.volumes.extent import Extent

READ_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sealed:
    """The encrypted stream of one extent: its cipher, where it starts in the file, and
    how many stream bytes it holds."""

    cipher: AESGCM
    file_offset: int
    stream_bytes: int
    name: str = ""  # what damage is reported as (bucket/key version), besides the file


@dataclass(frozen=True, slots=True)
class PlainPiece:
    path: str
    offset: int
    length: int
    file_bytes_min: int = 0  # the file must be this long (the whole extent is checked)
    sealed: Sealed | None = None  # offsets are then in the sealed stream


@dataclass(frozen=True, slots=True)
class FramedPiece:
    """Bytes [skip, skip + length) of one zstd frame of ``stored_bytes`` at ``offset``."""

    path: str
    offset: int
    stored_bytes: int
    skip: int
    length: int
    file_bytes_min: int = 0
    sealed: Sealed | None = None


Piece = PlainPiece | FramedPiece


def extent_pieces(
    path: str,
    extent: Extent,
    start: int,
    length: int,
    extent_id: str = "",
    data_key: bytes | None = None,
    name: str = "",
) -> list[Piece]:
    """The pieces of bytes [start, start + length) of ``extent`` (stored at ``path``).

    Frames kept plain inside a compressed extent become plain pieces, so a cold object
    that did not compress is still sent with sendfile. A sealed extent needs the data key
    of the version reading it (and its id, which its cipher is derived from)."""
    if start < 0 or start + length > extent.size_bytes:
        raise DataCorruption(
            f"extent in {path} holds {extent.size_bytes} bytes, a record needs "
            f"[{start}, {start + length})"
        )
    if extent.sealed != (data_key is not None):
        state = "sealed" if extent.sealed else "plain"
        raise DataCorruption(f"extent {extent_id} in {path} is {state}, its record says otherwise")
    extent_end = extent.offset + extent.stored_bytes
    sealed: Sealed | None = None
    base = extent.offset
    if data_key is not None:
        cipher = extent_cipher(data_key, extent_id)
        sealed = Sealed(cipher, extent.offset, stream_size(extent.stored_bytes), name)
        base = 0
    if not extent.frames:
        return [PlainPiece(path, base + start, length, extent_end, sealed)]
    pieces: list[Piece] = []
    stored = base
    first = start // FRAME_BYTES
    for stored_size in extent.frames[:first]:
        stored += abs(stored_size)
    position = first * FRAME_BYTES
    end = start + length
    for stored_size in extent.frames[first:]:
        if position >= end:
            break
        frame_end = position + FRAME_BYTES
        lo, hi = max(start, position), min(end, frame_end)
        last = pieces[-1] if pieces else None
        if stored_size >= 0:
            piece: Piece = FramedPiece(
                path, stored, stored_size, lo - position, hi - lo, extent_end, sealed
            )
            pieces.append(piece)
        elif isinstance(last, PlainPiece) and last.offset + last.length == stored + lo - position:
            pieces[-1] = PlainPiece(path, last.offset, last.length + hi - lo, extent_end, sealed)
        else:
            pieces.append(PlainPiece(path, stored + lo - position, hi - lo, extent_end, sealed))
        stored += abs(stored_size)
        position = frame_end
    return pieces


class BlobReader:
    """Bytes of one object range, piece after piece."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        self.length = sum(piece.length for piece in pieces)

    def plain(self) -> list[PlainPiece] | None:
        """The file ranges to send as they are, or None if some bytes need decoding."""
        if all(isinstance(piece, PlainPiece) and piece.sealed is None for piece in self.pieces):
            return [piece for piece in self.pieces if isinstance(piece, PlainPiece)]
        return None

    def check(self) -> None:
        """DataCorruption unless every file exists and is long enough: before a response's
        headers go out, so damage is a clean 500."""
        for piece in self.pieces:
            end = piece.offset + (
                piece.length if isinstance(piece, PlainPiece) else piece.stored_bytes
            )
            needed = piece.file_bytes_min if piece.sealed else max(end, piece.file_bytes_min)
            try:
                actual = os.stat(piece.path).st_size
            except FileNotFoundError:
                raise DataCorruption(f"{piece.path} is missing") from None
            if actual < needed:
                raise DataCorruption(f"{piece.path} is {actual} bytes, a record needs {needed}")

    def chunks(self) -> Generator[bytes | bytearray, None, None]:
        """Every byte, in chunks of at most ``READ_BYTES`` (blocking: run in a thread)."""
        for piece in self.pieces:
            fd = _open(piece.path)
            try:
                if isinstance(piece, PlainPiece):
                    yield from _read_plain(fd, piece)
                else:
                    yield _read_frame(fd, piece)
            finally:
                os.close(fd)

    async def stream(self) -> AsyncIterator[bytes | bytearray]:
        """``chunks`` for a response: each read and decode in a worker thread."""
        chunks = self.chunks()
        loop = asyncio.get_running_loop()
        try:
            while True:
                chunk = await loop.run_in_executor(None, next, chunks, None)
                if chunk is None:
                    return
                yield chunk
        finally:
            await loop.run_in_executor(None, chunks.close)


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise DataCorruption(f"{path} is missing") from None


def _read_plain(fd: int, piece: PlainPiece) -> Iterator[bytes | bytearray]:
    if piece.sealed is not None:
        yield from _read_sealed_range(fd, piece.path, piece.sealed, piece.offset, piece.length)
        return
    position, end = piece.offset, piece.offset + piece.length
    while position < end:
        data = os.pread(fd, min(READ_BYTES, end - position), position)
        if not data:
            raise DataCorruption(f"{piece.path} ended early at {position} (needed {end})")
        position += len(data)
        yield data


def _read_frame(fd: int, piece: FramedPiece) -> bytes:
    if piece.sealed is not None:
        stored = b"".join(
            _read_sealed_range(fd, piece.path, piece.sealed, piece.offset, piece.stored_bytes)
        )
    else:
        stored = os.pread(fd, piece.stored_bytes, piece.offset)
    if len(stored) != piece.stored_bytes:
        raise DataCorruption(f"{piece.path} ended early in a frame at {piece.offset}")
    try:
        frame = decode_frame(stored)
    except Exception as exc:  # zstd: damaged frame or content checksum mismatch
        raise DataCorruption(f"{piece.path}: frame at {piece.offset} is damaged: {exc}") from exc
    return frame[piece.skip : piece.skip + piece.length]


_SEALED_READ_BYTES: Final = READ_BYTES - READ_BYTES % CHUNK_BYTES


def _read_sealed_range(
    fd: int, path: str, sealed: Sealed, start: int, length: int
) -> Iterator[bytes | bytearray]:
    """Stream bytes [start, start + length) of a sealed extent, about ``READ_BYTES`` at a
    time: each read covers whole chunks, every one authenticated before it is used."""
    position, end = start, start + length
    while position < end:
        step_end = min(end, (position // CHUNK_BYTES) * CHUNK_BYTES + _SEALED_READ_BYTES)
        first, offset, size = chunk_span(position, step_end, sealed.stream_bytes)
        raw = _pread_reused(fd, path, size, sealed.file_offset + offset)
        where = f"{sealed.name}: {path}" if sealed.name else path
        try:
            data = open_chunks(sealed.cipher, raw, first, sealed.stream_bytes, where)
        finally:
            raw.release()
        skip, wanted = position - first * CHUNK_BYTES, step_end - position
        yield data if skip == 0 and wanted == len(data) else data[skip : skip + wanted]
        position = step_end


_buffers = threading.local()  # each reading thread's buffer for sealed bytes


def _pread_reused(fd: int, path: str, size: int, offset: int) -> memoryview:
    """``size`` bytes at ``offset`` in this thread's reused buffer (release the view before
    the next call): sealed bytes are needed only until they are decrypted, and a fresh
    1 MiB buffer per read faults its pages in every time."""
    buffer: bytearray | None = getattr(_buffers, "sealed", None)
    if buffer is None or len(buffer) < size:
        buffer = _buffers.sealed = bytearray(max(size, READ_BYTES + READ_BYTES // 64))
    view = memoryview(buffer)[:size]
    got = 0
    while got < size:
        read = os.preadv(fd, [view[got:]], offset + got)
        if read <= 0:
            view.release()
            raise DataCorruption(f"{path} ended early at {offset + got} (needed {offset + size})")
        got += read
    return view
