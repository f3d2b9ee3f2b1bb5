"""What other parts of the system do to batches: a cancelled parcel leaves, a re-routed or
re-booked one follows.

Called from the cancel paths (`api/shipments/cancel.py`, `api/shipments/service.py`) and the
booking (`api/shipments/handoff.py`), inside their transactions: each is one statement, takes no
batch lock beyond the row it joins, and records the step in the batch's trail (no person: the
actor column stays NULL unless one is given, with source "api", "job" or "system").
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Why a parcel left a batch without a person removing it: a later booking of the same order
# follows it into the new carrier's batch.
LEFT_ACTIONS = ("parcel_left_cancelled", "parcel_left_rerouted")

_LEAVE = text(
    """
    WITH gone AS (
        DELETE FROM pickup_batch_parcels
         WHERE shipment_id = :shipment_id AND open
        RETURNING batch_id, shipment_id, packed_at
    )
    INSERT INTO batch_events (batch_id, shipment_id, action, actor_user_id, source, detail)
    SELECT batch_id, shipment_id, :action, :actor, :source,
           CAST(:detail AS jsonb) || jsonb_build_object('was_packed', packed_at IS NOT NULL)
      FROM gone
    RETURNING batch_id
    """
)

# Leaves only a batch of another carrier than the shipment's own (its carrier changed).
_LEAVE_OTHER_CARRIER = text(
    """
    WITH gone AS (
        DELETE FROM pickup_batch_parcels m
         USING pickup_batches b, shipments s
         WHERE m.shipment_id = :shipment_id AND m.open
           AND b.id = m.batch_id AND s.id = m.shipment_id AND b.carrier <> s.carrier
        RETURNING m.batch_id, m.shipment_id, b.carrier AS old_carrier, s.carrier AS new_carrier
    )
    INSERT INTO batch_events (batch_id, shipment_id, action, actor_user_id, source, detail)
    SELECT batch_id, shipment_id, 'parcel_left_rerouted', :actor, :source,
           jsonb_build_object('from_carrier', old_carrier, 'to_carrier', new_carrier)
      FROM gone
    RETURNING batch_id
    """
)

# A booked parcel whose order had a parcel in a batch that it left (cancelled, re-routed) joins
# the earliest open or packing batch of its carrier at its cooperative, if there is one.
_FOLLOW = text(
    """
    WITH target AS (
        SELECT s.id AS shipment_id, b.id AS batch_id, prev.batch_id AS from_batch
          FROM shipments s
          JOIN orders o ON o.id = s.order_id
          JOIN LATERAL (
              SELECT e.batch_id FROM batch_events e JOIN shipments p ON p.id = e.shipment_id
               WHERE p.order_id = s.order_id AND e.action = ANY(CAST(:left AS text[]))
               ORDER BY e.id DESC LIMIT 1
          ) prev ON true
          JOIN LATERAL (
              SELECT b.id FROM pickup_batches b
               WHERE b.cooperative_id = s.cooperative_id AND b.carrier = s.carrier
                 AND b.status IN ('open', 'packing') AND b.pickup_date >= :today
               ORDER BY b.pickup_date, b.window_start, b.id
               LIMIT 1
               FOR NO KEY UPDATE
          ) b ON true
         WHERE s.id = :shipment_id
           AND s.waybill IS NOT NULL AND s.status = 'handed_off'
           AND o.status <> 'cancelled' AND o.fulfilment_status = 'handed_off'
           AND NOT EXISTS (
               SELECT 1 FROM pickup_batch_parcels m WHERE m.shipment_id = s.id)
    ), added AS (
        INSERT INTO pickup_batch_parcels (batch_id, shipment_id)
        SELECT batch_id, shipment_id FROM target
        ON CONFLICT DO NOTHING
        RETURNING batch_id, shipment_id
    )
    INSERT INTO batch_events (batch_id, shipment_id, action, actor_user_id, source, detail)
    SELECT a.batch_id, a.shipment_id, 'parcel_followed_reroute', NULL, :source,
           jsonb_build_object('from_batch', t.from_batch)
      FROM added a JOIN target t USING (shipment_id)
    RETURNING batch_id
    """
)


def local_today(now: datetime | None = None) -> date:
    """Today at the collection points (Vietnam)."""
    return (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()


async def leave_open_batch(
    session: AsyncSession,
    shipment_id: int | None,
    *,
    reason: str,
    source: str = "system",
    actor_user_id: int | None = None,
    action: str = "parcel_left_cancelled",
) -> int | None:
    """Take the shipment out of its open batch (if it is in one); that batch's id."""
    if shipment_id is None:
        return None
    found = await session.execute(
        _LEAVE,
        {
            "shipment_id": shipment_id,
            "action": action,
            "actor": actor_user_id,
            "source": source,
            "detail": json.dumps({"reason": reason[:500]}, ensure_ascii=False),
        },
    )
    return found.scalar_one_or_none()


async def follow(
    session: AsyncSession,
    shipment_id: int | None,
    *,
    source: str = "system",
    actor_user_id: int | None = None,
) -> tuple[int | None, int | None]:
    """A shipment whose carrier or booking changed: it leaves a batch of another carrier, and,
    once booked, joins its new carrier's open batch. (batch left, batch joined)."""
    if shipment_id is None:
        return None, None
    left = (
        await session.execute(
            _LEAVE_OTHER_CARRIER,
            {"shipment_id": shipment_id, "actor": actor_user_id, "source": source},
        )
    ).scalar_one_or_none()
    joined = (
        await session.execute(
            _FOLLOW,
            {
                "shipment_id": shipment_id,
                "left": list(LEFT_ACTIONS),
                "today": local_today(),
                "source": source,
            },
        )
    ).scalar_one_or_none()
    return left, joined
