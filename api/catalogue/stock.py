"""Stock levels change only here, each by one conditional UPDATE plus one ledger row.

The CHECK constraints (reserved >= 0, on hand >= reserved) are the last line of defence; the
WHERE clauses below make the common refusals (not enough stock) a clean "no row updated"
instead of a constraint error, and keep concurrent orders from ever overselling.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.scope import Actor
from api.catalogue.models import MAX_STOCK_LEVEL, MovementKind, StockMovement
from api.catalogue.schemas import StockAdjustment, VariantRead
from api.catalogue.service import get_variant_row, variant_read
from api.core.errors import Forbidden, Unprocessable
from api.core.paging import CursorParams, keyset_page

_MOVE = text(
    """
    WITH moved AS (
        UPDATE variants
           SET stock_on_hand = stock_on_hand + :on_hand_delta,
               stock_reserved = stock_reserved + :reserved_delta,
               updated_at = now()
         WHERE id = :variant_id
           AND stock_on_hand + :on_hand_delta >= stock_reserved + :reserved_delta
           AND stock_reserved + :reserved_delta >= 0
           AND stock_on_hand + :on_hand_delta >= 0
           AND stock_on_hand + :on_hand_delta <= :ceiling
     RETURNING id, cooperative_id, stock_on_hand, stock_reserved
    )
    INSERT INTO stock_movements
           (variant_id, cooperative_id, kind, quantity, on_hand_after, reserved_after,
            reason, order_id, actor_user_id)
    SELECT id, cooperative_id, :kind, :quantity, stock_on_hand, stock_reserved,
           :reason, :order_id, :actor_user_id
      FROM moved
 RETURNING on_hand_after, reserved_after
    """
)

# Which level each kind of movement changes, and in which direction for a positive quantity.
_DELTAS: dict[MovementKind, tuple[int, int]] = {
    MovementKind.RECEIVED: (1, 0),
    MovementKind.ADJUSTED: (1, 0),
    MovementKind.RETURNED: (1, 0),
    MovementKind.RESERVED: (0, 1),
    MovementKind.RELEASED: (0, -1),
    # Shipping takes reserved units out of the warehouse for good.
    MovementKind.SHIPPED: (-1, -1),
}


@dataclass(frozen=True)
class StockLevels:
    """Levels after a movement."""

    on_hand: int
    reserved: int


async def move_stock(
    session: AsyncSession,
    variant_id: int,
    kind: MovementKind,
    quantity: int,
    *,
    reason: str = "",
    order_id: int | None = None,
    actor_user_id: int | None = None,
) -> StockLevels | None:
    """Apply one movement atomically; None when it would break a stock rule (nothing changes):
    below zero, below what is reserved, or above `MAX_STOCK_LEVEL`."""
    on_hand_sign, reserved_sign = _DELTAS[kind]
    row = (
        await session.execute(
            _MOVE,
            {
                "variant_id": variant_id,
                "on_hand_delta": on_hand_sign * quantity,
                "reserved_delta": reserved_sign * quantity,
                "kind": kind.value,
                "quantity": quantity if kind is not MovementKind.SHIPPED else -quantity,
                "reason": reason,
                "order_id": order_id,
                "actor_user_id": actor_user_id,
                "ceiling": MAX_STOCK_LEVEL,
            },
        )
    ).first()
    return None if row is None else StockLevels(row.on_hand_after, row.reserved_after)


async def adjust_stock(
    session: AsyncSession, actor: Actor, product_id: int, variant_id: int, data: StockAdjustment
) -> VariantRead:
    """Goods received or a count corrected by staff; refused if it would go below reserved."""
    variant = await get_variant_row(session, actor, product_id, variant_id)
    if not actor.can_manage_catalogue(variant.cooperative_id):
        raise Forbidden("only admins and this cooperative's coop admins adjust its stock")
    levels = await move_stock(
        session,
        variant_id,
        MovementKind(data.kind),
        data.quantity,
        reason=data.reason,
        actor_user_id=actor.user_id,
    )
    if levels is None:
        if variant.stock_on_hand + data.quantity > MAX_STOCK_LEVEL:
            raise Unprocessable(
                f"stock on hand would exceed {MAX_STOCK_LEVEL} units", field="quantity"
            )
        raise Unprocessable(
            f"stock would fall below what is reserved ({variant.stock_reserved}) or below zero",
            field="quantity",
        )
    await session.refresh(variant)
    return variant_read(variant)


async def list_movements(
    session: AsyncSession, actor: Actor, product_id: int, variant_id: int, paging: CursorParams
) -> tuple[list[StockMovement], int, bool, str | None]:
    """One page of a variant's ledger, newest first: (rows, total, capped, next cursor)."""
    await get_variant_row(session, actor, product_id, variant_id)
    query = select(StockMovement).where(col(StockMovement.variant_id) == variant_id)
    return await keyset_page(session, query, col(StockMovement.id), paging)
