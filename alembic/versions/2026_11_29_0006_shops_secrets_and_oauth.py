"""platform tokens encrypted at rest; used authorisation states

Revision ID: 0006_shops
Revises: 0005
Create Date: 2026-11-29 10:30:00
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlmodel

from alembic import op

if TYPE_CHECKING:
    from api.core.encryption import Keyring

revision: str = "0006_shops"
down_revision: str | Sequence[str] | None = "0006_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_COLUMNS = ("access_token", "refresh_token")


def _rewrite_tokens(change: Callable[[str], str]) -> None:
    """Apply `change` to every stored token, one UPDATE per row that has one."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, access_token, refresh_token FROM channel_connections"
            " WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL"
            " ORDER BY id FOR UPDATE"
        )
    ).all()
    for row in rows:
        values = {
            name: None if value is None else change(value)
            for name, value in zip(
                TOKEN_COLUMNS, (row.access_token, row.refresh_token), strict=True
            )
        }
        bind.execute(
            sa.text(
                "UPDATE channel_connections SET access_token = :access_token,"
                " refresh_token = :refresh_token WHERE id = :id"
            ),
            {**values, "id": row.id},
        )


def _keyring() -> "Keyring":
    # Imported here, not at the top: only a database that holds tokens needs the keys.
    from api.core.encryption import current_keyring

    return current_keyring()


def upgrade() -> None:
    for column in TOKEN_COLUMNS:
        op.alter_column(
            "channel_connections",
            column,
            type_=sa.Text(),
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=2048),
            existing_nullable=True,
        )
    op.create_table(
        "used_oauth_states",
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_oauth_states")),
    )
    has_tokens = op.get_bind().execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM channel_connections"
            " WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL)"
        )
    )
    if has_tokens.scalar():
        _rewrite_tokens(_keyring().encrypt)


def downgrade() -> None:
    has_tokens = op.get_bind().execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM channel_connections"
            " WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL)"
        )
    )
    if has_tokens.scalar():
        _rewrite_tokens(_keyring().decrypt)
    op.drop_table("used_oauth_states")
    for column in TOKEN_COLUMNS:
        op.alter_column(
            "channel_connections",
            column,
            type_=sqlmodel.sql.sqltypes.AutoString(length=2048),
            existing_type=sa.Text(),
            existing_nullable=True,
        )
