"""Tomorrow's batches, proposed at the cut-off so the desk starts from a ready list.

One batch per cooperative and carrier with booked parcels waiting (in no open batch), for the
configured window, filled. Safe to run any number of times: the slot's unique constraint
(cooperative, carrier, day, window start) makes a second run create nothing, and a slot that
exists already is left as staff shaped it (not topped up).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.batches.membership import LOCAL_TZ
from api.batches.service import fill_batch, insert_batch, record

_WAITING = text(
    """
    SELECT DISTINCT s.cooperative_id, s.carrier
      FROM shipments s JOIN orders o ON o.id = s.order_id
     WHERE s.waybill IS NOT NULL AND s.status = 'handed_off'
       AND o.status <> 'cancelled' AND o.fulfilment_status = 'handed_off'
       AND NOT EXISTS (
           SELECT 1 FROM pickup_batch_parcels m WHERE m.shipment_id = s.id)
     ORDER BY s.cooperative_id, s.carrier
    """
)


def proposal_day(now: datetime, cutoff: time) -> date | None:
    """The pickup day to propose for at `now` (tomorrow, local), or None before the cut-off."""
    local = now.astimezone(LOCAL_TZ)
    if local.time() < cutoff:
        return None
    return local.date() + timedelta(days=1)


async def propose_batches(
    session: AsyncSession, *, pickup_date: date, window_start: time, window_end: time
) -> list[int]:
    """Create and fill a batch per (cooperative, carrier) with parcels waiting; the new ids."""
    created: list[int] = []
    pairs = [(int(c), str(k)) for c, k in (await session.execute(_WAITING)).all()]
    for cooperative_id, carrier in pairs:
        batch = await insert_batch(
            session, cooperative_id, carrier, pickup_date, window_start, window_end, None
        )
        if batch is None:
            continue  # this slot was proposed (or made by hand) already
        assert batch.id is not None
        record(
            session, batch.id, "created", None, source="job", to_status=batch.status,
            carrier=carrier, pickup_date=pickup_date.isoformat(),
            window=f"{window_start:%H:%M}-{window_end:%H:%M}", proposed=True,
        )  # fmt: skip
        await session.flush()  # "created" first in the trail
        await fill_batch(session, batch, None, source="job")
        created.append(batch.id)
    await session.flush()
    return created
