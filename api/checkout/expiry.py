"""Reservations past their expiry whose session was never paid: found, then released.

The `checkout.session.expired` webhook normally releases them; this is for when it is lost
(or late). A session still open at Stripe is expired there first (by the sweeper job, with no
transaction open), so the buyer cannot pay for stock we have given back; a payment that slips
through anyway is handled as paid-after-expiry (`lifecycle.mark_paid`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.checkout.lifecycle import lock_by_order, release_unpaid
from api.checkout.models import CheckoutStatus

SOURCE = "checkout_sweeper"
_DUE = text(
    """
    SELECT order_id, stripe_session_id FROM checkout_sessions
     WHERE released_at IS NULL AND paid_at IS NULL AND status IN ('creating', 'open')
       AND reserved_until < now()
     ORDER BY reserved_until
     LIMIT :limit
    """
)


@dataclass(frozen=True)
class Due:
    """A held reservation past its expiry."""

    order_id: int
    stripe_session_id: str | None


async def due_checkouts(session: AsyncSession, limit: int = 100) -> list[Due]:
    """Unpaid open checkouts past their expiry, oldest first."""
    rows = await session.execute(_DUE, {"limit": limit})
    return [Due(int(row.order_id), row.stripe_session_id) for row in rows]


async def release_expired(session: AsyncSession, order_id: int, reason: str) -> bool:
    """Release the order's reservation if it is still held, unpaid and open; True if released."""
    found = await lock_by_order(session, order_id)
    if found is None:
        return False
    checkout, order = found
    if checkout.status not in (CheckoutStatus.CREATING.value, CheckoutStatus.OPEN.value):
        return False
    return await release_unpaid(
        session, checkout, order, source=SOURCE, reason=reason, status=CheckoutStatus.EXPIRED
    )
