"""Reserve an order's stock all or nothing; release it on cancellation.

New orders are reserved a batch at a time (`reserve_new_orders`): the batch's variant rows are
locked in id order, every order is decided in Python against the locked levels (each one still
all or nothing), and one statement moves the levels and writes the ledger. A hot SKU is then
locked once per 50 orders instead of once per order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import MovementKind
from api.catalogue.stock import move_stock
from api.orders.drafts import LineDraft, OrderDraft
from api.orders.flags import add_flag
from api.orders.models import FulfilmentStatus, Order, OrderFlag, OrderLine

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
            CAST(:quantities AS integer[]), CAST(:on_hand_after AS integer[]),
            CAST(:reserved_after AS integer[]), CAST(:reasons AS text[]),
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


@dataclass
class _Levels:
    cooperative_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class _Ledger:
    variant_ids: list[int]
    cooperative_ids: list[int]
    quantities: list[int]
    on_hand_after: list[int]
    reserved_after: list[int]
    reasons: list[str]
    order_ids: list[int | None]

    def add(
        self, variant_id: int, levels: _Levels, quantity: int, reason: str, order_id: int | None
    ) -> None:
        self.variant_ids.append(variant_id)
        self.cooperative_ids.append(levels.cooperative_id)
        self.quantities.append(quantity)
        self.on_hand_after.append(levels.on_hand)
        self.reserved_after.append(levels.reserved)
        self.reasons.append(reason)
        self.order_ids.append(order_id)


def _first_short(wanted: Sequence[LineDraft], levels: dict[int, _Levels]) -> LineDraft | None:
    """The first line (in variant order) the locked levels cannot cover, counting the order's
    earlier lines of the same variant."""
    taken: dict[int, int] = {}
    for line in wanted:
        assert line.variant_id is not None
        level = levels.get(line.variant_id)
        need = taken.get(line.variant_id, 0) + line.quantity
        if level is None or level.available < need:
            return line
        taken[line.variant_id] = need
    return None


async def reserve_new_orders(
    session: AsyncSession, batch: Sequence[tuple[OrderDraft, Sequence[LineDraft]]]
) -> None:
    """Reserve each order's mapped lines all or nothing, first come first served.

    Sets `fulfilment_status` (reserved or backordered, with the flag and its reason) and each
    reserved line's `reserved_quantity`. Orders with no mapped line are left as they are. The
    caller skips cancelled orders and owns the transaction.
    """
    wanted_by_order = [
        (order, sorted((ln for ln in lines if ln.variant_id is not None), key=_variant_key))
        for order, lines in batch
    ]
    variant_ids = sorted(
        {ln.variant_id for _, lines in wanted_by_order for ln in lines if ln.variant_id}
    )
    if not variant_ids:
        return
    rows = await session.execute(_LOCK_LEVELS, {"ids": variant_ids})
    levels = {
        row.id: _Levels(row.cooperative_id, row.stock_on_hand, row.stock_reserved) for row in rows
    }
    ledger = _Ledger([], [], [], [], [], [], [])
    for order, wanted in wanted_by_order:
        if not wanted:
            continue
        short = _first_short(wanted, levels)
        if short is not None:
            add_flag(
                order, OrderFlag.BACKORDERED,
                "not enough stock for " + (short.seller_sku or short.platform_sku_id),
            )  # fmt: skip
            order.fulfilment_status = FulfilmentStatus.BACKORDERED.value
            continue
        for line in wanted:
            assert line.variant_id is not None
            level = levels[line.variant_id]
            level.reserved += line.quantity
            ledger.add(
                line.variant_id, level, line.quantity, f"order {order.platform_order_id}", order.id
            )
            line.reserved_quantity = line.quantity
        order.fulfilment_status = FulfilmentStatus.RESERVED.value
    if not ledger.variant_ids:
        return
    counts = (await session.execute(_RESERVE_MANY, vars(ledger))).one()
    if counts.moved != counts.wanted:
        raise RuntimeError(f"stock levels moved under a lock ({counts.moved} of {counts.wanted})")


async def release_order(session: AsyncSession, order: Order, lines: list[OrderLine]) -> int:
    """Give back every reserved unit of the order; return how many units went back."""
    released = 0
    for line in sorted(lines, key=_variant_key):
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


def _variant_key(line: OrderLine | LineDraft) -> int:
    return line.variant_id or 0
