"""COD payout statements and their lines

Revision ID: 0008_cod
Revises: 0007_tonnage
Create Date: 2026-11-29 12:42:27

A statement is unique by the sha256 of its bytes (re-importing the same file is a no-op); a
waybill's payout counts once per carrier (partial unique index over matched/amount_differs
lines), so the same payout in another file is seen as paid twice. docs/cod-statements.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0008_cod"
down_revision: str | Sequence[str] | None = "0007_tonnage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cod_statements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("file_format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("statement_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("statement_date", sa.Date(), nullable=True),
        sa.Column("imported_by", sa.BigInteger(), nullable=True),
        sa.Column("imported_via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("amount_differs", sa.Integer(), nullable=False),
        sa.Column("unknown_waybill", sa.Integer(), nullable=False),
        sa.Column("paid_twice", sa.Integer(), nullable=False),
        sa.Column("parked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "carrier IN ('viettel_post', 'ghn')", name=op.f("ck_cod_statements_carrier_known")
        ),
        sa.CheckConstraint(
            "file_format IN ('csv', 'xlsx')", name=op.f("ck_cod_statements_file_format_known")
        ),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["users.id"],
            name=op.f("fk_cod_statements_imported_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_statements")),
        sa.UniqueConstraint("sha256", name=op.f("uq_cod_statements_sha256")),
    )
    op.create_table(
        "cod_statement_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("waybill", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("amount_collected_vnd", sa.BigInteger(), nullable=True),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=True),
        sa.Column("amount_paid_vnd", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipment_id", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("cooperative_id", sa.BigInteger(), nullable=True),
        sa.Column("expected_vnd", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IN ('matched', 'amount_differs', 'unknown_waybill', 'paid_twice', 'parked')",
            name=op.f("ck_cod_statement_lines_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["cooperative_id"],
            ["cooperatives.id"],
            name=op.f("fk_cod_statement_lines_cooperative_id_cooperatives"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_cod_statement_lines_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_cod_statement_lines_shipment_id_shipments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["cod_statements.id"],
            name=op.f("fk_cod_statement_lines_statement_id_cod_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_statement_lines")),
        sa.UniqueConstraint(
            "statement_id", "line_no", name=op.f("uq_cod_statement_lines_statement_id_line_no")
        ),
    )
    op.create_index(
        "ix_cod_statement_lines_cooperative_id_outcome",
        "cod_statement_lines",
        ["cooperative_id", "outcome"],
        unique=False,
    )
    op.create_index(
        "ix_cod_statement_lines_shipment_id", "cod_statement_lines", ["shipment_id"], unique=False
    )
    op.create_index(
        "ix_cod_statement_lines_statement_id_outcome",
        "cod_statement_lines",
        ["statement_id", "outcome", "id"],
        unique=False,
    )
    op.create_index(
        "uq_cod_statement_lines_counted_payout",
        "cod_statement_lines",
        ["carrier", "waybill"],
        unique=True,
        postgresql_where=sa.text("outcome IN ('matched', 'amount_differs')"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_cod_statement_lines_counted_payout",
        table_name="cod_statement_lines",
        postgresql_where=sa.text("outcome IN ('matched', 'amount_differs')"),
    )
    op.drop_index("ix_cod_statement_lines_statement_id_outcome", table_name="cod_statement_lines")
    op.drop_index("ix_cod_statement_lines_shipment_id", table_name="cod_statement_lines")
    op.drop_index("ix_cod_statement_lines_cooperative_id_outcome", table_name="cod_statement_lines")
    op.drop_table("cod_statement_lines")
    op.drop_table("cod_statements")
