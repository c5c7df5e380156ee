"""rung identity: a deadline firing is unique by the rung's identity, not its position

A migration to a definition version that adds or removes a reminder or an escalation level
moves rungs to other positions; keyed by identity (remind, due, escalate-2) a rung that fired
never fires again and a rung still ahead is never taken for one that fired. Rows written
before this revision keep their position as identity ("#N").

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate writes sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The baseline's unique (deadline_id, rung) was unnamed: PostgreSQL named it itself, SQLite's
# batch mode finds it through this convention.
OLD_UNIQUE = {"postgresql": "deadline_firings_deadline_id_rung_key"}
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    old = OLD_UNIQUE.get(op.get_bind().dialect.name, "uq_deadline_firings_deadline_id")
    with op.batch_alter_table("deadline_firings", naming_convention=CONVENTION) as batch_op:
        batch_op.add_column(sa.Column("rung_key", sqlmodel.sql.sqltypes.AutoString()))
    op.execute("UPDATE deadline_firings SET rung_key = '#' || rung")
    with op.batch_alter_table("deadline_firings", naming_convention=CONVENTION) as batch_op:
        batch_op.alter_column("rung_key", nullable=False)
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(
            "uq_deadline_firings_rung_key", ["deadline_id", "rung_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deadline_firings", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_deadline_firings_rung_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deadline_firings_deadline_id", ["deadline_id", "rung"]
        )
        batch_op.drop_column("rung_key")
