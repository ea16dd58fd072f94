"""Where a version's bytes are: segments resolved into a ``BlobReader`` (the one read path).

A segment names an extent (its location is a point read of ``EXTENTS``: compaction and
moves change it) or, in the format before volumes, a blob file. Resolution runs on the
event loop; the reader's blocking reads then run in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from strata.errors import DataCorruption
from strata.service.objects.records import Segment, sub_segments
from strata.storage.blobs import BlobStore
from strata.storage.store import Store
from strata.storage.volumes.extent import Extent, read_extent
from strata.storage.volumes.reader import BlobReader, Piece, PlainPiece, extent_pieces
from strata.storage.volumes.volume import Volumes


class Locator:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        volumes: Volumes,
        segment_key: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.volumes = volumes
        self.segment_key = segment_key  # unwraps a ``Segment.wrapped_key`` (master key)

    def reader(
        self,
        segments: Iterable[Segment],
        start: int,
        length: int,
        data_key: bytes | None = None,
        name: str = "",
    ) -> BlobReader:
        """Bytes [start, start+length) of the object ``segments`` make; ``data_key``: the
        version's, which its (sealed) extents are decrypted with; ``name`` says whose
        bytes they are when damage is reported."""
        pieces: list[Piece] = []
        for segment in sub_segments(segments, start, length):
            if not segment.extent:
                if data_key is not None:
                    raise DataCorruption(f"blob {segment.blob_id} of an encrypted version")
                path = self.blobs.path(segment.blob_id)
                pieces.append(PlainPiece(path, segment.offset, segment.length, segment.end))
                continue
            extent = self.extent(segment.blob_id)
            key = data_key
            if segment.wrapped_key:
                if self.segment_key is None:
                    raise DataCorruption(f"extent {segment.blob_id}: no master key to open it")
                key = self.segment_key(segment.wrapped_key)
            pieces += extent_pieces(
                self.volumes.path(extent),
                extent,
                segment.offset,
                segment.length,
                segment.blob_id,
                key,
                name,
            )
        return BlobReader(pieces)

    def segment_readers(
        self, segments: Iterable[Segment], data_key: bytes | None = None
    ) -> list[BlobReader]:
        """One reader per segment (a multipart object's ETag is per part)."""
        return [self.reader([s], 0, s.length, data_key) for s in segments]

    def extent(self, extent_id: str) -> Extent:
        extent = read_extent(self.store, extent_id)
        if extent is None:
            raise DataCorruption(f"extent {extent_id} has no location record")
        if extent.volume not in self.volumes.by_name:
            raise DataCorruption(f"extent {extent_id} is in unknown volume {extent.volume}")
        return extent
