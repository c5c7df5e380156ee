"""rules: deadlines counted over a year without an official schedule are marked provisional

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_PROVISIONAL = "provisional AND status IN ('pending', 'paused')"


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provisional", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_deadlines_provisional",
            ["ticket_id"],
            unique=False,
            sqlite_where=sa.text(_OPEN_PROVISIONAL),
            postgresql_where=sa.text(_OPEN_PROVISIONAL),
        )


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_provisional")
        batch_op.drop_column("provisional")
