"""What the batch API and the desk read: summaries, details, scan outcomes, events.

No buyer data here (names, phones, addresses live only on the printed documents), so a
programme manager may read every one of these.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.core.schemas import NO_NUL, Input

MAX_PARCELS_PER_REQUEST = 1000
ScanResult = Literal["packed", "already_packed"]


class BatchSummary(BaseModel):
    """A batch in a list: where, who collects, when, how far packing got."""

    id: int
    cooperative_id: int
    cooperative_name: str
    province_code: int
    carrier: str
    pickup_date: date
    window_start: time
    window_end: time
    status: str
    parcels: int
    packed: int
    left: int
    weight_g: int
    cod_vnd: int
    created_by: int | None
    created_at: datetime
    status_at: datetime | None
    handed_over_at: datetime | None


class BatchParcelRead(BaseModel):
    """One parcel of a batch, as the desk shows it."""

    shipment_id: int
    order_id: int
    order_reference: str
    waybill: str | None
    sort_code: str | None
    shipment_status: str
    weight_g: int
    cod_vnd: int
    added_at: datetime
    packed_at: datetime | None
    packed_by: int | None


class BatchDetail(BatchSummary):
    """A batch with its parcels (unpacked first, then by id)."""

    items: list[BatchParcelRead]


class ScanOutcome(BaseModel):
    """What a scan did: packed now, or packed before (no second event)."""

    outcome: ScanResult
    shipment_id: int
    waybill: str | None
    order_reference: str
    packed: int
    left: int


class BatchEventRead(BaseModel):
    """One step in a batch's trail."""

    id: int
    batch_id: int
    shipment_id: int | None
    action: str
    from_status: str | None
    to_status: str | None
    actor_user_id: int | None
    source: str
    at: datetime
    detail: dict[str, Any]


class BatchCreate(Input):
    """A new batch for a collection point, a carrier and a pickup window."""

    cooperative_id: int = Field(ge=1, le=2**63 - 1)
    carrier: Literal["viettel_post", "ghn"]
    pickup_date: date
    window_start: time
    window_end: time
    fill: bool = Field(default=True, description="add the booked parcels waiting there now")

    @model_validator(mode="after")
    def _window_ordered(self) -> BatchCreate:
        if self.window_start.tzinfo is not None or self.window_end.tzinfo is not None:
            raise ValueError("window times are local times at the collection point: no offset")
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class ParcelsAdd(Input):
    """Shipments to add to a batch."""

    shipment_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=MAX_PARCELS_PER_REQUEST
    )


class ScanIn(Input):
    """What the scanner typed: a waybill or our order reference (PHN-…)."""

    code: str = Field(min_length=1, max_length=64, pattern=NO_NUL)


class BatchMove(Input):
    """The status to move the batch to."""

    to: Literal["open", "packing", "ready", "handed_over", "closed"]
