"""The daily sums of the facts (``fact_rollups``), moved by each write of facts.

A write of facts reads the rollup key of its tickets' facts rows before (``send_keys``, in the
pipeline of the write) and after, and moves each ticket from its old sum row to its new one in
one statement at the end of the transaction (``move``): a +n or -n per key, in key order.

Why one statement, last and sorted: tickets received on the same day by the same unit share a
sum row, so concurrent transactions (sweeper replicas, API workers) update the same rows. A
row lock taken at the end is held only until the commit, and taking them in one order makes
concurrent batches wait for each other instead of deadlocking (a -1 and a +1 per ticket, in
the order of the tickets, did both).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.persistence import compiled
from hotline.persistence.tables import ROLLUP_KEY, FactRollupRow, TicketFactRow

ticket_facts = TicketFactRow.__table__
fact_rollups = FactRollupRow.__table__
Key = tuple[Any, ...]


def rolled() -> dict[str, Any]:
    """The rollup key of a ``ticket_facts`` row (see ``FactRollupRow`` for the no-NULL rule)."""
    f = ticket_facts.c
    in_time = sa.and_(f.responses > 0, f.late == 0)
    return {
        "definition_name": f.definition_name,
        "day": f.day,
        "lead_unit": sa.func.coalesce(f.lead_unit, ""),
        "basis": sa.func.coalesce(f.basis, ""),
        "entered": f.entered,
        "via_district": f.via_district,
        "excluded": f.excluded,
        "in_time": sa.case((in_time, 1), else_=0),
        "redone": f.redone,
        "first_answer": sa.func.coalesce(f.first_callback % 10, -1),
        "last_answer": sa.func.coalesce(f.last_callback % 10, -1),
    }


def rebuild(conn: sa.Connection) -> None:
    """Sum ``ticket_facts`` into ``fact_rollups`` again, from nothing."""
    conn.execute(fact_rollups.delete())
    key = rolled()
    query = sa.select(*key.values(), sa.func.count(), sa.func.max(ticket_facts.c.changed_at))
    query = query.group_by(*key.values())
    conn.execute(fact_rollups.insert().from_select([*key, "n", "newest"], query))


def send_keys(conn: sa.Connection, ticket_ids: Sequence[int]) -> compiled.Sent:
    """Ask for the rollup key and ``changed_at`` of the tickets' facts rows (``Sent.rows``
    reads them, after the pipeline this runs in, if any)."""
    return _KEYS.for_dialect(conn).send(conn, {"b_ids": list(ticket_ids)})


def move(conn: sa.Connection, old: Sequence[Any], new: Sequence[Any]) -> None:
    """Take each ticket out of the sum row of its ``old`` key and into that of its ``new`` one
    (rows as ``send_keys`` asks for them); ``newest`` only grows."""
    counts: Counter[Key] = Counter(_key(row) for row in new)
    counts.subtract(_key(row) for row in old)
    newest: dict[Key, datetime] = {}
    for row in new:
        key = _key(row)
        if row.changed_at is not None and (key not in newest or row.changed_at > newest[key]):
            newest[key] = row.changed_at
    moved = [
        dict(zip(ROLLUP_KEY, key, strict=True)) | {"n": n, "newest": newest.get(key)}
        for key, n in sorted(counts.items())
        if n or key in newest
    ]
    if moved:
        _MOVE.for_dialect(conn).execute_many(conn, moved)


def _key(row: Any) -> Key:
    return tuple(row[:-1])


def _keys(dialect: str) -> Any:
    """The facts rows of a list of tickets, compiled once (``compiled.one_of``)."""
    f = ticket_facts.c
    chosen = compiled.one_of(f.ticket_id, "b_ids", dialect)
    key = rolled()
    return sa.select(*(v.label(k) for k, v in key.items()), f.changed_at).where(chosen)


def _move(dialect: str) -> Any:
    r = fact_rollups.c
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(fact_rollups)
    new = insert.excluded
    later = sa.or_(r.newest.is_(None), new.newest > r.newest)
    return insert.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={"n": r.n + new.n, "newest": sa.case((later, new.newest), else_=r.newest)},
    )


_KEYS = compiled.ByDialect(_keys)
_MOVE = compiled.ByDialect(_move, (*ROLLUP_KEY, "n", "newest"))
