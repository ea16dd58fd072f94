"""S3 requests and retrievals metered in memory at the edge, by bucket and storage class.

AWS bills PUT, COPY, POST and LIST requests at one rate ("tier1") and GET, SELECT and every
other request at another ("tier2"), each by the storage class of the object concerned
(listings and bucket calls at STANDARD's); DELETE and CANCEL requests are free. GETs of
the classes that charge retrievals add their bytes. A successful response is counted;
failed requests are not (AWS bills most of those too: a known under-count).

Counting is a dictionary update on the request path; the ledger folds the counts into
durable month records every ``cost_flush_interval_s`` (a crash loses at most that long).
"""

from __future__ import annotations

from typing import Final

from strata.service.cost.prices import STORAGE_CLASSES

RETRIEVAL_CLASSES: Final = frozenset({"STANDARD_IA", "ONEZONE_IA", "GLACIER_IR"})
_CLASSES: Final = frozenset(STORAGE_CLASSES)
_FREE: Final = frozenset({"DeleteObjects", "AbortMultipartUpload"})
# Billed by ``S3Usage.restore`` instead, with the archived object's class, tier and size.
_BILLED_APART: Final = frozenset({"RestoreObject"})


def request_tier(operation: str, method: str) -> str | None:
    """``tier1``, ``tier2`` or None (free) for an S3 operation sent with ``method``."""
    if method == "DELETE" or operation in _FREE or operation in _BILLED_APART:
        return None
    if method in ("PUT", "POST") or operation.startswith("List"):
        return "tier1"
    return "tier2"


_tiers: dict[tuple[str, str], str | None] = {}  # (operation, method): S3's are few


def _tier(operation: str, method: str) -> str | None:
    try:
        return _tiers[(operation, method)]
    except KeyError:
        tier = _tiers[(operation, method)] = request_tier(operation, method)
        return tier


class S3Usage:
    """Counts since the last ``take``: (bucket, class, tier) -> requests,
    (bucket, class) -> bytes retrieved, (bucket, class, tier) -> restores and bytes."""

    __slots__ = ("requests", "restores", "retrieved")

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        self.retrieved: dict[tuple[str, str], int] = {}
        self.restores: dict[tuple[str, str, str], tuple[int, int]] = {}

    def restore(self, bucket: str, storage_class: str, tier: str, size_bytes: int) -> None:
        """A restore of an archived version began (``Restores.on_started``)."""
        key = (bucket, storage_class, tier)
        count, restored = self.restores.get(key, (0, 0))
        self.restores[key] = (count + 1, restored + size_bytes)

    def take_restores(self) -> dict[tuple[str, str, str], tuple[int, int]]:
        taken, self.restores = self.restores, {}
        return taken

    def note(
        self, bucket: str, operation: str, method: str, storage_class: str, size_bytes: int
    ) -> None:
        tier = _tier(operation, method)
        if tier is None or not bucket:
            return
        if storage_class not in _CLASSES:
            storage_class = "STANDARD"
        key = (bucket, storage_class, tier)
        self.requests[key] = self.requests.get(key, 0) + 1
        if size_bytes and tier == "tier2" and storage_class in RETRIEVAL_CLASSES:
            where = (bucket, storage_class)
            self.retrieved[where] = self.retrieved.get(where, 0) + size_bytes

    def take(self) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str], int]]:
        taken = self.requests, self.retrieved
        self.requests, self.retrieved = {}, {}
        return taken
