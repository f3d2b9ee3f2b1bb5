"""tonnage read model (contributions, deltas, facts, triggers) and web sessions

Revision ID: 0007_tonnage
Revises: 0006_carrier
Create Date: 2026-11-29 10:00:00

The triggers keep `tonnage_contributions` (what each order counts for, per product) in the
transaction that changes an order or its lines, and append the signed difference to
`tonnage_deltas`; the `compact_tonnage` job folds deltas into `tonnage_facts` (per day),
`tonnage_week_facts` and `tonnage_month_facts`. docs/reports.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0007_tonnage"
down_revision: str | Sequence[str] | None = "0006_carrier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACT_TABLES = ("tonnage_facts", "tonnage_week_facts", "tonnage_month_facts")
_KEY = ("grain", "day", "cooperative_id", "platform", "live_session_id", "category", "product_id")
_MEASURES = (
    "sold_orders", "sold_units", "sold_grams", "sold_gmv_vnd",
    "delivered_orders", "delivered_units", "delivered_grams", "delivered_gmv_vnd",
)  # fmt: skip

FUNCTIONS = """
-- Sold: not cancelled and not returned. Delivered: sold, and the platform or the carrier says
-- it arrived.
CREATE FUNCTION tonnage_sold(status text, fulfilment text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status <> 'cancelled' AND fulfilment NOT IN ('returned', 'cancelled')
$$;

CREATE FUNCTION tonnage_delivered(status text, fulfilment text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT tonnage_sold(status, fulfilment)
       AND (fulfilment = 'delivered' OR status IN ('delivered', 'completed'))
$$;

-- What the given orders count for now, one row per (order, product), from the order lines.
CREATE FUNCTION tonnage_compute(ids bigint[]) RETURNS SETOF tonnage_contributions
LANGUAGE sql STABLE AS $$
    SELECT o.id, coalesce(v.product_id, 0), coalesce(p.category, ''),
           (coalesce(o.placed_at, o.created_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
           o.cooperative_id, o.platform, coalesce(o.live_session_id, 0),
           tonnage_sold(o.status, o.fulfilment_status),
           tonnage_delivered(o.status, o.fulfilment_status),
           sum(l.quantity::bigint * l.net_weight_g)::bigint,
           sum(l.quantity)::bigint,
           sum(l.quantity::bigint * l.unit_price_vnd)::bigint
      FROM orders o
      JOIN order_lines l ON l.order_id = o.id
      LEFT JOIN variants v ON v.id = l.variant_id
      LEFT JOIN products p ON p.id = v.product_id
     WHERE o.id = ANY(ids) AND o.cooperative_id IS NOT NULL
     GROUP BY o.id, coalesce(v.product_id, 0), coalesce(p.category, '')
$$;

-- Recount the given orders: append (new - old) to the deltas at every grain, then replace
-- their contributions. Callers hold the orders' row locks already (every writer of an order or
-- its lines does); taking them here too keeps a writer that did not from racing another.
-- Orders counted for the first time (the batch intake) cost one count and no delete.
CREATE FUNCTION tonnage_refresh(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    counted_before boolean;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM orders WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    counted_before := EXISTS (SELECT 1 FROM tonnage_contributions WHERE order_id = ANY(ids));
    WITH fresh AS MATERIALIZED (
        SELECT * FROM tonnage_compute(ids)
    ), first_count AS (
        INSERT INTO tonnage_contributions SELECT * FROM fresh WHERE NOT counted_before
    ), changed AS (
        SELECT -1 AS s, c.* FROM tonnage_contributions c
         WHERE counted_before AND c.order_id = ANY(ids)
        UNION ALL
        SELECT 1, f.* FROM fresh f
    ), per_order AS (
        SELECT s, order_id, day, cooperative_id, platform, live_session_id, sold, delivered,
               category, GROUPING(category) AS grouped, sum(grams) AS grams, sum(units) AS units,
               sum(gmv_vnd) AS gmv_vnd
          FROM changed
         GROUP BY GROUPING SETS (
               (s, order_id, day, cooperative_id, platform, live_session_id, sold, delivered),
               (s, order_id, day, cooperative_id, platform, live_session_id, sold, delivered,
                category))
    ), rows AS (
        SELECT 1 - grouped AS grain, s, day, cooperative_id,
               platform, live_session_id, coalesce(category, '') AS category, 0::bigint AS product_id,
               sold, delivered, grams, units, gmv_vnd
          FROM per_order
        UNION ALL
        SELECT 2, s, day, cooperative_id, platform, live_session_id, category, product_id,
               sold, delivered, grams, units, gmv_vnd
          FROM changed
    )
    INSERT INTO tonnage_deltas (grain, day, cooperative_id, platform, live_session_id, category,
                                product_id, sold_orders, sold_units, sold_grams, sold_gmv_vnd,
                                delivered_orders, delivered_units, delivered_grams,
                                delivered_gmv_vnd)
    SELECT grain, day, cooperative_id, platform, live_session_id, category, product_id,
           sum(s * sold::int), sum(s * sold::int * units), sum(s * sold::int * grams),
           sum(s * sold::int * gmv_vnd),
           sum(s * delivered::int), sum(s * delivered::int * units),
           sum(s * delivered::int * grams), sum(s * delivered::int * gmv_vnd)
      FROM rows
     GROUP BY grain, day, cooperative_id, platform, live_session_id, category, product_id
    HAVING sum(s * sold::int) <> 0 OR sum(s * sold::int * units) <> 0
        OR sum(s * sold::int * grams) <> 0 OR sum(s * sold::int * gmv_vnd) <> 0
        OR sum(s * delivered::int) <> 0 OR sum(s * delivered::int * units) <> 0
        OR sum(s * delivered::int * grams) <> 0 OR sum(s * delivered::int * gmv_vnd) <> 0;
    IF counted_before THEN
        DELETE FROM tonnage_contributions WHERE order_id = ANY(ids);
        INSERT INTO tonnage_contributions SELECT * FROM tonnage_compute(ids);
    END IF;
END
$$;

CREATE FUNCTION tonnage_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tonnage_refresh(ARRAY(SELECT DISTINCT order_id FROM new_lines ORDER BY 1));
    RETURN NULL;
END
$$;

CREATE FUNCTION tonnage_lines_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tonnage_refresh(ARRAY(SELECT DISTINCT order_id FROM old_lines ORDER BY 1));
    RETURN NULL;
END
$$;

-- Only the columns a report counts: reservations move on lines all the time and count nothing.
CREATE FUNCTION tonnage_lines_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tonnage_refresh(ARRAY(
        SELECT DISTINCT x.order_id
          FROM old_lines o JOIN new_lines n ON n.id = o.id,
               LATERAL (VALUES (o.order_id), (n.order_id)) AS x(order_id)
         WHERE (o.order_id, o.variant_id, o.quantity, o.unit_price_vnd, o.net_weight_g)
               IS DISTINCT FROM
               (n.order_id, n.variant_id, n.quantity, n.unit_price_vnd, n.net_weight_g)
         ORDER BY 1));
    RETURN NULL;
END
$$;

-- Fulfilment moves through many steps a report does not tell apart: compare what it counts.
CREATE FUNCTION tonnage_orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tonnage_refresh(ARRAY(
        SELECT n.id
          FROM old_orders o JOIN new_orders n ON n.id = o.id
         WHERE (tonnage_sold(o.status, o.fulfilment_status),
                tonnage_delivered(o.status, o.fulfilment_status),
                o.cooperative_id, o.platform, o.live_session_id, o.placed_at)
               IS DISTINCT FROM
               (tonnage_sold(n.status, n.fulfilment_status),
                tonnage_delivered(n.status, n.fulfilment_status),
                n.cooperative_id, n.platform, n.live_session_id, n.placed_at)
         ORDER BY 1));
    RETURN NULL;
END
$$;

CREATE TRIGGER tonnage_lines_inserted AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION tonnage_lines_inserted();

CREATE TRIGGER tonnage_lines_deleted AFTER DELETE ON order_lines
    REFERENCING OLD TABLE AS old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION tonnage_lines_deleted();

CREATE TRIGGER tonnage_lines_updated AFTER UPDATE ON order_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION tonnage_lines_updated();

CREATE TRIGGER tonnage_orders_updated AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION tonnage_orders_updated();
"""

DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS tonnage_orders_updated ON orders;
DROP TRIGGER IF EXISTS tonnage_lines_updated ON order_lines;
DROP TRIGGER IF EXISTS tonnage_lines_deleted ON order_lines;
DROP TRIGGER IF EXISTS tonnage_lines_inserted ON order_lines;
DROP FUNCTION IF EXISTS tonnage_orders_updated();
DROP FUNCTION IF EXISTS tonnage_lines_updated();
DROP FUNCTION IF EXISTS tonnage_lines_deleted();
DROP FUNCTION IF EXISTS tonnage_lines_inserted();
DROP FUNCTION IF EXISTS tonnage_refresh(bigint[]);
DROP FUNCTION IF EXISTS tonnage_compute(bigint[]);
DROP FUNCTION IF EXISTS tonnage_delivered(text, text);
DROP FUNCTION IF EXISTS tonnage_sold(text, text);
"""


def _key_columns(*, primary_key: bool) -> list[sa.Column[object]]:
    return [
        sa.Column("grain", sa.SmallInteger(), nullable=False, primary_key=primary_key),
        sa.Column("day", sa.Date(), nullable=False, primary_key=primary_key),
        sa.Column("cooperative_id", sa.BigInteger(), nullable=False, primary_key=primary_key),
        sa.Column("platform", sa.String(length=32), nullable=False, primary_key=primary_key),
        sa.Column("live_session_id", sa.BigInteger(), nullable=False, primary_key=primary_key),
        sa.Column("category", sa.String(length=32), nullable=False, primary_key=primary_key),
        sa.Column("product_id", sa.BigInteger(), nullable=False, primary_key=primary_key),
    ]


def _measures() -> list[sa.Column[object]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in _MEASURES]


def upgrade() -> None:
    op.create_table(
        "tonnage_contributions",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cooperative_id", sa.BigInteger(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("live_session_id", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.Boolean(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("gmv_vnd", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "product_id"),
    )
    op.create_table(
        "tonnage_deltas",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False), nullable=False, primary_key=True
        ),
        *_key_columns(primary_key=False),
        *_measures(),
    )
    op.create_index("ix_tonnage_deltas_grain_day", "tonnage_deltas", ["grain", "day"])
    for table in _FACT_TABLES:
        op.create_table(table, *_key_columns(primary_key=True), *_measures())
        op.create_index(
            f"ix_{table}_grain_cooperative_day", table, ["grain", "cooperative_id", "day"]
        )
    # Deltas are inserted and deleted all day, facts updated in place: vacuum them after a
    # thousand dead rows, not after a fifth of the table, so reports never scan dead pages.
    for table in ("tonnage_deltas", *_FACT_TABLES):
        op.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0,"
            " autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.05)"
        )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index("ix_web_sessions_token_id", "web_sessions", ["token_id"])
    # One statement per execute (asyncpg prepares each); blank lines separate them above.
    for statement in FUNCTIONS.strip().split("\n\n"):
        op.execute(statement)
    # Orders that exist already are counted once, as if each had just changed.
    op.execute("SELECT tonnage_refresh(ARRAY(SELECT id FROM orders ORDER BY id))")


def downgrade() -> None:
    for statement in DROP_FUNCTIONS.strip().splitlines():
        op.execute(statement)
    op.drop_index("ix_web_sessions_token_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    for table in _FACT_TABLES:
        op.drop_index(f"ix_{table}_grain_cooperative_day", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_tonnage_deltas_grain_day", table_name="tonnage_deltas")
    op.drop_table("tonnage_deltas")
    op.drop_table("tonnage_contributions")
