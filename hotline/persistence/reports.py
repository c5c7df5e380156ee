"""The assessment's counting, done by the database: GROUP BY over tickets and their history.

No ticket is loaded into Python: each ticket's events fold into a row of flags (dispatched,
via a district, excluded, responses, late responses, rounds, the counted callback and its
answers), and one query groups those rows by the report's key and the callback's answers. The
rows are the tickets' facts (``persistence.facts``, kept by every write), or, when those do not
hold for the report or the caller asks to ``recompute``, the same fold over the raw history.
The formulas (rates, composite, ranks) are applied afterwards, in ``engine.kpi``, to the few
rows returned.

Every count reads the history up to ``as_of``; a ticket is grouped by its current lead unit
and category, and belongs to the period of its ``created_at`` (受理).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Literal

import sqlalchemy as sa

from hotline.engine.kpi import SATISFACTION, Counts
from hotline.engine.meanings import Reading
from hotline.persistence import facts
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import AdjustmentRow

adjustments = AdjustmentRow.__table__
Key = Literal["unit", "category", "time"]
Bucket = tuple[str, datetime, datetime]  # label, start, end (UTC)
FLAGS = ("entered", "via_district", "excluded", "responses", "late", "redone")
_flag = facts.flag


@dataclass(frozen=True)
class Scope:
    """Which tickets a report counts: received in [start, end), history read up to as_of."""

    start: datetime
    end: datetime
    as_of: datetime
    unit: str | None = None
    category: str | None = None
    definition: str | None = None  # only the tickets of this workflow (its rules apply)


def _per_ticket(scope: Scope, counted: str, read: Reading) -> sa.Subquery:
    """One row per ticket received in the scope, its history up to ``as_of`` folded into flags
    (``facts.folded``); ``counted`` picks the last or the first answered callback."""
    t, e = tickets.c, events.c
    aggregates = facts.folded(read)
    query = (
        sa.select(
            t.id,
            t.lead_unit,
            t.category,
            t.created_at,
            *(aggregates[name].label(name) for name in FLAGS),
            aggregates[f"{counted}_callback"].label("counted"),
            sa.literal(1).label("n"),
        )
        .outerjoin(  # outer: a consultation answered at once has none of these events
            events,
            sa.and_(e.ticket_id == t.id, e.occurred_at <= scope.as_of, facts.counted(read)),
        )
        .where(*_chosen(t, scope))
        .group_by(t.id)
    )
    return query.subquery("per_ticket")


def _from_facts(scope: Scope, counted: str) -> sa.Subquery:
    """The same rows as ``_per_ticket``, read from ``ticket_facts``, with what says whether
    they hold for this report: the reading they were folded under and their newest event."""
    f = facts.ticket_facts.c
    query = sa.select(
        f.ticket_id.label("id"),
        f.lead_unit,
        f.category,
        f.created_at,
        *(f[name] for name in FLAGS),
        f[f"{counted}_callback"].label("counted"),
        f.basis,
        f.changed_at,
        sa.literal(1).label("n"),
    ).where(*_chosen(f, scope))
    return query.subquery("per_ticket")


def _from_rollups(scope: Scope, counted: str) -> sa.Subquery:
    """The rows of ``_from_facts`` summed by unit and day (``facts.fact_rollups``), each with
    the number of tickets it stands for (``n``)."""
    r = facts.fact_rollups.c
    query = sa.select(
        sa.func.nullif(r.lead_unit, "").label("lead_unit"),
        r.day.label("created_at"),
        r.entered,
        r.via_district,
        r.excluded,
        r.in_time.label("responses"),
        sa.literal(0).label("late"),
        r.redone,
        sa.func.nullif(r[f"{counted}_answer"], -1).label("counted"),
        r.basis,
        r.newest.label("changed_at"),
        r.n,
    ).where(
        r.definition_name == scope.definition,
        r.day >= scope.start,
        r.day < scope.end,
        r.n > 0,
    )
    if scope.unit is not None:
        query = query.where(r.lead_unit == scope.unit)
    return query.subquery("per_day")


def _whole_days(scope: Scope, key: Key, buckets: Sequence[Bucket], zone: tzinfo | None) -> bool:
    """Can the daily sums answer? Whole days of ``zone`` for one workflow, grouped by unit or
    time. (A ticket received after ``as_of`` has a newer ``changed_at``: those sums do not hold.)
    """
    if zone is None or key == "category" or scope.category is not None:
        return False
    if scope.definition is None:
        return False
    edges = [scope.start, scope.end, *(edge for _, *pair in buckets for edge in pair)]
    return all(facts.day_of(edge, zone) == edge for edge in edges)


def _chosen(columns: Any, scope: Scope) -> list[Any]:
    """The tickets a scope counts, on ``tickets`` or ``ticket_facts`` (same column names)."""
    c = columns
    found = [c.created_at >= scope.start, c.created_at < scope.end, c.created_at <= scope.as_of]
    for name, value in (
        ("lead_unit", scope.unit),
        ("category", scope.category),
        ("definition_name", scope.definition),
    ):
        if value is not None:
            found.append(c[name] == value)
    return found


def _key(pt: sa.Subquery, key: Key, buckets: Sequence[Bucket]) -> Any:
    if key == "unit":
        return pt.c.lead_unit
    if key == "category":
        return pt.c.category
    whens = [(pt.c.created_at < end, name) for name, _, end in buckets]
    return sa.case(*whens, else_=None)


def tally(
    store: SqlStore,
    scope: Scope,
    key: Key,
    buckets: Sequence[Bucket] = (),
    counted: str = "last",
    *,
    read: Reading,
    zone: tzinfo | None = None,
    recompute: bool = False,
) -> dict[str | None, Counts]:
    """Counts per unit, category or time bucket (``buckets`` in order, for ``key="time"``).

    ``read`` (``meanings.reading`` of the definition) says which events count as what, in
    days of ``zone``. The counts come from the daily sums of the tickets' facts where the
    report's edges are days of that zone, else from the facts, unless ``recompute`` asks for
    the raw history, or some facts were folded under another reading or hold an event after
    ``as_of``: then the raw history is read, which gives the same numbers, only slower.
    """
    if not recompute:
        holds = (facts.basis(read, zone), scope.as_of)
        sources = [_from_facts(scope, counted)]
        if _whole_days(scope, key, buckets, zone):
            sources.insert(0, _from_rollups(scope, counted))
        for source in sources:
            found = _tally(store, source, key, buckets, holds)
            if found is not None:
                return found
    raw = _tally(store, _per_ticket(scope, counted, read), key, buckets)
    assert raw is not None
    return raw


def _tally(
    store: SqlStore,
    pt: sa.Subquery,
    key: Key,
    buckets: Sequence[Bucket],
    holds: tuple[str, datetime] | None = None,
) -> dict[str | None, Counts] | None:
    """Group the per-ticket rows ``pt``. Rows from facts come with ``holds`` (the report's
    reading digest and ``as_of``): None if any of them was folded under another reading or
    holds an event after ``as_of``."""
    n = pt.c.n  # tickets a row stands for: 1, or a rollup's count

    def tickets_where(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, n), else_=0))

    assessed = sa.and_(pt.c.entered == 1, pt.c.excluded == 0)
    in_time = sa.and_(assessed, pt.c.responses > 0, pt.c.late == 0)
    rated = sa.and_(assessed, pt.c.counted.is_not(None))
    answer = sa.case((rated, pt.c.counted % 10)).label("answer_code")
    group = _key(pt, key, buckets).label("key")
    direct = sa.and_(pt.c.entered == 1, pt.c.via_district == 0)
    columns = [
        group,
        answer,
        sa.func.sum(n).label("received"),
        tickets_where(direct).label("direct"),
        tickets_where(pt.c.via_district == 1).label("via_district"),
        tickets_where(pt.c.excluded == 1).label("excluded"),
        tickets_where(assessed).label("assessed"),
        tickets_where(in_time).label("responded"),
        tickets_where(sa.and_(assessed, pt.c.redone == 1)).label("redispatched"),
        tickets_where(sa.and_(rated, in_time)).label("callbacks_responded"),
    ]
    if holds is not None:
        other = sa.or_(pt.c.basis.is_(None), pt.c.basis != holds[0])
        columns += [
            tickets_where(other).label("foreign"),
            sa.func.max(pt.c.changed_at).label("newest"),
        ]
    found: dict[str | None, Counts] = {}
    with store.reading() as conn:
        for row in conn.execute(sa.select(*columns).group_by(group, answer)):
            if holds is not None and (row.foreign or (row.newest or holds[1]) > holds[1]):
                return None
            found[row.key] = found.get(row.key, Counts()) + _counts(row)
    return found


def _counts(row: Any) -> Counts:
    answers = ()
    if row.answer_code is not None:
        resolved, place = divmod(int(row.answer_code), 3)
        answers = ((bool(resolved), SATISFACTION[place], row.received),)
    return Counts(
        received=row.received,
        direct=int(row.direct),
        via_district=int(row.via_district),
        excluded=int(row.excluded),
        assessed=int(row.assessed),
        responded=int(row.responded),
        redispatched=int(row.redispatched),
        callbacks_responded=int(row.callbacks_responded),
        answers=answers,
    )


def volumes(
    store: SqlStore, buckets: Sequence[Bucket], definition: str | None = None
) -> dict[tuple[str, str], int]:
    """Tickets received per (category, bucket): the growth of a demand type (每月一题)."""
    t = tickets.c
    bucket = sa.case(*[(t.created_at < end, name) for name, _, end in buckets]).label("bucket")
    query = (
        sa.select(t.category, bucket, sa.func.count().label("n"))
        .where(t.created_at >= buckets[0][1], t.created_at < buckets[-1][2])
        .where(_of(definition))
        .group_by(t.category, bucket)
    )
    with store.reading() as conn:
        return {(r.category, r.bucket): r.n for r in conn.execute(query)}


def spread(
    store: SqlStore, start: datetime, end: datetime, definition: str | None = None
) -> dict[str, int]:
    """How many distinct lead units each category's tickets went to (a cross-cutting demand)."""
    t = tickets.c
    query = (
        sa.select(t.category, sa.func.count(sa.distinct(t.lead_unit)).label("units"))
        .where(t.created_at >= start, t.created_at < end, _of(definition))
        .group_by(t.category)
    )
    with store.reading() as conn:
        return {r.category: r.units for r in conn.execute(query)}


def _of(definition: str | None) -> Any:
    """Tickets of ``definition`` (every ticket if None)."""
    return sa.true() if definition is None else tickets.c.definition_name == definition


def add_adjustment(
    store: SqlStore,
    unit: str,
    day: date,
    points: float,
    reason: str,
    approver: str,
    now: datetime,
) -> int:
    """Record bonus (positive) or penalty (negative) points for a unit on a day."""
    with store.writing() as conn:
        return conn.execute(
            adjustments.insert().values(
                unit=unit, day=day, points=points, reason=reason, approver=approver, recorded_at=now
            )
        ).inserted_primary_key[0]


def adjustments_between(
    store: SqlStore, first: date, end: date, unit: str | None = None
) -> list[tuple[str, date, float]]:
    """(unit, day, points) of every adjustment on a day in [first, end)."""
    a = adjustments.c
    query = sa.select(a.unit, a.day, a.points).where(a.day >= first, a.day < end).order_by(a.id)
    if unit is not None:
        query = query.where(a.unit == unit)
    with store.reading() as conn:
        return [(r.unit, r.day, r.points) for r in conn.execute(query)]
