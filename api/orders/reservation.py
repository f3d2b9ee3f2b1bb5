"""Reserve an order's stock all or nothing; release it on cancellation.

New orders are reserved a batch at a time (`reserve_new_orders`): the batch's variant rows are
locked in id order, every order is decided in Python against the locked levels (each one still
all or nothing: the pure rule is `allocation.allocate`), and one statement moves the levels and
writes the ledger. A hot SKU is then
locked once per 50 orders instead of once per order.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.orders.allocation import Levels, allocate
from api.orders.drafts import LineDraft, OrderDraft
from api.orders.models import Order, OrderLine

_LOCK_LEVELS = text(
    """
    SELECT id, cooperative_id, stock_on_hand, stock_reserved
      FROM variants
     WHERE id = ANY(CAST(:ids AS bigint[]))
     ORDER BY id
       FOR UPDATE
    """
)
# The guard repeats the stock rule although the rows are locked: a count that does not match
# means a bug, and the caller's transaction is rolled back rather than a level going wrong.
_RESERVE_MANY = text(
    """
    WITH moves AS (
        SELECT * FROM unnest(
            CAST(:variant_ids AS bigint[]), CAST(:cooperative_ids AS bigint[]),
            CAST(:quantities AS integer[]), CAST(:on_hand_after AS bigint[]),
            CAST(:reserved_after AS bigint[]), CAST(:reasons AS text[]),
            CAST(:order_ids AS bigint[])
        ) AS m(variant_id, cooperative_id, quantity, on_hand_after, reserved_after, reason,
               order_id)
    ), wanted AS (
        SELECT variant_id, sum(quantity) AS quantity FROM moves GROUP BY variant_id
    ), moved AS (
        UPDATE variants AS v
           SET stock_reserved = v.stock_reserved + w.quantity, updated_at = now()
          FROM wanted AS w
         WHERE v.id = w.variant_id AND v.stock_on_hand >= v.stock_reserved + w.quantity
     RETURNING v.id
    ), ledger AS (
        INSERT INTO stock_movements
               (variant_id, cooperative_id, kind, quantity, on_hand_after, reserved_after,
                reason, order_id)
        SELECT variant_id, cooperative_id, 'reserved', quantity, on_hand_after,
               reserved_after, reason, order_id
          FROM moves
    )
    SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM wanted) AS wanted
    """
)


async def reserve_new_orders(
    session: AsyncSession, batch: Sequence[tuple[OrderDraft, Sequence[LineDraft]]]
) -> None:
    """Reserve each order's mapped lines all or nothing, first come first served.

    The batch's variant rows are locked in id order and `allocation.allocate` decides every
    order against them. The caller skips cancelled orders and owns the transaction.
    """
    variant_ids = sorted(
        {ln.variant_id for _, lines in batch for ln in lines if ln.variant_id is not None}
    )
    if not variant_ids:
        return
    rows = await session.execute(_LOCK_LEVELS, {"ids": variant_ids})
    levels = {
        row.id: Levels(row.cooperative_id, row.stock_on_hand, row.stock_reserved) for row in rows
    }
    ledger = allocate(batch, levels)
    if not ledger.variant_ids:
        return
    counts = (await session.execute(_RESERVE_MANY, vars(ledger))).one()
    if counts.moved != counts.wanted:
        raise RuntimeError(f"stock levels moved under a lock ({counts.moved} of {counts.wanted})")


async def release_order(session: AsyncSession, order: Order, lines: list[OrderLine]) -> int:
    """Give back every reserved unit of the order; return how many units went back."""
    released = 0
    for line in sorted(lines, key=lambda ln: ln.variant_id or 0):
        if line.variant_id is None or line.reserved_quantity <= 0:
            continue
        levels = await move_stock(
            session,
            line.variant_id,
            MovementKind.RELEASED,
            line.reserved_quantity,
            reason=f"order {order.platform_order_id} cancelled",
            order_id=order.id,
        )
        if levels is not None:
            released += line.reserved_quantity
            line.reserved_quantity = 0
    return released
