"""tickets of a definition in the order they were received (what-if pages)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_received", "tickets", ["definition_name", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_received", table_name="tickets")
