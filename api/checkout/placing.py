"""The one short transaction that turns a buyer's checkout into an order holding its stock.

Lock order as every other writer: the variant rows (id order), then the live offers (id order),
then the new order. Every refusal raises `CheckoutRefused` before anything is committed, so a
refused checkout leaves no order, no reservation and no claim behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import CatalogueStatus, MovementKind, Product, Variant
from api.catalogue.stock import move_stock
from api.checkout.errors import CheckoutRefused
from api.checkout.models import Checkout
from api.checkout.schemas import CheckoutIn
from api.cooperatives.addresses import UnknownPlace, resolve_place
from api.cooperatives.models import Cooperative
from api.core.db import utcnow
from api.live_sessions.models import LiveOffer, LiveSession, LiveStatus
from api.orders import events
from api.orders.models import FulfilmentStatus, Order, OrderLine, OrderStatus, PaymentStatus
from api.orders.phones import normalise_phone, phone_digest
from api.orders.status import move_fulfilment
from integrations.payments.types import CheckoutLine

DIRECT = "direct"
CARD = "card"
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

_LOCK_VARIANTS = text(
    """
    SELECT id FROM variants WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE
    """
)
# Units this buyer (by phone hash) already holds on the session's offers, open orders only.
_BUYER_HELD = text(
    """
    SELECT l.variant_id, sum(l.quantity) AS units
      FROM order_lines AS l JOIN orders AS o ON o.id = l.order_id
     WHERE o.live_session_id = :session_id AND o.buyer_id = :buyer_id
       AND o.status <> 'cancelled' AND l.live_offer_id IS NOT NULL
       AND l.variant_id = ANY(CAST(:variant_ids AS bigint[]))
     GROUP BY l.variant_id
    """
)
CLAIM_OFFER = text(
    """
    UPDATE live_offers SET units_claimed = units_claimed + :quantity
     WHERE id = :offer_id AND (quantity_cap IS NULL OR units_claimed + :quantity <= quantity_cap)
 RETURNING id
    """
)


def new_reference() -> str:
    """A short, unguessable order reference the buyer sees (and the thanks page asks for)."""
    return "D" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(11))


@dataclass(frozen=True)
class Placed:
    """What the committed order needs for its Stripe session."""

    order_id: int
    reference: str
    cooperative_id: int
    amount_vnd: int
    reserved_until: datetime
    lines: list[CheckoutLine]


@dataclass
class _Line:
    index: int
    variant: Variant
    product: Product
    quantity: int
    offer: LiveOffer | None = None

    @property
    def price(self) -> int:
        return self.offer.live_price_vnd if self.offer is not None else self.variant.price_vnd

    @property
    def name(self) -> str:
        return f"{self.product.name} {self.variant.name}".strip()[:300]


def _merged(body: CheckoutIn) -> list[tuple[int, int, int]]:
    """(first index, variant id, quantity) with repeated variants added up."""
    seen: dict[int, tuple[int, int]] = {}
    for index, line in enumerate(body.lines):
        first, quantity = seen.get(line.variant_id, (index, 0))
        seen[line.variant_id] = (first, quantity + line.quantity)
    for _variant_id, (first, quantity) in seen.items():
        if quantity > 99:
            raise CheckoutRefused(
                "too_many_units", "at most 99 units of one variant", f"lines.{first}.quantity"
            )
    return sorted((first, vid, q) for vid, (first, q) in seen.items())


async def _lines(session: AsyncSession, body: CheckoutIn) -> list[_Line]:
    wanted = _merged(body)
    ids = sorted(vid for _, vid, _ in wanted)
    await session.execute(_LOCK_VARIANTS, {"ids": ids})
    rows = await session.execute(
        select(Variant, Product)
        .join(Product, col(Product.id) == col(Variant.product_id))
        .where(col(Variant.id).in_(ids))
        .execution_options(populate_existing=True)
    )
    found = {variant.id: (variant, product) for variant, product in rows.all()}
    lines: list[_Line] = []
    for index, variant_id, quantity in wanted:
        pair = found.get(variant_id)
        field = f"lines.{index}.variant_id"
        if pair is None or pair[0].cooperative_id != body.cooperative_id:
            raise CheckoutRefused("unknown_variant", "no such product at this cooperative", field)
        variant, product = pair
        active = CatalogueStatus.ACTIVE.value
        if variant.status != active or product.status != active:
            raise CheckoutRefused("inactive_product", "this product is not on sale", field)
        available = variant.stock_on_hand - variant.stock_reserved
        if available < quantity:
            raise CheckoutRefused(
                "out_of_stock",
                f"only {max(available, 0)} left of {product.name}",
                f"lines.{index}.quantity",
            )
        lines.append(_Line(index, variant, product, quantity))
    return lines


async def live_session_of(
    session: AsyncSession, cooperative_id: int, live_session_id: int | None
) -> LiveSession | None:
    """The cooperative's session (CheckoutRefused if it is another's or unknown)."""
    if live_session_id is None:
        return None
    live = await session.get(LiveSession, live_session_id)
    if live is None or live.cooperative_id != cooperative_id:
        raise CheckoutRefused("unknown_live_session", "no such live session", "live_session_id")
    return live


async def _apply_offers(
    session: AsyncSession, live: LiveSession, lines: list[_Line], buyer_id: str
) -> None:
    """While the session is live: live prices, caps and per-buyer limits, as platform orders."""
    variant_ids = [line.variant.id for line in lines]
    offers = {
        offer.variant_id: offer
        for offer in (
            await session.execute(
                select(LiveOffer)
                .where(
                    col(LiveOffer.live_session_id) == live.id,
                    col(LiveOffer.variant_id).in_(variant_ids),
                )
                .order_by(col(LiveOffer.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    held = {
        int(row.variant_id): int(row.units)
        for row in await session.execute(
            _BUYER_HELD,
            {"session_id": live.id, "buyer_id": buyer_id, "variant_ids": variant_ids},
        )
    }
    for line in lines:
        offer = offers.get(line.variant.id or 0)
        if offer is None:
            continue
        field = f"lines.{line.index}.quantity"
        if offer.per_buyer_limit is not None:
            units = held.get(offer.variant_id, 0) + line.quantity
            if units > offer.per_buyer_limit:
                raise CheckoutRefused(
                    "over_buyer_limit",
                    f"at most {offer.per_buyer_limit} per buyer in this live session",
                    field,
                )
        if (
            offer.quantity_cap is not None
            and offer.units_claimed + line.quantity > offer.quantity_cap
        ):
            left = max(offer.quantity_cap - offer.units_claimed, 0)
            raise CheckoutRefused("over_offer_cap", f"only {left} left at the live price", field)
        line.offer = offer


def _order(body: CheckoutIn, reference: str, live: LiveSession | None) -> Order:
    """The order's header, the buyer's address and phone checked (before any row is locked)."""
    buyer = body.buyer
    try:
        place = resolve_place(buyer.province, buyer.ward)
    except UnknownPlace as exc:
        raise CheckoutRefused("bad_address", str(exc), f"buyer.{exc.field}") from None
    phone = normalise_phone(buyer.phone)
    digest = phone_digest(buyer.phone)
    if phone is None or digest is None:
        raise CheckoutRefused("bad_phone", "not a Vietnamese phone number", "buyer.phone")
    full = f"{buyer.street}, {place.ward_name}, {place.province_name}"
    return Order(
        cooperative_id=body.cooperative_id,
        platform=DIRECT,
        shop_id=str(body.cooperative_id),
        platform_order_id=reference,
        platform_status="checkout",
        placed_at=utcnow(),
        status=OrderStatus.PENDING_PAYMENT.value,
        payment_status=PaymentStatus.PENDING.value,
        payment_method=CARD,
        # The buyer, for per-buyer limits: their phone's keyed hash, never the number.
        buyer_id=digest,
        buyer_name=buyer.name[:200],
        buyer_phone=phone,
        buyer_phone_hash=digest,
        ship_province=place.province_name,
        ship_ward=place.ward_name,
        ship_street=buyer.street[:500],
        ship_full_address=full[:1000],
        live_session_id=live.id if live is not None and live.status == LiveStatus.LIVE else None,
    )


async def _reserve(session: AsyncSession, order: Order, lines: list[_Line]) -> None:
    assert order.id is not None
    for line in sorted(lines, key=lambda ln: ln.variant.id or 0):
        assert line.variant.id is not None
        levels = await move_stock(
            session, line.variant.id, MovementKind.RESERVED, line.quantity,
            reason=f"direct order {order.platform_order_id}", order_id=order.id,
        )  # fmt: skip
        if levels is None:  # the rows are locked: only a bug gets here
            raise RuntimeError(f"variant {line.variant.id} could not be reserved under its lock")
        if line.offer is not None:
            claimed = await session.execute(
                CLAIM_OFFER, {"offer_id": line.offer.id, "quantity": line.quantity}
            )
            if claimed.first() is None:
                raise RuntimeError(f"offer {line.offer.id} moved under its lock")


async def place_order(session: AsyncSession, body: CheckoutIn, *, expiry_minutes: int) -> Placed:
    """Validate, create the direct order, hold its stock and offer units (never commits)."""
    cooperative = await session.get(Cooperative, body.cooperative_id)
    if cooperative is None:
        raise CheckoutRefused("unknown_cooperative", "no such cooperative", "cooperative_id")
    live = await live_session_of(session, body.cooperative_id, body.live_session_id)
    order = _order(body, new_reference(), live)
    lines = await _lines(session, body)
    if live is not None and live.status == LiveStatus.LIVE.value:
        # Off air, the session's page sells at the regular prices, unattributed.
        await _apply_offers(session, live, lines, order.buyer_id)
    order.total_vnd = sum(line.price * line.quantity for line in lines)
    session.add(order)
    await session.flush()
    assert order.id is not None
    session.add_all(
        OrderLine(
            order_id=order.id,
            variant_id=line.variant.id,
            live_offer_id=line.offer.id if line.offer is not None else None,
            platform_sku_id=line.variant.sku[:64],
            seller_sku=line.variant.sku[:64],
            name=line.name,
            quantity=line.quantity,
            unit_price_vnd=line.price,
            net_weight_g=line.variant.net_weight_g,
            reserved_quantity=line.quantity,
        )
        for line in lines
    )
    await _reserve(session, order, lines)
    move_fulfilment(order, FulfilmentStatus.RESERVED)
    until = utcnow() + timedelta(minutes=expiry_minutes)
    session.add(
        Checkout(
            order_id=order.id,
            cooperative_id=body.cooperative_id,
            amount_vnd=order.total_vnd,
            reserved_until=until,
        )
    )
    events.record(session, order.id, "created", "checkout", status=order.status, lines=len(lines))
    events.record(session, order.id, "stock_reserved", "checkout", until=until.isoformat())
    await session.flush()
    return Placed(
        order.id, order.platform_order_id, body.cooperative_id, order.total_vnd, until,
        [CheckoutLine(line.name, line.price, line.quantity) for line in lines],
    )  # fmt: skip
