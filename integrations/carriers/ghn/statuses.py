"""GHN `Status` strings mapped onto the normalised status set."""

from __future__ import annotations

from integrations.carriers.base import ShipmentStatus as S
from integrations.carriers.base import StatusInfo

# Every value in the fact sheet §2.5 (agreed across several third-party codebases).
STATUSES: dict[str, StatusInfo] = {
    "ready_to_pick": StatusInfo(S.PENDING, "created, waiting for pickup"),
    "picking": StatusInfo(S.PENDING, "courier on the way to pick up"),
    "money_collect_picking": StatusInfo(S.PENDING, "collecting money from the sender at pickup"),
    "picked": StatusInfo(S.PICKED_UP, "picked up"),
    "storing": StatusInfo(S.IN_TRANSIT, "held at a hub"),
    "transporting": StatusInfo(S.IN_TRANSIT, "moving between hubs"),
    "sorting": StatusInfo(S.IN_TRANSIT, "being sorted"),
    "delivering": StatusInfo(S.OUT_FOR_DELIVERY, "out for delivery"),
    "money_collect_delivering": StatusInfo(S.OUT_FOR_DELIVERY, "collecting COD from the buyer"),
    "delivered": StatusInfo(S.DELIVERED, "delivered"),
    "delivery_fail": StatusInfo(S.DELIVERY_FAILED, "delivery failed"),
    "waiting_to_return": StatusInfo(S.RETURNING, "waiting to be returned"),
    "return": StatusInfo(S.RETURNING, "return started"),
    "return_transporting": StatusInfo(S.RETURNING, "return in transit between hubs"),
    "return_sorting": StatusInfo(S.RETURNING, "return being sorted"),
    "returning": StatusInfo(S.RETURNING, "being returned to the sender"),
    # The sheet proposes delivery_failed; that would rank below returning and be refused as a
    # backwards move, so a failed return attempt stays "returning" with the reason.
    "return_fail": StatusInfo(S.RETURNING, "return attempt failed"),
    "returned": StatusInfo(S.RETURNED, "returned to the sender"),
    "cancel": StatusInfo(S.CANCELLED, "cancelled"),
    # on_hold has no equivalent: the parcel is with GHN, so in transit with the reason.
    "exception": StatusInfo(S.IN_TRANSIT, "exception reported by GHN (on hold)"),
    "damage": StatusInfo(S.DELIVERY_FAILED, "parcel damaged by the carrier"),
    "lost": StatusInfo(S.DELIVERY_FAILED, "parcel lost by the carrier"),
}


def map_status(raw: str) -> StatusInfo:
    """Normalise one GHN status; unknown values become in_transit (karrio's fallback)."""
    known = STATUSES.get(raw.strip().lower())
    if known is not None:
        return known
    return StatusInfo(S.IN_TRANSIT, f"unknown GHN status {raw!r}")
