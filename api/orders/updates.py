"""Turn a platform's view of an order into ours: first sight through the intake, then updates.

Called by the ingestion jobs inside their transaction (the job commits). Safe to call twice with
the same data: the key is (platform, shop, platform order id), a known order is only moved
forward by the one status rule, and an update older than the one applied changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import Variant
from api.channels.mapping import resolve_variants
from api.channels.models import ChannelConnection
from api.live_sessions.attribution import release_order_claims
from api.orders import events
from api.orders.flags import add_flag
from api.orders.intake import settle_payment, take_in
from api.orders.models import FulfilmentStatus, Order, OrderFlag, OrderLine, OrderStatus
from api.orders.reservation import release_order
from api.orders.status import can_move, move_fulfilment, normalise
from api.shipments.cancel import cancel_for_order
from api.shipments.outbox import ensure_shipment
from integrations.platforms import PlatformOrder, PlatformWebhook


async def _claim_row(session: AsyncSession, values: dict[str, object]) -> tuple[Order, bool]:
    """Insert the order if new, else lock the existing row; (order, created)."""
    # RETURNING the ORM entity: a new order costs one statement, not an insert plus a select.
    inserted = (
        await session.execute(
            insert(Order)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["platform", "shop_id", "platform_order_id"])
            .returning(Order)
        )
    ).scalar()
    if inserted is not None:
        return inserted, True
    order = (
        await session.execute(
            select(Order)
            .where(
                col(Order.platform) == values["platform"],
                col(Order.shop_id) == values["shop_id"],
                col(Order.platform_order_id) == values["platform_order_id"],
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return order, False


async def _lock_known(session: AsyncSession, po: PlatformOrder) -> Order:
    """The stored order, locked for the rest of the transaction."""
    query = (
        select(Order)
        .where(
            col(Order.platform) == po.platform,
            col(Order.shop_id) == po.shop_id,
            col(Order.platform_order_id) == po.order_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


async def _lines_of(session: AsyncSession, order_id: int) -> list[OrderLine]:
    rows = await session.execute(
        select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
    )
    return list(rows.scalars())


async def _cancel(session: AsyncSession, order: Order, source: str) -> None:
    assert order.id is not None
    lines = await _lines_of(session, order.id)
    outcome = await cancel_for_order(session, order, source=source)
    if outcome in ("none", "cancelled"):
        released = await release_order(session, order, lines)
        move_fulfilment(order, FulfilmentStatus.CANCELLED)
        events.record(session, order.id, "stock_released", source, units=released)
    elif outcome == "requested":
        # The carrier may refuse (its courier may already have the parcel): the stock stays
        # reserved until it confirms, and a pickup takes it out of on-hand as usual.
        move_fulfilment(order, FulfilmentStatus.CANCEL_REQUESTED)
    # else refused: the carrier already has the parcel, so its stock is not ours to release; it
    # comes back only if the parcel is returned.
    await release_order_claims(session, order, lines)


async def cancel_goods(session: AsyncSession, order: Order, source: str) -> None:
    """A cancelled order's goods: its shipment cancelled (or asked to be), stock and offer units
    given back (the caller locked the order and moved its status)."""
    await _cancel(session, order, source)


async def apply_platform_order(
    session: AsyncSession,
    connection: ChannelConnection,
    po: PlatformOrder,
    *,
    source: str,
    variants: Mapping[str, Variant | None] | None = None,
) -> None:
    """Create or update our order from the platform's full view of it.

    A first-seen order goes through the intake (a batch of one); a known one is locked and
    moved forward. `variants` (platform SKU id -> variant) may be resolved by the caller.
    Batches of first-seen orders go to `intake.take_in` directly.
    """
    if variants is None:
        pairs = [(line.platform_sku_id, line.seller_sku) for line in po.lines]
        variants = await resolve_variants(session, connection, pairs)
    intake = await take_in(session, connection, [po], variants, source=source)
    if intake.known:
        order = await _lock_known(session, po)
        await _on_update(session, order, po, source)
        settle_payment(order)
    await session.flush()


async def _on_update(session: AsyncSession, order: Order, po: PlatformOrder, source: str) -> None:
    assert order.id is not None
    if po.update_time < order.platform_update_time:
        events.record(
            session, order.id, "stale_update_ignored", source,
            platform_status=po.status, update_time=po.update_time,
        )  # fmt: skip
        return
    order.platform_status = po.status
    order.platform_update_time = po.update_time
    target = normalise(po.platform, po.status)
    current = OrderStatus(order.status)
    if target is None or target == current:
        return
    if not can_move(current, target):
        events.record(
            session, order.id, "transition_refused", source, **{"from": current, "to": target}
        )
        return
    order.status = target.value
    events.record(session, order.id, "status_changed", source, **{"from": current, "to": target})
    if target is OrderStatus.CANCELLED:
        await _cancel(session, order, source)
    else:
        await ensure_shipment(session, order, source=source)


async def record_unknown_shop_order(session: AsyncSession, hook: PlatformWebhook) -> Order | None:
    """Keep an order of a shop nobody connected visible (flagged) instead of dropping it."""
    if hook.order_id is None:
        return None
    status = normalise(hook.platform, hook.status or "") or OrderStatus.PENDING_PAYMENT
    values: dict[str, object] = {
        "platform": hook.platform,
        "shop_id": hook.shop_id,
        "platform_order_id": hook.order_id,
        "platform_status": hook.status or "",
        "platform_update_time": hook.update_time or 0,
        "status": status.value,
        # Amounts are unknown until the shop is connected and the order fetched.
        "total_vnd": 0,
        "shipping_fee_vnd": 0,
    }
    order, created = await _claim_row(session, values)
    assert order.id is not None
    if add_flag(order, OrderFlag.UNKNOWN_SHOP, f"no channel connection for shop {hook.shop_id}"):
        events.record(session, order.id, "flagged", "webhook", flag="unknown_shop")
    if not created and (hook.update_time or 0) >= order.platform_update_time:
        if can_move(OrderStatus(order.status), status):
            order.status = status.value
        order.platform_status = hook.status or order.platform_status
        order.platform_update_time = hook.update_time or order.platform_update_time
    await session.flush()
    return order
