"""Who references object bytes: one operation's changes, staged and committed together.

Versions and parts reference their bytes through segments. An extent may be shared
(copies, part copies), so its references are one key per owner (``RefChanges``); a blob
file of the format before volumes has exactly one owner in ``BLOB_REFS``. ``ByteRefs``
takes both kinds, in the order a write stages them (removals of what it replaces, then
additions), and ``ObjectService.commit_bytes`` stages them into the batch, applies it,
updates the volumes' live-byte accounting and releases what became unreferenced.
"""

from __future__ import annotations

from collections.abc import Iterable

from strata.service.objects.records import Segment
from strata.storage import spaces
from strata.storage.store import WriteBatch
from strata.storage.volumes.extent import RefChanges


class ByteRefs:
    __slots__ = ("_blob_added", "_blob_removed", "extents")

    def __init__(self) -> None:
        self.extents = RefChanges()
        self._blob_added: set[str] = set()
        self._blob_removed: list[str] = []

    def add(self, batch: WriteBatch, segments: Iterable[Segment], owner: bytes) -> None:
        for segment in segments:
            if segment.extent:
                self.extents.add(segment.blob_id, owner)
            else:
                batch.put(spaces.BLOB_REFS, segment.blob_id.encode(), owner)
                self._blob_added.add(segment.blob_id)

    def remove(self, batch: WriteBatch, segments: Iterable[Segment], owner: bytes) -> None:
        for segment in segments:
            if segment.extent:
                self.extents.remove(segment.blob_id, owner)
            else:
                batch.delete(spaces.BLOB_REFS, segment.blob_id.encode())
                self._blob_removed.append(segment.blob_id)

    def freed_blobs(self) -> list[str]:
        """Blob files no longer referenced (a blob re-added in the batch stays)."""
        return [b for b in self._blob_removed if b not in self._blob_added]
