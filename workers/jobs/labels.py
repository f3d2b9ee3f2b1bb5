"""Carrier labels: fetched once by a job, stored on the shipment, refreshed before they expire.

People read the stored link (`GET /api/v1/shipments/{id}`); no request waits for a carrier.
The carrier call runs with no transaction open: read the row, call, then write the link only if
the shipment still has the waybill the link was made for.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq import Retry
from sqlalchemy import select, update
from sqlmodel import col

from api.core.db import utcnow
from api.core.jobs import Job
from api.shipments.labels import LABEL_MARGIN_S, REFRESH_STATUSES, label_job_id
from api.shipments.models import Shipment
from integrations.carriers.base import CarrierError
from workers.context import carriers_of

log = logging.getLogger(__name__)
REFRESH_LIMIT = 500


async def fetch_label(ctx: dict[str, Any], shipment_id: int) -> str:
    """Fetch and store the shipment's print link unless a fresh one is stored already."""
    async with ctx["db"].session() as session:
        row = (
            await session.execute(
                select(
                    col(Shipment.carrier),
                    col(Shipment.waybill),
                    col(Shipment.status),
                    col(Shipment.label_expires_at),
                ).where(col(Shipment.id) == shipment_id)
            )
        ).one_or_none()
    if row is None or row.waybill is None or row.status == "cancelled":
        return "nothing_to_do"
    fresh_until = utcnow() + timedelta(seconds=LABEL_MARGIN_S)
    if row.label_expires_at is not None and row.label_expires_at > fresh_until:
        return "fresh"
    try:
        label = await carriers_of(ctx).label(row.carrier, row.waybill)
    except CarrierError as exc:
        if exc.transient:
            raise Retry(defer=float(min(2 ** ctx.get("job_try", 1), 60))) from exc
        log.warning("label refused", extra={"shipment_id": shipment_id, "code": exc.code})
        return "refused"
    async with ctx["db"].session() as session:
        await session.execute(
            update(Shipment)
            .where(col(Shipment.id) == shipment_id, col(Shipment.waybill) == row.waybill)
            .values(label_url=label.url[:1000], label_expires_at=label.expires_at)
        )
        await session.commit()
    return "stored"


async def refresh_labels(ctx: dict[str, Any]) -> int:
    """Ring a fetch for stored labels about to expire on parcels not yet collected."""
    soon = utcnow() + timedelta(seconds=2 * LABEL_MARGIN_S)
    async with ctx["db"].session() as session:
        ids = list(
            (
                await session.execute(
                    select(col(Shipment.id))
                    .where(
                        col(Shipment.label_url).is_not(None),
                        col(Shipment.status).in_(REFRESH_STATUSES),
                        col(Shipment.label_expires_at) < soon,
                    )
                    .order_by(col(Shipment.id))
                    .limit(REFRESH_LIMIT)
                )
            ).scalars()
        )
        for shipment_id in ids:
            session.enqueue_after_commit(
                Job.FETCH_LABEL, shipment_id, job_id=label_job_id(shipment_id)
            )
        await session.commit()
    return len(ids)
