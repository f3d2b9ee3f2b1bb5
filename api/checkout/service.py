"""Direct checkout: hold the stock in one short transaction, then open a Stripe session.

No transaction is open while Stripe is called: the order and its reservation are committed
first, the session is created with the idempotency key `checkout-{order id}` (a retried call
gets the same session), and its id and URL are stored by a second short transaction. Should the
provider fail, a third one releases the stock and cancels the order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import CatalogueStatus, Product, Variant
from api.checkout.errors import CheckoutRefused, PaymentsRefused, PaymentsUnavailable
from api.checkout.lifecycle import lock_by_order, release_unpaid
from api.checkout.models import Checkout, CheckoutStatus
from api.checkout.placing import live_session_of, place_order
from api.checkout.schemas import BuyableProductOut, CheckoutIn, CheckoutOut
from api.core.config import Settings
from api.core.db import Database
from api.live_sessions.models import LiveOffer, LiveStatus
from integrations.payments.types import PaymentError, Payments, PaymentUnavailable

__all__ = [
    "BuyableProduct",
    "CheckoutRefused",
    "PaymentsRefused",
    "PaymentsUnavailable",
    "direct_products",
    "start_checkout",
]

log = logging.getLogger(__name__)

BuyableProduct = BuyableProductOut


def public_base(settings: Settings, fallback: str | None = None) -> str:
    """Where buyers reach us: PUBLIC_BASE_URL, else the request's own base, else host:port."""
    base = settings.public_base_url or fallback or f"http://{settings.host}:{settings.port}"
    return base.rstrip("/")


async def _abandon(db: Database, order_id: int, reason: str) -> None:
    """The session could not be opened: give the stock back and cancel the order."""
    async with db.session() as session:
        found = await lock_by_order(session, order_id)
        if found is not None:
            checkout, order = found
            await release_unpaid(
                session, checkout, order, source="checkout", reason=reason,
                status=CheckoutStatus.FAILED,
            )  # fmt: skip
        await session.commit()


async def start_checkout(
    db: Database,
    payments: Payments,
    body: CheckoutIn,
    *,
    settings: Settings,
    base_url: str | None = None,
) -> CheckoutOut:
    """Create the direct order holding its stock, open its Stripe Checkout Session, answer it.

    Raises CheckoutRefused (the buyer's to fix), PaymentsUnavailable (retry later) or
    PaymentsRefused (the provider said no); in the last two nothing stays held.
    """
    async with db.session() as session:
        placed = await place_order(session, body, expiry_minutes=settings.checkout_expiry_minutes)
        await session.commit()
    base = public_base(settings, base_url)
    coop = placed.cooperative_id
    try:
        stripe_session = await payments.create_checkout_session(
            lines=placed.lines,
            client_reference_id=placed.reference,
            success_url=f"{base}/buy/{coop}/thanks?order={placed.reference}",
            cancel_url=f"{base}/buy/{coop}?cancelled={placed.reference}",
            expires_at=int(placed.reserved_until.timestamp()),
            metadata={
                "order_id": str(placed.order_id),
                "order_reference": placed.reference,
                "cooperative_id": str(coop),
            },
            idempotency_key=f"checkout-{placed.order_id}",
        )
    except PaymentUnavailable as exc:
        log.warning("stripe unavailable; checkout released", extra={"order_id": placed.order_id})
        await _abandon(db, placed.order_id, "payment provider unavailable")
        raise PaymentsUnavailable(str(exc)) from exc
    except PaymentError as exc:
        log.warning(
            "stripe refused the session; checkout released",
            extra={"order_id": placed.order_id, "code": exc.code},
        )
        await _abandon(db, placed.order_id, f"payment provider refused: {exc}")
        raise PaymentsRefused(str(exc)) from exc
    async with db.session() as session:
        # Only a checkout still being created becomes open: a webhook that found the order by
        # its metadata first (a very quick payment) has already moved it on.
        status = col(Checkout.status)
        await session.execute(
            update(Checkout)
            .where(col(Checkout.order_id) == placed.order_id)
            .values(
                stripe_session_id=stripe_session.id,
                url=stripe_session.url,
                status=case(
                    (status == CheckoutStatus.CREATING.value, CheckoutStatus.OPEN.value),
                    else_=status,
                ),
            )
        )
        await session.commit()
    log.info(
        "checkout opened",
        extra={"order_id": placed.order_id, "amount_vnd": placed.amount_vnd, "cooperative": coop},
    )
    return CheckoutOut(
        order_reference=placed.reference,
        checkout_url=stripe_session.url or "",
        expires_at=placed.reserved_until,
        amount_vnd=placed.amount_vnd,
    )


@dataclass(frozen=True)
class _Offer:
    id: int
    price: int
    cap_left: int | None
    per_buyer_limit: int | None


async def _live_offers(
    session: AsyncSession, cooperative_id: int, live_session_id: int | None
) -> dict[int, _Offer]:
    live = await live_session_of(session, cooperative_id, live_session_id)
    if live is None or live.status != LiveStatus.LIVE.value:
        return {}
    rows = await session.execute(select(LiveOffer).where(col(LiveOffer.live_session_id) == live.id))
    return {
        o.variant_id: _Offer(
            o.id or 0,
            o.live_price_vnd,
            None if o.quantity_cap is None else max(o.quantity_cap - o.units_claimed, 0),
            o.per_buyer_limit,
        )
        for o in rows.scalars()
    }


async def direct_products(
    session: AsyncSession, cooperative_id: int, live_session_id: int | None
) -> list[BuyableProductOut]:
    """The cooperative's active variants, at the live price while its session is live."""
    offers = await _live_offers(session, cooperative_id, live_session_id)
    active = CatalogueStatus.ACTIVE.value
    rows = await session.execute(
        select(Variant, Product)
        .join(Product, col(Product.id) == col(Variant.product_id))
        .where(
            col(Variant.cooperative_id) == cooperative_id,
            col(Variant.status) == active,
            col(Product.status) == active,
        )
        .order_by(col(Product.name), col(Variant.id))
    )
    found: list[BuyableProductOut] = []
    for variant, product in rows.all():
        assert variant.id is not None
        assert product.id is not None
        offer = offers.get(variant.id)
        available = max(variant.stock_on_hand - variant.stock_reserved, 0)
        if offer is not None and offer.cap_left is not None:
            available = min(available, offer.cap_left)
        found.append(
            BuyableProductOut(
                variant_id=variant.id,
                product_id=product.id,
                name=f"{product.name} {variant.name}".strip(),
                unit=variant.unit_label,
                price_vnd=offer.price if offer else variant.price_vnd,
                regular_price_vnd=variant.price_vnd,
                available=available,
                live_offer_id=offer.id if offer else None,
                per_buyer_limit=offer.per_buyer_limit if offer else None,
            )
        )
    return found
