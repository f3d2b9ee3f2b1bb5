"""Turn a platform's view of an order into ours: upsert, status rules, stock, live attribution.

Called by the ingestion job inside its transaction (the job commits). Safe to call twice with
the same data: the upsert key is (platform, shop, platform order id), lines are written once,
and an update older than the one already applied changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import Variant
from api.channels.mapping import resolve_variants
from api.channels.models import ChannelConnection
from api.live_sessions.attribution import attribute_order, release_order_claims
from api.orders import events
from api.orders.flags import add_flag
from api.orders.models import (
    FulfilmentStatus,
    Order,
    OrderFlag,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from api.orders.reservation import release_order, reserve_order
from api.orders.status import can_move, is_paid_stage, normalise
from api.shipments.outbox import cancel_for_order, ensure_shipment
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


def _header(po: PlatformOrder, connection: ChannelConnection | None) -> dict[str, object]:
    return {
        "platform": po.platform,
        "shop_id": po.shop_id,
        "platform_order_id": po.order_id,
        "cooperative_id": connection.cooperative_id if connection else None,
        "channel_connection_id": connection.id if connection else None,
        "platform_status": po.status,
        "platform_update_time": po.update_time,
        "placed_at": datetime.fromtimestamp(po.create_time, UTC),
        "status": (normalise(po.platform, po.status) or OrderStatus.PENDING_PAYMENT).value,
        "payment_method": "cod" if po.is_cod else "prepaid",
        "currency": po.currency,
        "total_vnd": po.total_amount,
        "shipping_fee_vnd": po.shipping_fee,
        "buyer_id": po.buyer_id[:64],
        "buyer_name": po.buyer_name[:200],
        "buyer_phone": po.buyer_phone[:32],
        "ship_province": po.address.province[:100],
        "ship_ward": po.address.commune[:100],
        "ship_district": (po.address.district or None),
        "ship_street": po.address.street[:500],
        "ship_full_address": po.address.full_address[:1000],
    }


async def _write_lines(
    session: AsyncSession,
    order: Order,
    po: PlatformOrder,
    connection: ChannelConnection,
    known: dict[str, Variant | None] | None,
) -> list[OrderLine]:
    variants = (
        known
        if known is not None
        else await resolve_variants(
            session, connection, [(line.platform_sku_id, line.seller_sku) for line in po.lines]
        )
    )
    lines: list[OrderLine] = []
    unmapped: list[str] = []
    for item in po.lines:
        variant = variants.get(item.platform_sku_id)
        if variant is None:
            unmapped.append(item.seller_sku or item.platform_sku_id)
        assert order.id is not None
        lines.append(
            OrderLine(
                order_id=order.id,
                variant_id=variant.id if variant else None,
                platform_sku_id=item.platform_sku_id[:64],
                seller_sku=item.seller_sku[:64],
                name=f"{item.product_name} {item.sku_name}".strip()[:300],
                quantity=item.quantity,
                unit_price_vnd=item.unit_price,
                net_weight_g=(variant.net_weight_g * 1) if variant else 0,
            )
        )
    session.add_all(lines)
    await session.flush()
    if unmapped:
        add_flag(order, OrderFlag.UNMAPPED_SKU, "no variant for " + ", ".join(unmapped))
    return lines


def _settle_payment(order: Order) -> None:
    status = OrderStatus(order.status)
    if status is OrderStatus.CANCELLED:
        if order.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.COD_PENDING.value):
            order.payment_status = PaymentStatus.VOIDED.value
    elif order.payment_method == "cod":
        if is_paid_stage(status) and order.payment_status == PaymentStatus.PENDING.value:
            order.payment_status = PaymentStatus.COD_PENDING.value
    elif is_paid_stage(status):
        order.payment_status = PaymentStatus.PAID.value


async def _lines_of(session: AsyncSession, order_id: int) -> list[OrderLine]:
    rows = await session.execute(
        select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
    )
    return list(rows.scalars())


async def _cancel(session: AsyncSession, order: Order, source: str) -> None:
    assert order.id is not None
    lines = await _lines_of(session, order.id)
    if await cancel_for_order(session, order, source=source) != "refused":
        released = await release_order(session, order, lines)
        order.fulfilment_status = FulfilmentStatus.CANCELLED.value
        events.record(session, order.id, "stock_released", source, units=released)
    # else: the carrier already has the parcel, so its stock is not ours to release; it comes
    # back only if the parcel is returned.
    await release_order_claims(session, order, lines)


async def apply_platform_order(
    session: AsyncSession,
    connection: ChannelConnection,
    po: PlatformOrder,
    *,
    source: str,
    variants: dict[str, Variant | None] | None = None,
) -> Order:
    """Create or update our order from the platform's full view of it.

    `variants` (platform SKU id -> variant) may be resolved by the caller once for a batch.
    """
    order, created = await _claim_row(session, _header(po, connection))
    assert order.id is not None
    if created:
        await _on_created(session, order, po, connection, source, variants)
    else:
        await _on_update(session, order, po, source)
    _settle_payment(order)
    await session.flush()
    return order


async def _on_created(
    session: AsyncSession,
    order: Order,
    po: PlatformOrder,
    connection: ChannelConnection,
    source: str,
    variants: dict[str, Variant | None] | None,
) -> None:
    assert order.id is not None
    lines = await _write_lines(session, order, po, connection, variants)
    events.record(session, order.id, "created", source, status=order.status, lines=len(lines))
    if order.status == OrderStatus.CANCELLED.value:
        order.fulfilment_status = FulfilmentStatus.CANCELLED.value
        return
    if await reserve_order(session, order, lines):
        events.record(session, order.id, "stock_reserved", source)
    elif OrderFlag.BACKORDERED.value in order.flags:
        events.record(
            session, order.id, "backordered", source, reason=order.flag_reasons["backordered"]
        )
    await attribute_order(session, order, lines)
    await ensure_shipment(session, order, source=source)


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
