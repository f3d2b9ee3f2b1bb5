"""inbox: parked rows (handling gave up; a person may replay them)

Revision ID: 0006_inbox
Revises: 0005
Create Date: 2026-11-29 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006_inbox"
down_revision: str | Sequence[str] | None = "0006_surface"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "inbound_events", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_index("ix_inbound_events_unhandled", table_name="inbound_events")
    op.create_index(
        "ix_inbound_events_unhandled",
        "inbound_events",
        ["received_at"],
        postgresql_where=sa.text("handled_at IS NULL AND parked_at IS NULL"),
    )
    op.create_index(
        "ix_inbound_events_parked",
        "inbound_events",
        ["id"],
        postgresql_where=sa.text("parked_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_events_parked", table_name="inbound_events")
    op.drop_index("ix_inbound_events_unhandled", table_name="inbound_events")
    op.create_index(
        "ix_inbound_events_unhandled",
        "inbound_events",
        ["received_at"],
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.drop_column("inbound_events", "parked_at")
