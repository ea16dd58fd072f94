"""Extents: where a run of object bytes is stored, and who references it.

An extent is bytes written once into an extent file of one volume. Records name an
extent by id (``Segment.blob_id`` with ``Segment.extent`` set) and never by file, so
compaction and ``move`` re-point one ``Extent`` record, not every version sharing it.

Keys in the ``EXTENTS`` space::

    b"E" + extent_id                -> Extent (its location)
    b"R" + extent_id + owner_key    -> b""   (one per record that references it)

A reference is a key of its own, not a counter: adding or removing one is idempotent,
and an extent is free exactly when its last reference key is gone. ``RefChanges``
gathers one operation's reference changes, stages them into its batch and says which
extents that batch frees (their ``Extent`` record goes in the same batch).
"""

from __future__ import annotations

import uuid

import msgspec

from strata.storage import keys, records, spaces
from strata.storage.store import Store, WriteBatch

ID_BYTES = 32  # hex characters of an extent id
LOCATION = b"E"
REFERENCE = b"R"


class Extent(msgspec.Struct, frozen=True):
    """Bytes [offset, offset + stored_bytes) of ``file`` in ``volume``.

    ``frames`` is empty for plain bytes. Otherwise the extent is a sequence of frames,
    each ``FRAME_BYTES`` of object bytes (the last may be shorter), stored compressed
    (size > 0) or plain (size < 0: ``-size`` bytes as they are), so a range read
    decompresses only the frames it needs. ``sealed``: the stored stream (frames or plain
    bytes) is encrypted in chunks (``cipher.py``); ``stored_bytes`` counts the file's bytes,
    the frame sizes count the stream's."""

    volume: str
    file: str
    offset: int
    stored_bytes: int
    size_bytes: int
    frames: list[int] = []
    sealed: bool = False


def new_extent_id() -> str:
    return uuid.uuid4().hex


def location_key(extent_id: str) -> bytes:
    return LOCATION + extent_id.encode()


def reference_key(extent_id: str, owner: bytes) -> bytes:
    return REFERENCE + extent_id.encode() + owner


def references_prefix(extent_id: str) -> bytes:
    return REFERENCE + extent_id.encode()


def read_extent(store: Store, extent_id: str) -> Extent | None:
    raw = store.get(spaces.EXTENTS, location_key(extent_id))
    return None if raw is None else records.decode(raw, Extent)


def all_extents(store: Store) -> list[tuple[str, Extent]]:
    """Every extent's location (start-up accounting, compaction)."""
    found = []
    for raw_key, value in store.scan(spaces.EXTENTS, LOCATION, keys.prefix_end(LOCATION)):
        found.append((raw_key[1:].decode(), records.decode(value, Extent)))
    return found


class RefChanges:
    """One operation's reference changes to extents, staged into its batch together.

    Call ``stage`` with no ``await`` between it and the apply of the batch: it reads the
    references other records hold, and that answer must still be true when it lands."""

    __slots__ = ("_added", "_new", "_removed")

    def __init__(self) -> None:
        self._added: dict[tuple[str, bytes], None] = {}
        self._removed: dict[tuple[str, bytes], None] = {}
        self._new: dict[str, Extent] = {}

    def created(self, extent_id: str, extent: Extent) -> None:
        """An extent this operation wrote: its location lands with its first reference."""
        self._new[extent_id] = extent

    def add(self, extent_id: str, owner: bytes) -> None:
        self._removed.pop((extent_id, owner), None)
        self._added[(extent_id, owner)] = None

    def remove(self, extent_id: str, owner: bytes) -> None:
        self._added.pop((extent_id, owner), None)
        self._removed[(extent_id, owner)] = None

    def stage(self, store: Store, batch: WriteBatch) -> list[tuple[str, Extent]]:
        """Put the changes into ``batch``; returns the extents it frees (their location
        record is deleted in the batch; their bytes become garbage for compaction)."""
        for extent_id, new in self._new.items():
            batch.put(spaces.EXTENTS, location_key(extent_id), records.encode(new))
        for extent_id, owner in self._added:
            batch.put(spaces.EXTENTS, reference_key(extent_id, owner), b"")
        for extent_id, owner in self._removed:
            batch.delete(spaces.EXTENTS, reference_key(extent_id, owner))
        freed: list[tuple[str, Extent]] = []
        for extent_id in {extent_id for extent_id, _ in self._removed}:
            if self._referenced(store, extent_id):
                continue
            extent: Extent | None = self._new.get(extent_id) or read_extent(store, extent_id)
            batch.delete(spaces.EXTENTS, location_key(extent_id))
            if extent is not None:
                freed.append((extent_id, extent))
        return freed

    def _referenced(self, store: Store, extent_id: str) -> bool:
        if any(added_id == extent_id for added_id, _ in self._added):
            return True
        prefix = references_prefix(extent_id)
        for raw_key, _ in store.scan(spaces.EXTENTS, prefix, keys.prefix_end(prefix)):
            if (extent_id, raw_key[len(prefix) :]) not in self._removed:
                return True
        return False
