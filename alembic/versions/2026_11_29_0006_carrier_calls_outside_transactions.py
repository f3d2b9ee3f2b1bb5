"""shipments: carrier-call lease, awaiting confirmation, stored label link

Revision ID: 0006_carrier
Revises: 0005
Create Date: 2026-11-29 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006_carrier"
down_revision: str | Sequence[str] | None = "0006_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STAMPS = ("carrier_call_until", "awaiting_confirmation_since", "label_expires_at")


def upgrade() -> None:
    for name in _STAMPS:
        op.add_column("shipments", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "shipments",
        sa.Column("label_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("shipments", "label_url")
    for name in reversed(_STAMPS):
        op.drop_column("shipments", name)
