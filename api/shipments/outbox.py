"""The shipment outbox: a pending row written in the transaction that confirms the order.

Ingestion calls `ensure_shipment` (and `cancel.cancel_for_order`) with the order row locked,
so two deliveries of the same order cannot both write one. The hand-off job is enqueued only
after that transaction commits; if the enqueue is lost, the sweeper finds the row itself.

Lock order, everywhere: a shipment row before its order row (the jobs and the API hold the
shipment and then update the order). Ingestion holds the order first, so it only ever takes a
shipment with SKIP LOCKED and hands the work to a job when the row is busy: no deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.catalogue.models import Variant
from api.cooperatives.models import Cooperative
from api.core.bulk import column_lists, unnest_insert
from api.core.db import PhienSession
from api.core.jobs import Job
from api.orders import events
from api.orders.drafts import LineDraft, OrderDraft
from api.orders.events import EventBatch
from api.orders.models import FulfilmentStatus, Order, OrderFlag, OrderLine, OrderStatus
from api.orders.status import fulfilment_sources, move_fulfilment
from api.shipments.models import Shipment
from integrations.carriers.phones import domestic_phone

SHIPPABLE = frozenset(
    {
        OrderStatus.CONFIRMED,
        OrderStatus.READY_TO_SHIP,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    }
)
# Every flag means a person must decide first (an unmapped line, a shortfall, units over a live
# offer's cap or a buyer's limit): shipping it anyway is not our call.
BLOCKING_FLAGS = frozenset(flag.value for flag in OrderFlag)
# A carrier takes a cancellation only until its courier has the parcel.
BEFORE_PICKUP = frozenset({"pending", "handed_off"})
# Fulfilment statuses that say "a shipment is on its way to being booked or is booked".
SHIPMENT_STAGES = (FulfilmentStatus.PENDING_SHIPMENT.value, FulfilmentStatus.HANDED_OFF.value)
MAX_REFERENCES = 20


def reference_for(order_id: int, attempt: int = 1) -> str:
    """Our idempotency key at the carrier; a re-shipment after a cancel gets a fresh one."""
    return f"PHN-{order_id}" if attempt == 1 else f"PHN-{order_id}-{attempt}"


def handoff_job_id(shipment_id: int) -> str:
    """One queued hand-off per shipment (arq refuses a second job with the same id)."""
    return f"handoff:{shipment_id}"


def _jobs(session: AsyncSession) -> PhienSession:
    assert isinstance(session, PhienSession), "jobs need a PhienSession (sent after commit)"
    return session


def enqueue_handoff(session: AsyncSession, shipment_id: int) -> None:
    """Book this shipment once the transaction commits."""
    _jobs(session).enqueue_after_commit(
        Job.HAND_OFF_SHIPMENT, shipment_id, job_id=handoff_job_id(shipment_id)
    )


def handoffs_job_id(order_ids: Sequence[int | None]) -> str:
    """The id of the batch job booking these orders' new shipments (their first order's)."""
    return f"handoffs:order-{min(i or 0 for i in order_ids)}"


def enqueue_handoffs(session: AsyncSession, shipment_ids: list[int], job_id: str) -> None:
    """Book these shipments in one job (calls side by side) once the transaction commits."""
    if shipment_ids:
        _jobs(session).enqueue_after_commit(
            Job.HAND_OFF_SHIPMENTS, sorted(shipment_ids), job_id=job_id
        )


def enqueue_cancel(session: AsyncSession, shipment_id: int) -> None:
    """Cancel this shipment at the carrier once the transaction commits."""
    _jobs(session).enqueue_after_commit(
        Job.CANCEL_SHIPMENT, shipment_id, job_id=f"cancel:{shipment_id}"
    )


def is_shippable(order: Order | OrderDraft) -> bool:
    """Confirmed or later, not cancelled, stock reserved, every line mapped, nothing flagged."""
    try:
        status = OrderStatus(order.status)
    except ValueError:
        return False
    return (
        status in SHIPPABLE
        and order.cooperative_id is not None
        and order.fulfilment_status == FulfilmentStatus.RESERVED.value
        and not BLOCKING_FLAGS.intersection(order.flags)
    )


async def _carrier_and_weight(session: AsyncSession, order: Order) -> tuple[str, int]:
    weight = (
        select(func.coalesce(func.sum(col(OrderLine.quantity) * col(Variant.shipping_weight_g)), 0))
        .join(Variant, col(Variant.id) == col(OrderLine.variant_id))
        .where(col(OrderLine.order_id) == order.id)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(col(Cooperative.carrier), weight).where(
                col(Cooperative.id) == order.cooperative_id
            )
        )
    ).one()
    return str(row[0]), int(row[1])


def _values(order: Order | OrderDraft, carrier: str, weight_g: int) -> dict[str, object]:
    return {
        "order_id": order.id,
        "cooperative_id": order.cooperative_id,
        "carrier": carrier,
        # Never charge shipping twice: the order total already holds the buyer's shipping fee,
        # and the carrier bills its own fee to the cooperative, not on top of COD.
        "cod_amount_vnd": order.total_vnd if order.payment_method == "cod" else 0,
        "weight_g": weight_g,
        "status": "pending",
        "receiver_name": order.buyer_name,
        # The domestic form carriers expect; the order keeps the phone as the platform sent it.
        "receiver_phone": domestic_phone(order.buyer_phone),
        "receiver_province": order.ship_province,
        "receiver_ward": order.ship_ward,
        "receiver_district": order.ship_district,
        "receiver_street": order.ship_street,
    }


async def active_shipment_id(session: AsyncSession, order_id: int) -> int | None:
    """The order's live (not cancelled) shipment, without locking it."""
    return (
        await session.execute(
            select(col(Shipment.id)).where(
                col(Shipment.order_id) == order_id, col(Shipment.status) != "cancelled"
            )
        )
    ).scalar_one_or_none()


async def _insert(
    session: AsyncSession, order: Order, values: dict[str, object]
) -> Shipment | None:
    assert order.id is not None
    for attempt in range(1, MAX_REFERENCES + 1):
        # No conflict target: it covers both the one-live-shipment-per-order partial index and
        # the unique reference (held by an earlier, cancelled shipment of the same order).
        shipment = (
            await session.execute(
                insert(Shipment)
                .values(reference=reference_for(order.id, attempt), **values)
                .on_conflict_do_nothing()
                .returning(Shipment)
            )
        ).scalar_one_or_none()
        if shipment is not None:
            return shipment
        if await active_shipment_id(session, order.id) is not None:
            return None
    raise RuntimeError(f"order {order.id} has been re-shipped {MAX_REFERENCES} times")


async def ensure_shipment(
    session: AsyncSession, order: Order, *, source: str = "outbox"
) -> Shipment | None:
    """Write the order's pending shipment and enqueue its hand-off; None if none was written."""
    if not is_shippable(order):
        return None
    assert order.id is not None
    carrier, weight_g = await _carrier_and_weight(session, order)
    if weight_g <= 0:
        return None
    shipment = await _insert(session, order, _values(order, carrier, weight_g))
    if shipment is None:
        return None
    assert shipment.id is not None
    move_fulfilment(order, FulfilmentStatus.PENDING_SHIPMENT)
    events.record(
        session, order.id, "shipment_created", source,
        shipment_id=shipment.id, carrier=carrier, reference=shipment.reference,
        weight_g=weight_g, cod_amount_vnd=shipment.cod_amount_vnd,
    )  # fmt: skip
    enqueue_handoff(session, shipment.id)
    return shipment


_SHIPMENT_COLUMNS = {
    "order_id": "bigint", "reference": "text", "cooperative_id": "bigint", "carrier": "text",
    "cod_amount_vnd": "bigint", "weight_g": "integer", "status": "text", "receiver_name": "text",
    "receiver_phone": "text", "receiver_province": "text", "receiver_ward": "text",
    "receiver_district": "text", "receiver_street": "text", "handoff_job_id": "text",
}  # fmt: skip
_INSERT_MANY = unnest_insert(
    "shipments",
    _SHIPMENT_COLUMNS,
    tail="ON CONFLICT DO NOTHING RETURNING id, order_id, carrier, reference, cod_amount_vnd",
)


async def write_new_shipments(
    session: AsyncSession,
    batch: Sequence[tuple[OrderDraft, Sequence[LineDraft]]],
    shipping_weight_g: Mapping[int, int],
    trail: EventBatch,
) -> int:
    """The outbox rows of a batch of first-seen orders, in one statement.

    Same rules as `ensure_shipment`: only shippable orders with a weight; the order moves to
    pending_shipment and its hand-off is enqueued after commit. Returns how many were written.
    """
    ready: list[tuple[OrderDraft, int]] = []
    for order, lines in batch:
        weight = sum(
            line.quantity * shipping_weight_g.get(line.variant_id, 0)
            for line in lines
            if line.variant_id is not None
        )
        if is_shippable(order) and weight > 0:
            ready.append((order, weight))
    if not ready:
        return 0
    cooperative_ids = {order.cooperative_id for order, _ in ready}
    rows = await session.execute(
        select(col(Cooperative.id), col(Cooperative.carrier)).where(
            col(Cooperative.id).in_(cooperative_ids)
        )
    )
    carriers: dict[int | None, str] = dict(rows.all())
    by_id = {order.id: (order, weight) for order, weight in ready}
    job_id = handoffs_job_id(list(by_id))
    values = [
        {
            **_values(order, carriers[order.cooperative_id], weight),
            "reference": reference_for(order.id or 0),
            "handoff_job_id": job_id,
        }
        for order, weight in ready
    ]
    written: list[int] = []
    for row in await session.execute(_INSERT_MANY, column_lists(values, list(_SHIPMENT_COLUMNS))):
        order, weight = by_id[row.order_id]
        move_fulfilment(order, FulfilmentStatus.PENDING_SHIPMENT)
        trail.add(
            row.order_id, "shipment_created", shipment_id=row.id, carrier=row.carrier,
            reference=row.reference, weight_g=weight,
            cod_amount_vnd=row.cod_amount_vnd,
        )  # fmt: skip
        written.append(row.id)
    enqueue_handoffs(session, written, job_id)
    return len(written)


async def set_fulfilment(
    session: AsyncSession, order_id: int, to: FulfilmentStatus, *, only_from: tuple[str, ...]
) -> bool:
    """Move the order's fulfilment status if it is still in one of `only_from` and the one
    fulfilment rule allows the move (one statement)."""
    moved = await session.execute(
        update(Order)
        .where(
            col(Order.id) == order_id,
            col(Order.fulfilment_status).in_(fulfilment_sources(to, among=only_from)),
        )
        .values(fulfilment_status=to.value)
        .returning(col(Order.id))
    )
    return moved.scalar_one_or_none() is not None
