"""console indexes: tickets by version and state, open deadlines by due time

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('pending', 'paused')")


def upgrade() -> None:
    op.create_index(
        "ix_tickets_definition_state",
        "tickets",
        ["definition_name", "definition_version", "state"],
    )
    op.create_index(
        "ix_deadlines_open_due",
        "deadlines",
        ["due_at", "ticket_id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_open_due", table_name="deadlines")
    op.drop_index("ix_tickets_definition_state", table_name="tickets")
