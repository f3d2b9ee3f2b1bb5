"""A live session's results, aggregated in SQL from its orders at the time of asking.

Cancelled orders count only as cancellations; every other total leaves them out. Per offer,
`units_sold`/`gmv_vnd` are the offer's variant in the session's orders (including units over
the cap, which those orders carry as a flag), while `units_claimed` is what counts against the cap.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts.scope import Actor
from api.core.db import utcnow
from api.live_sessions.models import LiveSession, LiveStatus
from api.live_sessions.schemas import LiveStats, OfferStats
from api.live_sessions.service import get_live_session

_TOTALS = text(
    """
    WITH o AS (
        SELECT id, status <> 'cancelled' AS kept, flags
          FROM orders
         WHERE live_session_id = :live_id
    ), lines AS (
        SELECT coalesce(sum(l.quantity), 0)::bigint AS units,
               coalesce(sum(l.quantity::bigint * l.net_weight_g), 0)::bigint AS grams,
               coalesce(sum(l.quantity::bigint * l.unit_price_vnd), 0)::bigint AS gmv
          FROM o JOIN order_lines l ON l.order_id = o.id
         WHERE o.kept
    ), per_flag AS (
        SELECT coalesce(jsonb_object_agg(flag, n), '{}'::jsonb) AS flags
          FROM (SELECT flag, count(*) AS n
                  FROM o, unnest(o.flags) AS flag
                 WHERE o.kept
                 GROUP BY flag) AS counted
    )
    SELECT (SELECT count(*) FROM o WHERE kept) AS orders,
           (SELECT count(*) FROM o WHERE NOT kept) AS cancellations,
           (SELECT count(*) FROM o WHERE kept AND cardinality(flags) > 0) AS flagged_orders,
           lines.units, lines.grams, lines.gmv, per_flag.flags
      FROM lines, per_flag
    """
).columns(flags=JSONB)

_PER_OFFER = text(
    """
    SELECT lo.id AS offer_id, lo.variant_id, v.sku, lo.live_price_vnd, lo.quantity_cap,
           lo.units_claimed,
           coalesce(sum(sold.quantity), 0)::bigint AS units_sold,
           coalesce(sum(sold.quantity::bigint * sold.unit_price_vnd), 0)::bigint AS gmv_vnd
      FROM live_offers lo
      JOIN variants v ON v.id = lo.variant_id
      LEFT JOIN (
            SELECT l.variant_id, l.quantity, l.unit_price_vnd
              FROM order_lines l JOIN orders o ON o.id = l.order_id
             WHERE o.live_session_id = :live_id AND o.status <> 'cancelled'
           ) AS sold ON sold.variant_id = lo.variant_id
     WHERE lo.live_session_id = :live_id
     GROUP BY lo.id, v.sku
     ORDER BY lo.id
    """
)


_PEAK_MINUTE = text(
    """
    SELECT date_trunc('minute', placed_at) AS minute, count(*) AS orders
      FROM orders
     WHERE live_session_id = :live_id AND status <> 'cancelled' AND placed_at IS NOT NULL
     GROUP BY 1
     ORDER BY 2 DESC, 1
     LIMIT 1
    """
)


def _per_minute(orders: int, live: LiveSession) -> float:
    if live.actual_start is None:
        return 0.0
    end = live.actual_end or utcnow()
    minutes = max((end - live.actual_start).total_seconds() / 60, 1.0)
    return round(orders / minutes, 2)


async def live_stats(session: AsyncSession, actor: Actor, live_id: int) -> LiveStats:
    """Orders, units, kg, GMV, cancellations and flags of a session, overall and per offer."""
    live = await get_live_session(session, actor, live_id)
    totals = (await session.execute(_TOTALS, {"live_id": live_id})).one()
    offers = (await session.execute(_PER_OFFER, {"live_id": live_id})).mappings().all()
    grams = int(totals.grams)
    peak = (await session.execute(_PEAK_MINUTE, {"live_id": live_id})).first()
    per_offer = [OfferStats.model_validate(dict(row)) for row in offers]
    return LiveStats(
        live_session_id=live_id,
        status=LiveStatus(live.status),
        scheduled_start=live.scheduled_start,
        actual_start=live.actual_start,
        actual_end=live.actual_end,
        pinned_offer_id=live.pinned_offer_id,
        orders=int(totals.orders),
        units=int(totals.units),
        net_weight_g=grams,
        # Grams are exact integers, so this float prints as at most three decimals.
        kg=round(grams / 1000, 3),
        gmv_vnd=int(totals.gmv),
        cancellations=int(totals.cancellations),
        flagged_orders=int(totals.flagged_orders),
        flags={str(k): int(v) for k, v in totals.flags.items()},
        offers=per_offer,
        title=live.title,
        orders_per_minute=_per_minute(int(totals.orders), live),
        peak_minute=peak.minute if peak else None,
        peak_minute_orders=int(peak.orders) if peak else 0,
        top_offers=sorted(per_offer, key=lambda o: (-o.units_sold, o.offer_id))[:3],
    )
