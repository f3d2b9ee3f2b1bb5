"""Stored carrier labels: when a stored print link is still good, and when to fetch one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import PhienSession, utcnow
from api.core.jobs import Job
from api.shipments.models import Shipment

# A link this close to its expiry is treated as expired: someone may be about to print it.
LABEL_MARGIN_S = 5 * 60
# Labels are printed before the courier comes: only those parcels' links are kept fresh.
REFRESH_STATUSES = ("handed_off",)


def label_job_id(shipment_id: int) -> str:
    """One queued label fetch per shipment."""
    return f"label:{shipment_id}"


def stored_label(shipment: Shipment) -> str | None:
    """The stored print link while it is still good, else None."""
    expires = shipment.label_expires_at
    if shipment.label_url is None or expires is None:
        return None
    return shipment.label_url if expires > utcnow() + timedelta(seconds=LABEL_MARGIN_S) else None


def ask_for_label(session: AsyncSession, shipment: Shipment) -> None:
    """Have a job fetch (or refresh) the label once this transaction commits."""
    assert shipment.id is not None
    assert isinstance(session, PhienSession), "jobs need a PhienSession (sent after commit)"
    session.enqueue_after_commit(Job.FETCH_LABEL, shipment.id, job_id=label_job_id(shipment.id))
