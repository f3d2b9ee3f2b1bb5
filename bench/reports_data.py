"""A programme's year in SQL: 40 cooperatives, 240 products, 500,000 orders, 1,000,000 lines.

The orders go in with plain INSERT … SELECT generate_series; their lines go in 100,000 orders
per statement, so the tonnage triggers build the read model exactly as they do for live
orders (one refresh per statement), and the deltas are then folded as the worker folds them.
"""

from __future__ import annotations

import time

import asyncpg

from api.core.db import Database
from api.core.localdev import asyncpg_kwargs
from api.reports.compaction import fold_deltas

# Written into the SQL below as the literal 40 (the statements carry no parameters).
COOPERATIVES = 40
ORDERS = 500_000
CHUNK = 100_000

_DIMENSIONS = [
    """
    INSERT INTO cooperatives (name, phone, province_code, province_name, ward_code, ward_name,
                              street, carrier)
    SELECT 'HTX Bench ' || g, '09' || lpad(g::text, 8, '0'), (g % 34) + 1,
           'Tỉnh ' || ((g % 34) + 1), 10000 + g, 'Xã ' || g, 'Thôn 1', 'viettel_post'
      FROM generate_series(1, 40) g
    """,
    """
    INSERT INTO channel_connections (cooperative_id, platform, shop_id, shop_name, status)
    SELECT id, 'tiktok_shop', 'bench-' || id, 'Shop ' || id, 'active'
      FROM cooperatives WHERE name LIKE 'HTX Bench %'
    """,
    """
    INSERT INTO products (cooperative_id, name, description, category, perishable, status,
                          search_text)
    SELECT c.id, 'Sản phẩm ' || c.id || '-' || k, '',
           (ARRAY['rice', 'tea', 'coffee', 'honey', 'ginseng', 'fruit'])[k], false, 'active', ''
      FROM cooperatives c, generate_series(1, 6) k
     WHERE c.name LIKE 'HTX Bench %'
    """,
    """
    INSERT INTO variants (product_id, cooperative_id, sku, name, unit_label, net_weight_g,
                          shipping_weight_g, price_vnd, status)
    SELECT p.id, p.cooperative_id, 'B-' || p.id, '', 'gói', 500 * (1 + p.id % 10),
           500 * (1 + p.id % 10) + 100, 50000 + (p.id % 7) * 30000, 'active'
      FROM products p WHERE p.name LIKE 'Sản phẩm %'
    """,
    """
    INSERT INTO live_sessions (cooperative_id, channel_connection_id, platform, shop_id, title,
                               scheduled_start, actual_start, actual_end, status)
    SELECT cc.cooperative_id, cc.id, 'tiktok_shop', cc.shop_id, 'Phiên ' || cc.id || '-' || k,
           now() - make_interval(days => k * 7), now() - make_interval(days => k * 7),
           now() - make_interval(days => k * 7) + interval '3 hours', 'ended'
      FROM channel_connections cc, generate_series(1, 50) k
     WHERE cc.shop_id LIKE 'bench-%'
    """,
]

_ORDERS = """
WITH coops AS (
    SELECT c.id, cc.shop_id, row_number() OVER (ORDER BY c.id) - 1 AS n
      FROM cooperatives c JOIN channel_connections cc ON cc.cooperative_id = c.id
     WHERE c.name LIKE 'HTX Bench %'
), sessions AS (
    SELECT id, cooperative_id, row_number() OVER (PARTITION BY cooperative_id ORDER BY id) - 1 AS n
      FROM live_sessions WHERE shop_id LIKE 'bench-%'
)
INSERT INTO orders (cooperative_id, platform, shop_id, platform_order_id, platform_status,
                    platform_update_time, placed_at, status, payment_status, fulfilment_status,
                    payment_method, currency, total_vnd, shipping_fee_vnd, buyer_id, buyer_name,
                    buyer_phone, ship_province, ship_ward, ship_street, ship_full_address,
                    live_session_id)
SELECT c.id, CASE WHEN g % 3 = 0 THEN 'shopee' ELSE 'tiktok_shop' END, c.shop_id, 'B' || g, '',
       0, now() - make_interval(days => (g % 365)::int, mins => (g % 1440)::int),
       CASE WHEN g % 25 = 0 THEN 'cancelled' WHEN g % 5 < 2 THEN 'delivered' ELSE 'confirmed' END,
       'pending',
       CASE WHEN g % 25 = 0 THEN 'cancelled' WHEN g % 33 = 1 THEN 'returned'
            WHEN g % 5 < 2 THEN 'delivered' ELSE 'reserved' END,
       'cod', 'VND', 0, 0, '', '', '', '', '', '', '',
       (SELECT s.id FROM sessions s WHERE s.cooperative_id = c.id AND s.n = g % 50 AND g % 4 = 0)
  FROM generate_series(:first::bigint, :last::bigint) g
  JOIN coops c ON c.n = g % 40
"""

_LINES = """
WITH vs AS (
    SELECT id, cooperative_id, net_weight_g, price_vnd,
           row_number() OVER (PARTITION BY cooperative_id ORDER BY id) - 1 AS slot
      FROM variants WHERE sku LIKE 'B-%'
)
INSERT INTO order_lines (order_id, variant_id, platform_sku_id, seller_sku, name, quantity,
                         unit_price_vnd, net_weight_g, reserved_quantity)
SELECT o.id, v.id, 'P' || v.id, '', '', 1 + (o.id + k) % 3, v.price_vnd, v.net_weight_g, 0
  FROM orders o
  CROSS JOIN generate_series(1, 2) k
  JOIN vs v ON v.cooperative_id = o.cooperative_id AND v.slot = (o.id + k) % 6
 WHERE o.platform_order_id LIKE 'B%' AND o.id BETWEEN :low AND :high
"""


async def load(db_url: str, db: Database) -> tuple[int, float, float]:
    """Load the year; (order lines, seconds loading with triggers, seconds folding deltas)."""
    conn = await asyncpg.connect(**asyncpg_kwargs(db_url))
    started = time.monotonic()
    try:
        for statement in _DIMENSIONS:
            await conn.execute(statement)
        for first in range(1, ORDERS + 1, CHUNK):
            last = min(first + CHUNK - 1, ORDERS)
            sql = _ORDERS.replace(":first", str(first)).replace(":last", str(last))
            await conn.execute(sql)
        low, high = await conn.fetchrow(
            "SELECT min(id), max(id) FROM orders WHERE platform_order_id LIKE 'B%'"
        )
        for start in range(low, high + 1, CHUNK):
            await conn.execute(
                _LINES.replace(":low", str(start)).replace(":high", str(start + CHUNK - 1))
            )
        lines = await conn.fetchval("SELECT count(*) FROM order_lines")
        loaded = time.monotonic() - started
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    started = time.monotonic()
    async with db.session() as session:
        while await fold_deltas(session, batch=500_000):
            pass
        await session.commit()
    folded = time.monotonic() - started
    # What autovacuum does within its next round (the tables' thresholds are 1,000 dead rows):
    # without it the planner would still believe the facts empty, as they were at ANALYZE.
    conn = await asyncpg.connect(**asyncpg_kwargs(db_url))
    try:
        for table in (
            "tonnage_deltas",
            "tonnage_facts",
            "tonnage_week_facts",
            "tonnage_month_facts",
        ):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    return int(lines), loaded, folded
