"""replicas: daemon heartbeats; deadline firings record the replica that fired them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

import hotline.persistence.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replicas",
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column(
            "started_at", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "stopped_at", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("owner"),
    )
    with op.batch_alter_table("deadline_firings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fired_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("deadline_firings", schema=None) as batch_op:
        batch_op.drop_column("fired_by")
    op.drop_table("replicas")
