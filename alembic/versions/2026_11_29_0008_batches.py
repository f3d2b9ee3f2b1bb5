"""pickup batches, their parcels and their trail

Revision ID: 0008_batches
Revises: 0007_tonnage
Create Date: 2026-11-29 13:00:00

A shipment is in at most one open batch: `pickup_batch_parcels.open` is true until the batch is
handed over, and a partial unique index on `shipment_id WHERE open` refuses a second row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0008_batches"
down_revision: str | Sequence[str] | None = "0007_tonnage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTO = sqlmodel.sql.sqltypes.AutoString


def _stamp(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _user_fk(name: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [name], ["users.id"], name=op.f(f"fk_{table}_{name}_users"), ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "pickup_batches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("cooperative_id", sa.BigInteger(), nullable=False),
        sa.Column("carrier", _AUTO(length=32), nullable=False),
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("status", _AUTO(length=16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('open', 'packing', 'ready', 'handed_over', 'closed')",
            name=op.f("ck_pickup_batches_status_known"),
        ),
        sa.CheckConstraint(
            "carrier IN ('viettel_post', 'ghn')", name=op.f("ck_pickup_batches_carrier_known")
        ),
        sa.CheckConstraint(
            "window_end > window_start", name=op.f("ck_pickup_batches_window_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_id"],
            ["cooperatives.id"],
            name=op.f("fk_pickup_batches_cooperative_id_cooperatives"),
            ondelete="RESTRICT",
        ),
        _user_fk("created_by", "pickup_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_batches")),
        sa.UniqueConstraint(
            "cooperative_id",
            "carrier",
            "pickup_date",
            "window_start",
            name=op.f("uq_pickup_batches_cooperative_id_carrier_pickup_date_window_start"),
        ),
    )
    op.create_index(
        "ix_pickup_batches_pickup_date_status",
        "pickup_batches",
        ["pickup_date", "status"],
        unique=False,
    )
    op.create_table(
        "pickup_batch_parcels",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("shipment_id", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _stamp("added_at"),
        sa.Column("packed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("packed_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["pickup_batches.id"],
            name=op.f("fk_pickup_batch_parcels_batch_id_pickup_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_pickup_batch_parcels_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        _user_fk("packed_by", "pickup_batch_parcels"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_batch_parcels")),
        sa.UniqueConstraint(
            "batch_id", "shipment_id", name=op.f("uq_pickup_batch_parcels_batch_id_shipment_id")
        ),
    )
    op.create_index(
        "uq_pickup_batch_parcels_open_shipment",
        "pickup_batch_parcels",
        ["shipment_id"],
        unique=True,
        postgresql_where=sa.text("open"),
    )
    op.create_table(
        "batch_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("shipment_id", sa.BigInteger(), nullable=True),
        sa.Column("action", _AUTO(length=48), nullable=False),
        sa.Column("from_status", _AUTO(length=16), nullable=True),
        sa.Column("to_status", _AUTO(length=16), nullable=True),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("source", _AUTO(length=16), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        _stamp("at"),
        sa.CheckConstraint(
            "source IN ('api', 'job', 'system')", name=op.f("ck_batch_events_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["pickup_batches.id"],
            name=op.f("fk_batch_events_batch_id_pickup_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_batch_events_shipment_id_shipments"),
            ondelete="SET NULL",
        ),
        _user_fk("actor_user_id", "batch_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_events")),
    )
    op.create_index("ix_batch_events_batch_id_id", "batch_events", ["batch_id", "id"])
    op.create_index("ix_batch_events_shipment_id", "batch_events", ["shipment_id"])


def downgrade() -> None:
    op.drop_table("batch_events")
    op.drop_table("pickup_batch_parcels")
    op.drop_table("pickup_batches")
