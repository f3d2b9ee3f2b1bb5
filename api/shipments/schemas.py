"""Request and response bodies for /api/v1/shipments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from api.cooperatives.schemas import PHONE_PATTERN, CarrierName
from api.core.schemas import Input, Output


class ShipmentOverview(Output):
    """A shipment without its receiver's person: what programme managers see."""

    # Forbidding extra keys keeps the audiences apart when one response may be either shape.
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: int
    order_id: int
    cooperative_id: int
    carrier: str
    reference: str
    waybill: str | None
    service_code: str | None
    sort_code: str | None
    fee_vnd: int | None
    cod_amount_vnd: int
    cod_collected_vnd: int | None
    weight_g: int
    status: str
    carrier_status: str | None
    status_reason: str | None
    status_at: datetime | None
    receiver_province: str
    receiver_ward: str
    receiver_district: str | None
    booking_error: str | None
    booking_attempts: int
    # Set while the carrier may hold the booking but has not confirmed it: not a refusal.
    awaiting_confirmation_since: datetime | None
    booked_at: datetime | None
    pickup_batch_id: int | None
    created_at: datetime
    updated_at: datetime


class ShipmentRead(ShipmentOverview):
    """A shipment with who receives it: for logistics staff, the cooperative and admins."""

    receiver_name: str
    receiver_phone: str
    receiver_street: str


class ShipmentEventRead(Output):
    """One carrier tracking event as received."""

    id: int
    raw_status: str
    status: str
    reason: str | None
    occurred_at: datetime
    outcome: str
    detail: dict[str, Any]
    created_at: datetime


class ShipmentDetail(ShipmentRead):
    """A shipment with its tracking events and a freshly generated label link."""

    events: list[ShipmentEventRead]
    # Fetched once by a job and stored; refreshed before it expires (GHN's last 30 minutes).
    label_url: str | None
    label_expires_at: datetime | None = None
    label_error: str | None = None


class ShipmentOverviewDetail(ShipmentOverview):
    """A shipment without its receiver, with its tracking events (no label: it shows the buyer)."""

    events: list[ShipmentEventRead]


# What a response holds depends on who asks: programme managers get the overview shapes.
AnyShipment = ShipmentRead | ShipmentOverview
AnyShipmentDetail = ShipmentDetail | ShipmentOverviewDetail


class ReceiverAddress(Input):
    """A corrected delivery address, two-tier (province → commune/ward), checked officially."""

    province: str | int = Field(description="Province name (any case/diacritics) or code")
    ward: str | int = Field(description="Commune/ward name or code, inside that province")
    street: str = Field(min_length=1, max_length=500)
    district: str | None = Field(default=None, max_length=100)


class ReceiverUpdate(Input):
    """What logistics may correct before the carrier books the parcel."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    address: ReceiverAddress | None = None


class ShipmentReroute(Input):
    """Book a shipment not yet booked with another carrier."""

    carrier: CarrierName
