"""First sight of platform orders, a batch at a time: the order, its lines, stock, live, outbox.

`take_in` is how every order we have not seen before enters the system, whether it comes 50 at a
time from a drained inbox or alone from a reconcile pull. It runs in the caller's transaction:

1. insert the orders (`ON CONFLICT DO NOTHING`): those returned are ours to set up, the others
   are already known and are left to the caller's update path;
2. reserve stock all or nothing per order (`reservation.reserve_new_orders`);
3. attribute orders to live sessions and claim offer units (`attribution.attribute_new_orders`);
4. write the pending shipments of the orders ready to ship (`outbox.write_new_shipments`);
5. insert the lines, settle the orders' fulfilment, flags and session, append the audit trail.

Each step is one statement for the whole batch. Stock and offer rows are locked from step 2 to
the commit, in id order (stock first, then offers, as every other writer takes them), so a hot
SKU is locked once per batch and two batches cannot deadlock. The orders are inserted in
platform order id order for the same reason. Orders are served first come, first served by the
platform's create time when stock or an offer's cap runs short.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import Variant
from api.channels.models import ChannelConnection
from api.core.bulk import column_lists, unnest_insert
from api.live_sessions.attribution import attribute_new_orders
from api.orders.drafts import LineDraft, OrderDraft
from api.orders.events import EventBatch
from api.orders.flags import add_flag
from api.orders.models import (
    FulfilmentStatus,
    Order,
    OrderFlag,
    OrderStatus,
    PaymentStatus,
)
from api.orders.phones import phone_digest
from api.orders.reservation import reserve_new_orders
from api.orders.status import is_paid_stage, move_fulfilment, normalise
from api.shipments.outbox import write_new_shipments
from integrations.platforms import PlatformOrder

_ORDER_COLUMNS = {
    "platform": "text", "shop_id": "text", "platform_order_id": "text",
    "cooperative_id": "bigint", "channel_connection_id": "bigint", "platform_status": "text",
    "platform_update_time": "bigint", "placed_at": "timestamptz", "status": "text",
    "payment_status": "text", "fulfilment_status": "text", "payment_method": "text",
    "currency": "text", "total_vnd": "bigint", "shipping_fee_vnd": "bigint", "buyer_id": "text",
    "buyer_name": "text", "buyer_phone": "text", "buyer_phone_hash": "text",
    "ship_province": "text", "ship_ward": "text",
    "ship_district": "text", "ship_street": "text", "ship_full_address": "text",
}  # fmt: skip
_INSERT_ORDERS = unnest_insert(
    "orders",
    _ORDER_COLUMNS,
    tail="ON CONFLICT (platform, shop_id, platform_order_id) DO NOTHING"
    " RETURNING id, platform_order_id",
)
_LINE_COLUMNS = {
    "order_id": "bigint", "variant_id": "bigint", "live_offer_id": "bigint",
    "platform_sku_id": "text", "seller_sku": "text", "name": "text", "quantity": "integer",
    "unit_price_vnd": "bigint", "net_weight_g": "integer", "reserved_quantity": "integer",
}  # fmt: skip
_INSERT_LINES = unnest_insert("order_lines", _LINE_COLUMNS)
# What steps 2-4 decided, written back onto the rows step 1 inserted.
_SETTLE_ORDERS = text(
    """
    UPDATE orders AS o
       SET fulfilment_status = s.fulfilment_status, flags = string_to_array(s.flags, ','),
           flag_reasons = CAST(s.flag_reasons AS jsonb), live_session_id = s.live_session_id,
           updated_at = now()
      FROM unnest(CAST(:ids AS bigint[]), CAST(:fulfilment AS text[]), CAST(:flags AS text[]),
                  CAST(:reasons AS text[]), CAST(:sessions AS bigint[]))
           AS s(id, fulfilment_status, flags, flag_reasons, live_session_id)
     WHERE o.id = s.id
    """
)


def order_header(po: PlatformOrder, connection: ChannelConnection | None) -> dict[str, Any]:
    """Our order columns from the platform's view (texts cut to their column sizes)."""
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
        "buyer_phone_hash": phone_digest(po.buyer_phone),
        "ship_province": po.address.province[:100],
        "ship_ward": po.address.commune[:100],
        "ship_district": (po.address.district or None),
        "ship_street": po.address.street[:500],
        "ship_full_address": po.address.full_address[:1000],
    }


def settle_payment(order: Order | OrderDraft) -> None:
    """Payment follows the order: voided when cancelled unpaid, paid or COD-pending once past
    payment."""
    status = OrderStatus(order.status)
    if status is OrderStatus.CANCELLED:
        if order.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.COD_PENDING.value):
            order.payment_status = PaymentStatus.VOIDED.value
    elif order.payment_method == "cod":
        if is_paid_stage(status) and order.payment_status == PaymentStatus.PENDING.value:
            order.payment_status = PaymentStatus.COD_PENDING.value
    elif is_paid_stage(status):
        order.payment_status = PaymentStatus.PAID.value


@dataclass
class Intake:
    """What `take_in` did: the orders it created, and those it found already known."""

    created: list[OrderDraft]
    known: list[PlatformOrder]


def _new_order(po: PlatformOrder, connection: ChannelConnection) -> OrderDraft:
    order = OrderDraft(**order_header(po, connection))
    settle_payment(order)
    if order.status == OrderStatus.CANCELLED.value:
        move_fulfilment(order, FulfilmentStatus.CANCELLED)
    return order


def _lines(
    order: OrderDraft, po: PlatformOrder, variants: Mapping[str, Variant | None]
) -> list[LineDraft]:
    assert order.id is not None
    lines: list[LineDraft] = []
    unmapped: list[str] = []
    for item in po.lines:
        variant = variants.get(item.platform_sku_id)
        if variant is None:
            unmapped.append(item.seller_sku or item.platform_sku_id)
        lines.append(
            LineDraft(
                order_id=order.id,
                variant_id=variant.id if variant else None,
                platform_sku_id=item.platform_sku_id[:64],
                seller_sku=item.seller_sku[:64],
                name=f"{item.product_name} {item.sku_name}".strip()[:300],
                quantity=item.quantity,
                unit_price_vnd=item.unit_price,
                net_weight_g=variant.net_weight_g if variant else 0,
            )
        )
    if unmapped:
        add_flag(order, OrderFlag.UNMAPPED_SKU, "no variant for " + ", ".join(unmapped))
    return lines


_Snapshot = tuple[str, tuple[str, ...], str, int | None]


def _snapshot(order: OrderDraft) -> _Snapshot:
    """The columns steps 2-4 may change, to tell which rows need writing back."""
    reasons = json.dumps(order.flag_reasons, ensure_ascii=False, sort_keys=True)
    return order.fulfilment_status, tuple(order.flags), reasons, order.live_session_id


def _settle_values(orders: Sequence[OrderDraft]) -> dict[str, list[Any]]:
    snapshots = [_snapshot(order) for order in orders]
    return {
        "ids": [order.id for order in orders],
        "fulfilment": [snap[0] for snap in snapshots],
        "flags": [",".join(snap[1]) for snap in snapshots],
        "reasons": [snap[2] for snap in snapshots],
        "sessions": [snap[3] for snap in snapshots],
    }


def _line_values(line: LineDraft) -> dict[str, Any]:
    return {name: getattr(line, name) for name in _LINE_COLUMNS}


def _latest_per_order(orders: Sequence[PlatformOrder]) -> list[PlatformOrder]:
    latest: dict[str, PlatformOrder] = {}
    for po in orders:
        seen = latest.get(po.order_id)
        if seen is None or po.update_time >= seen.update_time:
            latest[po.order_id] = po
    return [latest[key] for key in sorted(latest)]


async def take_in(
    session: AsyncSession,
    connection: ChannelConnection,
    orders: Sequence[PlatformOrder],
    variants: Mapping[str, Variant | None],
    *,
    source: str,
) -> Intake:
    """Create the orders of one shop we have never seen; hand back those we already know.

    `variants` maps every platform SKU id of the batch to its variant (None: unmapped), as
    `channels.mapping.resolve_variants` finds them. Never commits.
    """
    fresh = _latest_per_order(orders)
    if not fresh:
        return Intake([], [])
    drafts = {po.order_id: _new_order(po, connection) for po in fresh}
    inserted = {key: _snapshot(order) for key, order in drafts.items()}
    values = [{name: getattr(drafts[po.order_id], name) for name in _ORDER_COLUMNS} for po in fresh]
    rows = await session.execute(_INSERT_ORDERS, column_lists(values, list(_ORDER_COLUMNS)))
    ids = {row.platform_order_id: row.id for row in rows}
    known = [po for po in fresh if po.order_id not in ids]
    made = sorted(
        (po for po in fresh if po.order_id in ids), key=lambda p: (p.create_time, p.order_id)
    )
    if not made:
        return Intake([], known)
    trail = EventBatch(source)
    batch: list[tuple[OrderDraft, list[LineDraft]]] = []
    for po in made:
        order = drafts[po.order_id]
        order.id = ids[po.order_id]
        lines = _lines(order, po, variants)
        batch.append((order, lines))
        trail.add(order.id, "created", status=order.status, lines=len(lines))
    open_ = [(o, lines) for o, lines in batch if o.status != OrderStatus.CANCELLED.value]
    await reserve_new_orders(session, open_)
    for order, _ in open_:
        assert order.id is not None
        if order.fulfilment_status == FulfilmentStatus.RESERVED.value:
            trail.add(order.id, "stock_reserved")
        elif order.fulfilment_status == FulfilmentStatus.BACKORDERED.value:
            trail.add(order.id, "backordered", reason=order.flag_reasons["backordered"])
    await attribute_new_orders(session, connection.platform, connection.shop_id, batch)
    weights = {v.id: v.shipping_weight_g for v in variants.values() if v is not None and v.id}
    await write_new_shipments(session, open_, weights, trail)
    every_line = [_line_values(line) for _, lines in batch for line in lines]
    await session.execute(_INSERT_LINES, column_lists(every_line, list(_LINE_COLUMNS)))
    changed = [o for o, _ in batch if _snapshot(o) != inserted[o.platform_order_id]]
    if changed:
        await session.execute(_SETTLE_ORDERS, _settle_values(changed))
    await trail.write(session)
    return Intake([order for order, _ in batch], known)
