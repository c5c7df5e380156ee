"""rules: provisional deadlines (a year without an official schedule); links between tickets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

import hotline.persistence.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_PROVISIONAL = "provisional AND status IN ('pending', 'paused')"


def upgrade() -> None:
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["target_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_links_target_id"), ["target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_links_ticket_id"), ["ticket_id"], unique=False)
    # Plain ALTER TABLE, not a batch copy: SQLite cannot drop `deadlines` while firings point
    # at it (foreign keys are on), and adding a column needs no copy.
    op.add_column(
        "deadlines",
        sa.Column("provisional", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "ix_deadlines_provisional",
        "deadlines",
        ["ticket_id"],
        unique=False,
        sqlite_where=sa.text(_OPEN_PROVISIONAL),
        postgresql_where=sa.text(_OPEN_PROVISIONAL),
    )


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_provisional")
        batch_op.drop_column("provisional")
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_links_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_links_target_id"))
    op.drop_table("ticket_links")
