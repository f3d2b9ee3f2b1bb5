"""orders: CHECK constraints on the three status axes; stock levels BIGINT with a ceiling

Revision ID: 0006_rules
Revises: 0005
Create Date: 2026-11-29 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006_rules"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here as of this revision; a new value needs a revision that replaces its constraint.
_AXES = {
    "status": (
        "pending_payment", "on_hold", "confirmed", "ready_to_ship", "in_transit", "delivered",
        "completed", "cancelled",
    ),
    "payment_status": ("pending", "paid", "cod_pending", "cod_collected", "refunded", "voided"),
    "fulfilment_status": (
        "unfulfilled", "reserved", "backordered", "pending_shipment", "handed_off",
        "cancel_requested", "shipped", "delivered", "returned", "cancelled",
    ),
}  # fmt: skip


_WIDE = {"variants": ("stock_on_hand", "stock_reserved"),
         "stock_movements": ("on_hand_after", "reserved_after")}  # fmt: skip
_CEILING = "stock_on_hand <= 1000000000"


def upgrade() -> None:
    for column, values in _AXES.items():
        listed = ", ".join(f"'{value}'" for value in values)
        op.create_check_constraint(
            op.f(f"ck_orders_{column}_known"), "orders", f"{column} IN ({listed})"
        )
    for table, columns in _WIDE.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_nullable=False)
    op.create_check_constraint(op.f("ck_variants_stock_within_ceiling"), "variants", _CEILING)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_variants_stock_within_ceiling"), "variants", type_="check")
    for table, columns in _WIDE.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Integer(), existing_nullable=False)
    for column in reversed(_AXES):
        op.drop_constraint(op.f(f"ck_orders_{column}_known"), "orders", type_="check")
