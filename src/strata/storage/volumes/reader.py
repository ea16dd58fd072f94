"""The one read path for object bytes: ranges over plain and compressed pieces.

A ``BlobReader`` is the ordered pieces of one byte range of an object: plain file
ranges (legacy blob files, hot extents, frames stored plain) or compressed frames of an
extent. Responses send plain-only readers from the files themselves (sendfile), others
from ``stream`` (frames decoded in a worker thread); the scrub, ``strata verify``,
copies and moves read with ``chunks`` in a thread. Decryption will be one more kind of
piece. A file missing or shorter than a piece needs is ``DataCorruption``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Final

from strata.errors import DataCorruption
from strata.storage.volumes.codec import FRAME_BYTES, decode_frame
from strata.storage.volumes.extent import Extent

READ_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PlainPiece:
    path: str
    offset: int
    length: int
    file_bytes_min: int = 0  # the file must be this long (the whole extent is checked)


@dataclass(frozen=True, slots=True)
class FramedPiece:
    """Bytes [skip, skip + length) of one zstd frame of ``stored_bytes`` at ``offset``."""

    path: str
    offset: int
    stored_bytes: int
    skip: int
    length: int
    file_bytes_min: int = 0


Piece = PlainPiece | FramedPiece


def extent_pieces(path: str, extent: Extent, start: int, length: int) -> list[Piece]:
    """The pieces of bytes [start, start + length) of ``extent`` (stored at ``path``).

    Frames kept plain inside a compressed extent become plain pieces, so a cold object
    that did not compress is still sent with sendfile."""
    if start < 0 or start + length > extent.size_bytes:
        raise DataCorruption(
            f"extent in {path} holds {extent.size_bytes} bytes, a record needs "
            f"[{start}, {start + length})"
        )
    extent_end = extent.offset + extent.stored_bytes
    if not extent.frames:
        return [PlainPiece(path, extent.offset + start, length, extent_end)]
    pieces: list[Piece] = []
    stored = extent.offset
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
                path, stored, stored_size, lo - position, hi - lo, extent_end
            )
            pieces.append(piece)
        elif isinstance(last, PlainPiece) and last.offset + last.length == stored + lo - position:
            pieces[-1] = PlainPiece(path, last.offset, last.length + hi - lo, extent_end)
        else:
            pieces.append(PlainPiece(path, stored + lo - position, hi - lo, extent_end))
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
        if all(isinstance(piece, PlainPiece) for piece in self.pieces):
            return [piece for piece in self.pieces if isinstance(piece, PlainPiece)]
        return None

    def check(self) -> None:
        """DataCorruption unless every file exists and is long enough: before a response's
        headers go out, so damage is a clean 500."""
        for piece in self.pieces:
            end = piece.offset + (
                piece.length if isinstance(piece, PlainPiece) else piece.stored_bytes
            )
            needed = max(end, piece.file_bytes_min)
            try:
                actual = os.stat(piece.path).st_size
            except FileNotFoundError:
                raise DataCorruption(f"{piece.path} is missing") from None
            if actual < needed:
                raise DataCorruption(f"{piece.path} is {actual} bytes, a record needs {needed}")

    def chunks(self) -> Generator[bytes, None, None]:
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

    async def stream(self) -> AsyncIterator[bytes]:
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


def _read_plain(fd: int, piece: PlainPiece) -> Iterator[bytes]:
    position, end = piece.offset, piece.offset + piece.length
    while position < end:
        data = os.pread(fd, min(READ_BYTES, end - position), position)
        if not data:
            raise DataCorruption(f"{piece.path} ended early at {position} (needed {end})")
        position += len(data)
        yield data


def _read_frame(fd: int, piece: FramedPiece) -> bytes:
    stored = os.pread(fd, piece.stored_bytes, piece.offset)
    if len(stored) != piece.stored_bytes:
        raise DataCorruption(f"{piece.path} ended early in a frame at {piece.offset}")
    try:
        frame = decode_frame(stored)
    except Exception as exc:  # zstd: damaged frame or content checksum mismatch
        raise DataCorruption(f"{piece.path}: frame at {piece.offset} is damaged: {exc}") from exc
    return frame[piece.skip : piece.skip + piece.length]
