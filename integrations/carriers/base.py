"""Carrier-neutral types: the normalised shipment status, booking data, errors and the interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol


class ShipmentStatus(StrEnum):
    """One status set for every carrier; each carrier's raw codes map onto it."""

    PENDING = "pending"
    HANDED_OFF = "handed_off"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNING = "returning"
    RETURNED = "returned"
    CANCELLED = "cancelled"


# out_for_delivery and delivery_failed share a rank: a parcel alternates between them on redelivery
# attempts, and neither move is "backwards". The three terminal statuses share the top rank.
_RANK: dict[ShipmentStatus, int] = {
    ShipmentStatus.PENDING: 0,
    ShipmentStatus.HANDED_OFF: 1,
    ShipmentStatus.PICKED_UP: 2,
    ShipmentStatus.IN_TRANSIT: 3,
    ShipmentStatus.OUT_FOR_DELIVERY: 4,
    ShipmentStatus.DELIVERY_FAILED: 4,
    ShipmentStatus.RETURNING: 5,
    ShipmentStatus.DELIVERED: 6,
    ShipmentStatus.RETURNED: 6,
    ShipmentStatus.CANCELLED: 6,
}
TERMINAL_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED}
)


class StatusInfo(NamedTuple):
    """A carrier code's normalised status and a human reason for it."""

    status: ShipmentStatus
    reason: str


def status_rank(status: ShipmentStatus) -> int:
    """Position of `status` along a parcel's life; higher is later."""
    return _RANK[status]


def is_terminal(status: ShipmentStatus) -> bool:
    """True for delivered, returned and cancelled: no carrier event moves a parcel out of them."""
    return status in TERMINAL_STATUSES


def can_transition(current: ShipmentStatus, new: ShipmentStatus) -> bool:
    """True when moving from `current` to `new` is not backwards (same rank counts as forward)."""
    if is_terminal(current):
        return False
    return _RANK[new] >= _RANK[current]


@dataclass(frozen=True)
class Address:
    """A 2025 two-tier address (province + commune/ward); legacy `district` only if needed."""

    name: str
    phone: str
    province: str
    ward: str
    street: str
    full_address: str
    district: str | None = None


@dataclass(frozen=True)
class Parcel:
    """The physical package; weights in grams, dimensions in cm, value in VND."""

    weight_grams: int
    value_vnd: int
    description: str = ""
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None


@dataclass(frozen=True)
class Item:
    """One order line as declared to the carrier: unit weight in grams and unit price in VND."""

    name: str
    quantity: int
    weight_grams: int
    price_vnd: int


@dataclass(frozen=True)
class BookingRequest:
    """Everything a carrier needs to create one shipment; `reference` is our idempotency key."""

    reference: str
    sender: Address
    receiver: Address
    parcel: Parcel
    cod_amount_vnd: int
    prepaid: bool
    note: str = ""
    service_code: str | None = None
    items: Sequence[Item] = ()


@dataclass(frozen=True)
class Booking:
    """A shipment the carrier accepted."""

    carrier: str
    reference: str
    waybill: str
    fee_vnd: int
    sort_code: str | None = None
    label_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Label:
    """A print link for a booked parcel and when the carrier stops honouring it."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class OrderState:
    """What the carrier's own API says about a parcel now (re-read for unsigned webhooks)."""

    waybill: str
    reference: str | None
    raw_status: str
    cod_amount_vnd: int | None


@dataclass(frozen=True)
class TrackingUpdate:
    """One carrier status event, normalised; `event_key` is unique per real event (for dedup)."""

    carrier: str
    waybill: str
    reference: str | None
    raw_status: str
    status: ShipmentStatus
    reason: str | None
    occurred_at: datetime
    cod_amount_vnd: int | None
    weight_grams: int | None
    event_key: str


class CarrierError(Exception):
    """A carrier call failed; `transient` says whether retrying later may succeed."""

    def __init__(self, message: str, code: str = "carrier_error", transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, code={self.code!r}, transient={self.transient})"


class DuplicateReference(CarrierError):
    """The carrier already holds this reference; `existing_waybill` when it said which."""

    def __init__(self, message: str, reference: str, existing_waybill: str | None = None) -> None:
        super().__init__(message, code="duplicate_reference", transient=False)
        self.reference = reference
        self.existing_waybill = existing_waybill


class AwaitingConfirmation(CarrierError):
    """The carrier may hold the booking (its answer was lost), but could not say: not a refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="awaiting_confirmation", transient=True)


class CarrierAuthError(CarrierError):
    """Credentials were refused; retrying with the same credentials will not help."""

    def __init__(self, message: str, code: str = "auth_failed") -> None:
        super().__init__(message, code=code, transient=False)


class WebhookPayloadError(CarrierError):
    """A webhook body could not be parsed (not JSON, or required fields missing)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_webhook_payload", transient=False)


class Carrier(Protocol):
    """What the hand-off worker needs from a carrier client."""

    name: str

    async def book(self, req: BookingRequest) -> Booking:
        """Create the shipment; raises DuplicateReference if the reference is already booked."""
        ...

    async def find_by_reference(self, reference: str) -> Booking | None:
        """The booking already made for `reference`, or None (used after a timeout or duplicate)."""
        ...

    async def cancel(self, waybill: str) -> None:
        """Cancel before pickup; raises CarrierError with the carrier's reason when refused."""
        ...

    async def label(self, waybill: str) -> Label:
        """A URL that prints the shipping label, with its expiry (short-lived for some carriers)."""
        ...
