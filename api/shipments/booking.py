"""Turn our rows into a carrier BookingRequest: pure, no I/O (the hand-off job feeds it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.cooperatives.models import Cooperative
from api.orders.models import Order
from api.shipments.models import Shipment
from integrations.carriers.base import Address, BookingRequest, Item, Parcel
from integrations.carriers.phones import domestic_phone

# What the buyer may do at the door: inspect, not try (produce cannot be "tried on").
DELIVERY_NOTE = "Cho xem hàng, không cho thử"


@dataclass(frozen=True)
class LineToShip:
    """One order line as packed: unit price in VND and unit shipping weight in grams."""

    name: str
    quantity: int
    unit_price_vnd: int
    unit_weight_g: int


def _one_line(*parts: str | None) -> str:
    return ", ".join(p.strip() for p in parts if p and p.strip())


def sender_address(coop: Cooperative) -> Address:
    """The cooperative's collection point, where the carrier picks the parcel up."""
    return Address(
        name=coop.name,
        phone=domestic_phone(coop.phone),
        province=coop.province_name,
        ward=coop.ward_name,
        street=coop.street,
        full_address=_one_line(
            coop.street, coop.ward_name, coop.legacy_district, coop.province_name
        ),
        district=coop.legacy_district,
    )


def receiver_untouched(shipment: Shipment, order: Order) -> bool:
    """True while the shipment still carries the address exactly as the platform sent it."""
    return (
        shipment.receiver_province,
        shipment.receiver_ward,
        shipment.receiver_district,
        shipment.receiver_street,
    ) == (order.ship_province, order.ship_ward, order.ship_district, order.ship_street)


def receiver_address(shipment: Shipment, order: Order) -> Address:
    """The buyer's address: the platform's own one-line text unless logistics corrected it."""
    # The platform's line may carry details its parts lost (landmarks, hamlet names), so it
    # passes through intact; once a person corrected the parts, it would contradict them.
    full = order.ship_full_address if receiver_untouched(shipment, order) else ""
    return Address(
        name=shipment.receiver_name,
        phone=domestic_phone(shipment.receiver_phone),
        province=shipment.receiver_province,
        ward=shipment.receiver_ward,
        street=shipment.receiver_street,
        full_address=full
        or _one_line(
            shipment.receiver_street,
            shipment.receiver_ward,
            shipment.receiver_district,
            shipment.receiver_province,
        ),
        district=shipment.receiver_district,
    )


def _describe(lines: Sequence[LineToShip]) -> str:
    return "; ".join(f"{line.name} x{line.quantity}" for line in lines)[:500]


def build_booking_request(
    shipment: Shipment, order: Order, coop: Cooperative, lines: Sequence[LineToShip]
) -> BookingRequest:
    """Everything the carrier needs; `reference` is the shipment's idempotency key."""
    prepaid = order.payment_method != "cod"
    return BookingRequest(
        reference=shipment.reference,
        sender=sender_address(coop),
        receiver=receiver_address(shipment, order),
        parcel=Parcel(
            weight_grams=shipment.weight_g,
            value_vnd=sum(line.quantity * line.unit_price_vnd for line in lines),
            description=_describe(lines),
        ),
        # The COD amount already holds everything the buyer owes, shipping included: the
        # carrier clients collect exactly it and bill their own fee to the cooperative.
        cod_amount_vnd=0 if prepaid else shipment.cod_amount_vnd,
        prepaid=prepaid,
        note=DELIVERY_NOTE,
        items=[
            Item(line.name or "Nông sản", line.quantity, line.unit_weight_g, line.unit_price_vnd)
            for line in lines
        ],
    )
