"""Shipments for people: scoped reads, tracking history, receiver fixes, retries and cancels.

Services never commit: the request handler or the job owns the transaction. Every write takes
the shipment row first (the outbox module explains the lock order).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.batches.membership import follow, leave_open_batch
from api.cooperatives.addresses import UnknownPlace, resolve_place
from api.cooperatives.models import Cooperative
from api.cooperatives.service import visible_cooperatives
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.paging import CursorPage, CursorParams, keyset_page
from api.orders import events
from api.orders.models import FulfilmentStatus
from api.shipments.cancel import mark_cancelled, refusal_reason
from api.shipments.handoff import MAX_ATTEMPTS
from api.shipments.labels import ask_for_label, stored_label
from api.shipments.models import CARRIERS, Shipment, ShipmentEvent
from api.shipments.outbox import (
    BEFORE_PICKUP,
    SHIPMENT_STAGES,
    enqueue_cancel,
    enqueue_handoff,
    set_fulfilment,
)
from api.shipments.schemas import (
    AnyShipment,
    AnyShipmentDetail,
    ReceiverUpdate,
    ShipmentDetail,
    ShipmentEventRead,
    ShipmentOverview,
    ShipmentOverviewDetail,
    ShipmentRead,
)
from integrations.carriers.phones import domestic_phone

LOCK_NOT_AVAILABLE = "55P03"


def visible_shipments(actor: Actor) -> Any:
    """Shipments of cooperatives in the actor's scope."""
    if actor.sees_all_cooperatives:
        return true()
    return col(Shipment.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


def shipment_read(shipment: Shipment, actor: Actor) -> AnyShipment:
    """A shipment as this actor may see it: programme managers get no receiver name, phone or
    street."""
    if actor.role is Role.PROGRAM_MANAGER:
        return ShipmentOverview.model_validate(shipment)
    return ShipmentRead.model_validate(shipment)


async def list_shipments(
    session: AsyncSession, actor: Actor, *, paging: CursorParams, filters: dict[str, Any]
) -> CursorPage[AnyShipment]:
    """Shipments in scope, newest first, by status, carrier, cooperative, order, waybill or
    needing attention."""
    query = select(Shipment).where(visible_shipments(actor))
    for name in ("status", "carrier", "cooperative_id", "order_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Shipment, name) == filters[name])
    if filters.get("waybill") is not None:
        # Every carrier listed: the lookup then uses the (carrier, waybill) unique index.
        query = query.where(
            col(Shipment.carrier).in_(CARRIERS), col(Shipment.waybill) == filters["waybill"]
        )
    if filters.get("needs_attention") is not None:
        error = col(Shipment.booking_error)
        query = query.where(error.is_not(None) if filters["needs_attention"] else error.is_(None))
    rows, total, capped, cursor = await keyset_page(session, query, col(Shipment.id), paging)
    return CursorPage[AnyShipment](
        items=[shipment_read(s, actor) for s in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_cursor=cursor,
        total_capped=capped,
    )


async def get_shipment(
    session: AsyncSession, actor: Actor, shipment_id: int, *, lock: bool = False
) -> Shipment:
    """A shipment the actor may see (locked NOWAIT when asked), else NotFound."""
    query = select(Shipment).where(col(Shipment.id) == shipment_id, visible_shipments(actor))
    if lock:
        query = query.with_for_update(of=Shipment, nowait=True)
    try:
        shipment = (await session.execute(query)).scalar_one_or_none()
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        # A hand-off is talking to the carrier about this row right now.
        raise Conflict("the shipment is being booked right now; try again in a moment") from None
    if shipment is None:
        raise NotFound("shipment")
    return shipment


async def _events(session: AsyncSession, shipment_id: int) -> list[ShipmentEventRead]:
    rows = await session.execute(
        select(ShipmentEvent)
        .where(col(ShipmentEvent.shipment_id) == shipment_id)
        .order_by(col(ShipmentEvent.occurred_at), col(ShipmentEvent.id))
    )
    return [ShipmentEventRead.model_validate(e) for e in rows.scalars()]


async def shipment_detail(
    session: AsyncSession, actor: Actor, shipment_id: int
) -> AnyShipmentDetail:
    """One shipment with its tracking events and, once booked, its stored label link.

    The link is fetched by a job and stored (no request waits for a carrier); a missing or
    expiring one is asked for here and shows once the job has run. The caller commits.
    """
    shipment = await get_shipment(session, actor, shipment_id)
    assert shipment.id is not None
    if actor.role is Role.PROGRAM_MANAGER:
        return ShipmentOverviewDetail.model_validate(
            {
                **ShipmentOverview.model_validate(shipment).model_dump(),
                "events": await _events(session, shipment.id),
            }
        )
    label_url, label_error = None, None
    if shipment.waybill and shipment.status != "cancelled":
        label_url = stored_label(shipment)
        if label_url is None:
            ask_for_label(session, shipment)
            label_error = "label being prepared by the carrier; ask again in a moment"
    return ShipmentDetail.model_validate(
        {
            **shipment_read(shipment, actor).model_dump(),
            "events": await _events(session, shipment.id),
            "label_url": label_url,
            "label_expires_at": shipment.label_expires_at if label_url else None,
            "label_error": label_error,
        }
    )


def _require_logistics(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.LOGISTICS):
        raise Forbidden("only logistics staff and admins change shipments")


def _require_no_call(shipment: Shipment) -> None:
    if shipment.carrier_call_until is not None and shipment.carrier_call_until > utcnow():
        raise Conflict("the shipment is being booked right now; try again in a moment")


def _require_unbooked(shipment: Shipment, action: str) -> None:
    _require_no_call(shipment)
    if shipment.waybill is not None or shipment.status != "pending":
        raise Conflict(
            f"cannot {action}: the shipment is {shipment.status}"
            + (f" (waybill {shipment.waybill})" if shipment.waybill else "")
        )


def _receiver_changes(body: ReceiverUpdate) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["receiver_name"] = body.name
    if body.phone is not None:
        changes["receiver_phone"] = domestic_phone(body.phone)
    if body.address is not None:
        try:
            place = resolve_place(body.address.province, body.address.ward)
        except UnknownPlace as exc:
            raise Unprocessable(str(exc), field=f"address.{exc.field}") from None
        changes |= {
            "receiver_province": place.province_name,
            "receiver_ward": place.ward_name,
            "receiver_street": body.address.street,
            "receiver_district": body.address.district,
        }
    return changes


async def update_receiver(
    session: AsyncSession, actor: Actor, shipment_id: int, body: ReceiverUpdate
) -> Shipment:
    """Correct the receiver before booking (booking_error stays until someone retries)."""
    shipment = await get_shipment(session, actor, shipment_id, lock=True)
    _require_logistics(actor)
    _require_unbooked(shipment, "change the receiver")
    changes = _receiver_changes(body)
    for name, value in changes.items():
        setattr(shipment, name, value)
    events.record(
        session, shipment.order_id, "shipment_receiver_changed", "api",
        shipment_id=shipment.id, user_id=actor.user_id, fields=sorted(changes),
    )  # fmt: skip
    await session.flush()
    return shipment


async def retry_booking(session: AsyncSession, actor: Actor, shipment_id: int) -> Shipment:
    """Clear the carrier's refusal and book again (after the receiver was fixed, say)."""
    shipment = await get_shipment(session, actor, shipment_id, lock=True)
    _require_logistics(actor)
    _require_unbooked(shipment, "retry the booking")
    assert shipment.id is not None
    previous, shipment.booking_error = shipment.booking_error, None
    if shipment.booking_attempts >= MAX_ATTEMPTS:
        shipment.booking_attempts = 0  # a person's retry after we gave up: a fresh round
    events.record(
        session, shipment.order_id, "shipment_retry_requested", "api",
        shipment_id=shipment.id, user_id=actor.user_id, previous_error=previous,
    )  # fmt: skip
    enqueue_handoff(session, shipment.id)
    await session.flush()
    return shipment


async def reroute(session: AsyncSession, actor: Actor, shipment_id: int, carrier: str) -> Shipment:
    """Have another carrier book a shipment not booked yet; its hand-off runs again."""
    shipment = await get_shipment(session, actor, shipment_id, lock=True)
    _require_logistics(actor)
    _require_unbooked(shipment, "re-route the shipment")
    if shipment.awaiting_confirmation_since is not None:
        # Its carrier may hold the parcel already: a second carrier could book it twice.
        raise Conflict(
            f"{shipment.carrier} may already hold this parcel (awaiting its confirmation)"
        )
    if shipment.carrier == carrier:
        raise Conflict(f"the shipment already goes with {carrier}")
    assert shipment.id is not None
    previous = shipment.carrier
    shipment.carrier, shipment.booking_attempts = carrier, 0
    shipment.booking_error, shipment.status_reason = None, None
    events.record(
        session, shipment.order_id, "shipment_rerouted", "api",
        shipment_id=shipment.id, user_id=actor.user_id, **{"from": previous, "to": carrier},
    )  # fmt: skip
    # Out of a batch of the old carrier; into the new carrier's open batch once booked.
    await follow(session, shipment.id, source="api", actor_user_id=actor.user_id)
    enqueue_handoff(session, shipment.id)
    await session.flush()
    return shipment


async def request_cancel(session: AsyncSession, actor: Actor, shipment_id: int) -> bool:
    """Cancel before pickup: now if unbooked (True), else at the carrier by a job (False)."""
    shipment = await get_shipment(session, actor, shipment_id, lock=True)
    _require_logistics(actor)
    assert shipment.id is not None
    if shipment.status == "cancelled":
        raise Conflict("the shipment is already cancelled")
    if shipment.status not in BEFORE_PICKUP:
        raise Conflict(refusal_reason(shipment))
    _require_no_call(shipment)
    detail = {"shipment_id": shipment.id, "user_id": actor.user_id}
    await leave_open_batch(
        session, shipment.id, reason=f"cancelled by user {actor.user_id}",
        source="api", actor_user_id=actor.user_id,
    )  # fmt: skip
    if shipment.waybill is None:
        mark_cancelled(shipment, f"cancelled by user {actor.user_id} before booking")
        # The order keeps its reserved stock: it is waiting for a new shipment, not gone.
        await set_fulfilment(
            session, shipment.order_id, FulfilmentStatus.RESERVED, only_from=SHIPMENT_STAGES
        )
        events.record(session, shipment.order_id, "shipment_cancelled", "api", **detail)
        await session.flush()
        return True
    enqueue_cancel(session, shipment.id)
    events.record(session, shipment.order_id, "shipment_cancel_requested", "api", **detail)
    await session.flush()
    return False
