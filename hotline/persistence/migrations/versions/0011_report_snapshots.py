"""report snapshots: a period's published ranking, frozen and sealed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

import hotline.persistence.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rules", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("as_of", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "published_at", hotline.persistence.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("seal", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition", "period", "by"),
    )


def downgrade() -> None:
    op.drop_table("report_snapshots")
