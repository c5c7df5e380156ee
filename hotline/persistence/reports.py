"""The assessment's counting, done by the database: GROUP BY over tickets and their history.

No ticket is loaded into Python: one query folds each ticket's events into a row of flags
(dispatched, via a district, excluded, responses, late responses, rounds, the counted callback
and its answers), and groups those rows by the report's key and the callback's answers. The formulas
(rates, composite, ranks) are applied afterwards, in ``engine.kpi``, to the few rows returned.

Every count reads the history up to ``as_of``; a ticket is grouped by its current lead unit
and category, and belongs to the period of its ``created_at`` (受理).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa

from hotline.engine.kpi import SATISFACTION, Counts
from hotline.engine.meanings import Reading
from hotline.persistence.rows import events, tickets
from hotline.persistence.sql import SqlStore
from hotline.persistence.tables import AdjustmentRow

adjustments = AdjustmentRow.__table__
Key = Literal["unit", "category", "time"]
Bucket = tuple[str, datetime, datetime]  # label, start, end (UTC)
# The sweeper's event for a missed deadline: a late response shows as one for the response kind.
OVERDUE = "overdue"


@dataclass(frozen=True)
class Scope:
    """Which tickets a report counts: received in [start, end), history read up to as_of."""

    start: datetime
    end: datetime
    as_of: datetime
    unit: str | None = None
    category: str | None = None
    definition: str | None = None  # only the tickets of this workflow (its rules apply)


def _flag(condition: Any) -> Any:
    return sa.case((condition, 1), else_=0)


def _answer_code(payload: Any, read: Reading) -> Any:
    """The callback's answers as one digit: 3 × resolved + satisfaction's place in SATISFACTION.

    The definition's ``kpi.answers`` names the fields and says which value is which level.
    """
    if read.resolved is None or read.satisfaction is None:
        return sa.literal(2)
    value = payload[read.satisfaction].as_string()
    places = {name: i for i, name in enumerate(SATISFACTION)}
    place = sa.case(*[(value == v, places[level]) for v, level in read.levels], else_=2)
    return sa.case((payload[read.resolved].as_boolean(), 3), else_=0) + place


def _late(read: Reading) -> Any:
    """A response that met its deadline late, or a response deadline the sweeper saw missed."""
    e = events.c
    kind = read.response_deadline
    if kind is None:
        return sa.false()
    return sa.or_(
        sa.and_(e.trigger.in_(read.response), e.payload[("met", kind, "late")].as_boolean()),
        sa.and_(e.trigger == OVERDUE, e.payload["deadline"].as_string() == kind),
    )


def _via_district(read: Reading) -> Any:
    e = events.c
    if read.route is None:
        return sa.false()
    field, value = read.route
    return sa.and_(e.trigger.in_(read.dispatch), e.payload[field].as_string() == value)


def _per_ticket(scope: Scope, counted: str, read: Reading) -> sa.Subquery:
    """One row per ticket received in the scope, its history folded into flags.

    ``counted`` is ``seq × 10 + answer code`` of the counted callback: its max (or min)
    is the last (or first) callback *with* its answers, so no second pass over the events is
    needed to read them. ``read`` says which triggers and states count as what.
    """
    e, t = events.c, tickets.c
    late = _late(read)
    via = _via_district(read)
    answered = e.seq * 10 + _answer_code(e.payload, read)
    callback = sa.case((e.trigger.in_(read.callback), answered))
    query = (
        sa.select(
            t.id,
            t.lead_unit,
            t.category,
            t.created_at,
            sa.func.max(_flag(e.trigger.in_(read.dispatch))).label("entered"),
            sa.func.max(_flag(via)).label("via_district"),
            sa.func.max(_flag(e.trigger.in_(read.exclusion))).label("excluded"),
            sa.func.sum(_flag(e.trigger.in_(read.response))).label("responses"),
            sa.func.sum(_flag(late)).label("late"),
            sa.func.max(_flag(e.to_state.in_(read.redispatched))).label("redone"),
            (sa.func.max if counted == "last" else sa.func.min)(callback).label("counted"),
        )
        .outerjoin(  # outer: a consultation answered at once has none of these events
            events,
            sa.and_(
                e.ticket_id == t.id,
                e.occurred_at <= scope.as_of,
                e.trigger.in_((*read.triggers, OVERDUE)),
            ),
        )
        .where(t.created_at >= scope.start, t.created_at < scope.end, t.created_at <= scope.as_of)
        .group_by(t.id)
    )
    if scope.unit is not None:
        query = query.where(t.lead_unit == scope.unit)
    if scope.category is not None:
        query = query.where(t.category == scope.category)
    if scope.definition is not None:
        query = query.where(t.definition_name == scope.definition)
    return query.subquery("per_ticket")


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
) -> dict[str | None, Counts]:
    """Counts per unit, category or time bucket (``buckets`` in order, for ``key="time"``).

    ``read`` (``meanings.reading`` of the definition) says which events count as what.
    """
    pt = _per_ticket(scope, counted, read)
    assessed = sa.and_(pt.c.entered == 1, pt.c.excluded == 0)
    in_time = sa.and_(assessed, pt.c.responses > 0, pt.c.late == 0)
    rated = sa.and_(assessed, pt.c.counted.is_not(None))
    answer = sa.case((rated, pt.c.counted % 10)).label("answer_code")
    group = _key(pt, key, buckets).label("key")
    direct = sa.and_(pt.c.entered == 1, pt.c.via_district == 0)
    query = sa.select(
        group,
        answer,
        sa.func.count().label("received"),
        sa.func.sum(_flag(direct)).label("direct"),
        sa.func.sum(pt.c.via_district).label("via_district"),
        sa.func.sum(pt.c.excluded).label("excluded"),
        sa.func.sum(_flag(assessed)).label("assessed"),
        sa.func.sum(_flag(in_time)).label("responded"),
        sa.func.sum(_flag(sa.and_(assessed, pt.c.redone == 1))).label("redispatched"),
        sa.func.sum(_flag(sa.and_(rated, in_time))).label("callbacks_responded"),
    ).group_by(group, answer)
    found: dict[str | None, Counts] = {}
    with store.reading() as conn:
        for row in conn.execute(query):
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
