"""orders.buyer_phone_hash (keyed phone lookup, backfilled), shipments by order, body purge

Revision ID: 0006_surface
Revises: 0005
Create Date: 2026-11-29 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from api.orders.phones import phone_digest

revision: str = "0006_surface"
down_revision: str | Sequence[str] | None = "0006_shops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("buyer_phone_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    _backfill()
    op.create_index("ix_orders_buyer_phone_hash", "orders", ["buyer_phone_hash"])
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_index(
        "ix_inbound_events_with_body",
        "inbound_events",
        ["received_at"],
        postgresql_where=sa.text("octet_length(raw_body) > 0"),
    )


def _backfill() -> None:
    # The key is the running settings' BUYER_PHONE_KEY: migrate with the same environment as
    # the API and the workers, or the lookups will not match.
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, buyer_phone FROM orders WHERE id > :last AND buyer_phone <> ''"
                " ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        values = [{"i": r.id, "h": phone_digest(r.buyer_phone)} for r in rows]
        values = [v for v in values if v["h"] is not None]
        if values:
            conn.execute(sa.text("UPDATE orders SET buyer_phone_hash = :h WHERE id = :i"), values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_inbound_events_with_body", table_name="inbound_events")
    op.drop_index("ix_shipments_order_id", table_name="shipments")
    op.drop_index("ix_orders_buyer_phone_hash", table_name="orders")
    op.drop_column("orders", "buyer_phone_hash")
