"""checkout: direct orders' Stripe Checkout Sessions, reservation expiry and refunds

Revision ID: 0008_checkout
Revises: 0007_tonnage
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008_checkout"
down_revision: str | Sequence[str] | None = "0007_tonnage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkout_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("cooperative_id", sa.BigInteger(), nullable=False),
        sa.Column("stripe_session_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_intent", sa.String(length=255), nullable=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_status", sa.String(length=16), nullable=False),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.Column("refund_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('creating', 'open', 'complete', 'expired', 'failed')",
            name=op.f("ck_checkout_sessions_status_known"),
        ),
        sa.CheckConstraint(
            "refund_status IN ('none', 'requested', 'pending', 'succeeded', 'failed')",
            name=op.f("ck_checkout_sessions_refund_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_id"], ["cooperatives.id"],
            name=op.f("fk_checkout_sessions_cooperative_id_cooperatives"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"],
            name=op.f("fk_checkout_sessions_order_id_orders"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_sessions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_checkout_sessions_order_id")),
        sa.UniqueConstraint("payment_intent", name=op.f("uq_checkout_sessions_payment_intent")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_checkout_sessions_refund_id")),
        sa.UniqueConstraint(
            "stripe_session_id", name=op.f("uq_checkout_sessions_stripe_session_id")
        ),
    )  # fmt: skip
    op.create_index(
        "ix_checkout_sessions_held",
        "checkout_sessions",
        ["reserved_until"],
        postgresql_where=sa.text("released_at IS NULL AND paid_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_checkout_sessions_held", table_name="checkout_sessions")
    op.drop_table("checkout_sessions")
