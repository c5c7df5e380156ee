"""ticket facts: each ticket's assessment flags, folded from its history, and their daily sums
per unit (both backfilled here)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hotline.persistence.tables
from hotline.engine import meanings
from hotline.persistence import facts, rollups
from hotline.workflows import loader

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = hotline.persistence.tables.UTCDateTime(timezone=True)
    op.create_table(
        "ticket_facts",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("definition_name", sa.String(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("day", when, nullable=False),
        sa.Column("lead_unit", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("basis", sa.String(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _FLAGS),
        sa.Column("first_callback", sa.Integer(), nullable=True),
        sa.Column("last_callback", sa.Integer(), nullable=True),
        sa.Column("changed_at", when, nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_ticket_facts_period", "ticket_facts", ["definition_name", "created_at"])
    op.create_table(
        "fact_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_name", sa.String(), nullable=False),
        sa.Column("day", when, nullable=False),
        sa.Column("lead_unit", sa.String(), nullable=False),
        sa.Column("basis", sa.String(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _ROLLED),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("newest", when, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*hotline.persistence.tables.ROLLUP_KEY, name="uq_fact_rollups_key"),
    )
    _backfill(op.get_bind())


_FLAGS = ("entered", "via_district", "excluded", "responses", "late", "redone")
_ROLLED = (
    "entered",
    "via_district",
    "excluded",
    "in_time",
    "redone",
    "first_answer",
    "last_answer",
)


def _backfill(conn: sa.Connection) -> None:
    """Fold every ticket's history under its version's reading, as the service would read it
    (a version stored before definitions declared meanings reads those of the newest)."""
    stored = sa.table("definitions", sa.column("name"), sa.column("version"), sa.column("source"))
    rows = conn.execute(sa.select(stored).order_by(stored.c.name, stored.c.version)).all()
    newest = {row.name: loader.parse(row.source) for row in rows}  # the last of each name wins
    t = hotline.persistence.tables.TicketRow.__table__.c
    for row in rows:
        compiled = loader.compile_source(row.source, row.version)
        definition = meanings.adopt(compiled.definition, newest[row.name])
        where = sa.and_(t.definition_name == row.name, t.definition_version == row.version)
        facts.refold(conn, meanings.reading(definition), compiled.calendar.timezone, where)
    rollups.rebuild(conn)


def downgrade() -> None:
    op.drop_table("fact_rollups")
    op.drop_index("ix_ticket_facts_period", table_name="ticket_facts")
    op.drop_table("ticket_facts")
