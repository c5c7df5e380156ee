"""api tokens, personal-data access log, webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

import hotline.persistence.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = hotline.persistence.tables.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", Text(), nullable=False),
        sa.Column("role", Text(), nullable=False),
        sa.Column("unit", Text(), nullable=True),
        sa.Column("token_hash", Text(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.Column("revoked_at", Time(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_type", Text(), nullable=False),
        sa.Column("url", Text(), nullable=False),
        sa.Column("secret", Text(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_event_type"), ["event_type"], unique=False)
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("token_name", Text(), nullable=False),
        sa.Column("role", Text(), nullable=False),
        sa.Column("unit", Text(), nullable=True),
        sa.Column("reason", Text(), nullable=False),
        sa.Column("accessed_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("personal_data_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_data_access_accessed_at"), ["accessed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_data_access_ticket_id"), ["ticket_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("personal_data_access")
    op.drop_table("webhooks")
    op.drop_table("api_tokens")
