"""merkle seals: a seal keeps the root of a Merkle tree; its leaves and inner nodes are rows

Seals written before this revision keep their ``heads`` and still verify as legacy seals.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("root", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("previous", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.create_table(
        "seal_leaves",
        sa.Column("seal_id", sa.Integer(), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["seal_id"], ["seals.id"]),
        sa.PrimaryKeyConstraint("seal_id", "pos"),
        sa.UniqueConstraint("seal_id", "ticket_id"),
    )
    op.create_table(
        "seal_nodes",
        sa.Column("seal_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["seal_id"], ["seals.id"]),
        sa.PrimaryKeyConstraint("seal_id", "level", "pos"),
    )


def downgrade() -> None:
    op.drop_table("seal_nodes")
    op.drop_table("seal_leaves")
    with op.batch_alter_table("seals", schema=None) as batch_op:
        batch_op.drop_column("previous")
        batch_op.drop_column("root")
