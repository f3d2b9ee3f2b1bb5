"""Cancelling a booked parcel at its carrier, with no transaction open during the call.

Lease the row (as a booking does) and commit, ask the carrier, then record its answer. The
carrier's refusal (its courier has the parcel) keeps the stock reserved: the pickup takes it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import Retry

from api.core.db import PhienSession, utcnow
from api.orders.models import FulfilmentStatus
from api.shipments.cancel import (
    ShipmentBusy,
    lock_for_job,
    lock_shipment,
    record_cancel_refused,
    record_cancelled,
    refusal_reason,
)
from api.shipments.models import Shipment
from api.shipments.outbox import BEFORE_PICKUP, set_fulfilment
from integrations.carriers.base import CarrierError
from workers.context import carriers_of, settings_of
from workers.jobs.handoff import BUSY_DEFER_S, LEASE_MARGIN_S, backoff


async def _claim_cancel(ctx: dict[str, Any], shipment_id: int) -> tuple[str, str] | str:
    """Settle the cancel here if no carrier is needed, else lease the row: (carrier, waybill)."""
    async with ctx["db"].session() as session:
        try:
            shipment = await lock_for_job(session, shipment_id)
        except ShipmentBusy:
            raise Retry(defer=BUSY_DEFER_S) from None  # a claim being written: look again
        if shipment is None or shipment.status == "cancelled":
            return "nothing_to_do"
        now = utcnow()
        if shipment.carrier_call_until is not None and shipment.carrier_call_until > now:
            raise Retry(defer=BUSY_DEFER_S)  # a booking in flight: cancel after it
        if shipment.waybill is None and shipment.status == "pending":
            await record_cancelled(session, shipment, "cancelled before the carrier booking")
            await session.commit()
            return "cancelled"
        if shipment.status not in BEFORE_PICKUP or shipment.waybill is None:
            await _cancel_refused(session, shipment, refusal_reason(shipment))
            await session.commit()
            return "refused"
        lease = timedelta(seconds=settings_of(ctx).handoff_deadline_s + LEASE_MARGIN_S)
        shipment.carrier_call_until = now + lease
        claim = (shipment.carrier, shipment.waybill)
        await session.commit()
    return claim


async def _cancel_refused(session: PhienSession, shipment: Shipment, reason: str) -> None:
    """The courier has the parcel: it stays reserved, and its pickup takes it out of on-hand."""
    record_cancel_refused(session, shipment, reason)
    await set_fulfilment(
        session, shipment.order_id, FulfilmentStatus.HANDED_OFF,
        only_from=(FulfilmentStatus.CANCEL_REQUESTED.value,),
    )  # fmt: skip


async def cancel_shipment(ctx: dict[str, Any], shipment_id: int) -> str:
    """Cancel one shipment: in place if unbooked, at the carrier before pickup, else refused."""
    claim = await _claim_cancel(ctx, shipment_id)
    if isinstance(claim, str):
        return claim
    carrier, waybill = claim
    error: CarrierError | None = None
    try:
        await carriers_of(ctx).get(carrier).cancel(waybill)
    except CarrierError as exc:
        error = exc
    async with ctx["db"].session() as session:
        shipment = await lock_shipment(session, shipment_id)
        shipment.carrier_call_until = None
        if error is None:
            if shipment.status != "cancelled":
                await record_cancelled(session, shipment, "cancelled at the carrier before pickup")
            outcome = "cancelled"
        elif error.transient:
            outcome = "retry"
        else:
            reason = f"carrier refused to cancel: {error.message}"
            await _cancel_refused(session, shipment, reason)
            outcome = "refused"
        await session.commit()
    if outcome == "retry":
        raise Retry(defer=backoff(ctx.get("job_try", 1))) from error
    return outcome
