"""How a volume stores bytes: plain, or zstd frames when compression pays.

Compressed extents are cut into frames of ``FRAME_BYTES`` object bytes, each compressed
on its own (with zstd's content checksum, so a damaged frame fails to decode rather
than giving wrong bytes) or kept plain when it would not shrink by ``GAIN_MIN``. After
``PROBE_FRAMES`` frames that did not pay, the rest of the extent is kept plain without
trying: JPEG, video and random data cost one probe, not a compression per MiB.
"""

from __future__ import annotations

from typing import Final

import zstandard

FRAME_BYTES: Final = 1024 * 1024
GAIN_MIN: Final = 0.9  # keep a frame compressed only if it is at most 90% of its size
PROBE_FRAMES: Final = 2


class FrameEncoder:
    """Turns an extent's bytes, frame by frame, into what is stored and its frame list."""

    def __init__(self, level: int) -> None:
        self._compressor = zstandard.ZstdCompressor(level=level, write_checksum=True)
        self._pending = bytearray()
        self.frames: list[int] = []
        self._misses = 0

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        """Bytes to append to the extent for ``data`` (whole frames only)."""
        self._pending += data
        out: list[bytes] = []
        while len(self._pending) >= FRAME_BYTES:
            out.append(self._frame(bytes(self._pending[:FRAME_BYTES])))
            del self._pending[:FRAME_BYTES]
        return out

    def finish(self) -> list[bytes]:
        """The last, short frame."""
        if not self._pending:
            return []
        last = self._frame(bytes(self._pending))
        self._pending.clear()
        return [last]

    def _frame(self, raw: bytes) -> bytes:
        if self._misses < PROBE_FRAMES:
            packed = self._compressor.compress(raw)
            if len(packed) <= len(raw) * GAIN_MIN:
                self.frames.append(len(packed))
                return packed
            self._misses += 1
        self.frames.append(-len(raw))
        return raw


def decode_frame(stored: bytes) -> bytes:
    """One compressed frame's object bytes."""
    return zstandard.ZstdDecompressor().decompress(stored, max_output_size=FRAME_BYTES)
