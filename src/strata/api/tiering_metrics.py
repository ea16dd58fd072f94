"""Metrics of Intelligent-Tiering moves and archive restores (``service/objects/tiering``)."""

from __future__ import annotations

from strata.api.metrics import Metrics, Sample
from strata.service.objects.tiering.service import Tiering
from strata.service.objects.tiering.tiers import DEPTH


def _moves(tiering: Tiering) -> list[Sample]:
    moves = tiering.engine.moves_total
    return [({"tier": tier or "FREQUENT"}, float(moves[tier])) for tier in DEPTH]


def register(metrics: Metrics, tiering: Tiering) -> None:
    engine, restores = tiering.engine, tiering.restores
    metrics.register(
        "strata_tiering_moves_total",
        "Intelligent-Tiering versions moved into each access tier (bytes between volumes).",
        lambda: _moves(tiering),
        kind="counter",
    )
    metrics.register(
        "strata_tiering_moved_bytes_total",
        "Object bytes Intelligent-Tiering moved between volumes.",
        lambda: float(engine.moved_bytes_total),
        kind="counter",
    )
    metrics.register(
        "strata_tiering_passes_total",
        "Complete Intelligent-Tiering passes over every version.",
        lambda: float(engine.passes_total),
        kind="counter",
    )
    metrics.register(
        "strata_tiering_accesses_written_total",
        "Intelligent-Tiering access times written to version records (batched).",
        lambda: float(engine.accesses_written_total),
        kind="counter",
    )
    metrics.register(
        "strata_restores_started_total",
        "RestoreObject requests that started a restore.",
        lambda: float(restores.started_total),
        kind="counter",
    )
    metrics.register(
        "strata_restores_completed_total",
        "Restores completed (a temporary copy made, or an object back in Frequent).",
        lambda: float(restores.completed_total),
        kind="counter",
    )
    metrics.register(
        "strata_restores_expired_total",
        "Restored temporary copies removed at their expiry.",
        lambda: float(restores.expired_total),
        kind="counter",
    )
    metrics.register(
        "strata_restored_bytes_total",
        "Object bytes of completed restores.",
        lambda: float(restores.restored_bytes_total),
        kind="counter",
    )
