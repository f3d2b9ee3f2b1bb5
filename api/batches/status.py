"""The batch's status axis: one table of allowed moves, asked by every writer.

open → packing → ready → handed_over → closed. Scanning moves an open batch to packing; a ready
batch may go back to packing (a parcel to re-pack). An open or packing batch with no parcels
left may be closed (a proposal nobody needs). ready and handed_over also need every parcel
packed (checked by the service, which holds the batch row).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class BatchStatus(StrEnum):
    """Where a pickup batch is in its day."""

    OPEN = "open"
    PACKING = "packing"
    READY = "ready"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


_B = BatchStatus
BATCH_MOVES: Mapping[BatchStatus, frozenset[BatchStatus]] = {
    _B.OPEN: frozenset({_B.PACKING, _B.READY, _B.CLOSED}),
    _B.PACKING: frozenset({_B.READY, _B.CLOSED}),
    _B.READY: frozenset({_B.PACKING, _B.HANDED_OVER}),
    _B.HANDED_OVER: frozenset({_B.CLOSED}),
    _B.CLOSED: frozenset(),
}
# Parcels may be added while these hold (not once the batch is ready to go).
ACCEPTS_PARCELS = frozenset({_B.OPEN, _B.PACKING})
# Statuses in which the batch's parcels are "in an open batch" (see models.OPEN_STATUSES).
OPEN = frozenset({_B.OPEN, _B.PACKING, _B.READY})


def can_move_batch(current: str, target: str) -> bool:
    """Whether a batch may go from `current` to `target` (same status is not a move)."""
    try:
        return BatchStatus(target) in BATCH_MOVES[BatchStatus(current)]
    except ValueError:
        return False


def batch_sources(target: BatchStatus) -> list[str]:
    """The statuses `target` may be reached from, for a conditional UPDATE."""
    return sorted(str(s) for s, moves in BATCH_MOVES.items() if target in moves)
