"""Each ticket's assessment facts (``ticket_facts``), kept in the transaction of every change.

The assessment folds a ticket's history into a few flags (dispatched, via a district, excluded,
responses, late responses, a re-handling round, its first and last answered callback). The raw
report does that fold over every event of a period, in SQL; this module folds the events one
decision writes, in hand (``tally.fold``, the rules the what-if counts by, which a test holds
equal to the SQL), and merges the result into the ticket's row, so ``report rates`` reads one
row a ticket. Every flag merges by max, sum or first/last, so folding new events onto the old
row equals folding the whole history again (which another reading or a migration runs in SQL).

Which events count as what is the definition's ``meanings.reading``; the row keeps the digest
of the reading it was folded under (``basis``). A decision folded under another reading (a
migration to a version that reads differently) folds the ticket's whole history again; a
report under other rules sees another digest and reads the raw history (``persistence.reports``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.engine import periods, tally
from hotline.engine.decision import Decision
from hotline.engine.kpi import SATISFACTION
from hotline.engine.meanings import Reading
from hotline.persistence import compiled, rollups
from hotline.persistence.rows import events, tickets
from hotline.persistence.tables import TicketFactRow, UTCDateTime

ticket_facts = TicketFactRow.__table__
fact_rollups = rollups.fact_rollups
# The sweeper's event for a missed deadline: a late response shows as one for the response kind.
OVERDUE = tally.OVERDUE
MERGED = ("entered", "via_district", "excluded", "redone")  # any event: max
SUMMED = ("responses", "late")


def basis(read: Reading, zone: tzinfo | None) -> str:
    """The digest of a reading and the zone of its days: equal digests fold and sum alike."""
    return hashlib.sha256(repr((read, str(zone))).encode()).hexdigest()[:16]


def day_of(instant: datetime, zone: tzinfo | None) -> datetime:
    """The local midnight (in UTC) of the day of ``instant``; the instant itself if no zone."""
    if zone is None:
        return instant
    return periods.midnight(instant.astimezone(zone).date(), zone)


def among(column: Any, values: tuple[str, ...]) -> Any:
    """``column IN values`` with each value a literal, so the SQL compiles once (no expanding)."""
    return column.in_([sa.literal(v) for v in values]) if values else sa.false()


def flag(condition: Any) -> Any:
    return sa.case((condition, 1), else_=0)


def answer_code(payload: Any, read: Reading) -> Any:
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
        sa.and_(among(e.trigger, read.response), e.payload[("met", kind, "late")].as_boolean()),
        sa.and_(e.trigger == OVERDUE, e.payload["deadline"].as_string() == kind),
    )


def _via_district(read: Reading) -> Any:
    e = events.c
    if read.route is None:
        return sa.false()
    field, value = read.route
    return sa.and_(among(e.trigger, read.dispatch), e.payload[field].as_string() == value)


def counted(read: Reading) -> Any:
    """The events a fold reads: those the reading names, and missed deadlines."""
    return among(events.c.trigger, (*read.triggers, OVERDUE))


def folded(read: Reading) -> dict[str, Any]:
    """The aggregate of each fact over a ticket's (outer-joined) events, by column name.

    A callback is ``seq × 10 + answer code``: its max (or min) is the last (or first) callback
    *with* its answers, so no second pass over the events is needed to read them.
    """
    e = events.c
    callback = sa.case((among(e.trigger, read.callback), e.seq * 10 + answer_code(e.payload, read)))
    return {
        "entered": sa.func.max(flag(among(e.trigger, read.dispatch))),
        "via_district": sa.func.max(flag(_via_district(read))),
        "excluded": sa.func.max(flag(among(e.trigger, read.exclusion))),
        "responses": sa.func.sum(flag(among(e.trigger, read.response))),
        "late": sa.func.sum(flag(_late(read))),
        "redone": sa.func.max(flag(among(e.to_state, read.redispatched))),
        "first_callback": sa.func.min(callback),
        "last_callback": sa.func.max(callback),
        # The newest event read, or the intake: a report up to an earlier instant must not
        # count the ticket (received later) or its events (see ``persistence.reports``).
        "changed_at": sa.func.coalesce(sa.func.max(e.occurred_at), tickets.c.created_at),
    }


@dataclass(frozen=True)
class Known:
    """How one definition version's histories are read, and the zone of its days."""

    read: Reading
    zone: tzinfo | None
    basis: str | None


class Readings:
    """The reading of each (definition, version) this process compiled: the service tells the
    store (``learn``), which folds each decision under its ticket's version."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int], Known] = {}
        self._lock = threading.Lock()

    def learn(self, name: str, version: int, read: Reading, zone: tzinfo) -> None:
        with self._lock:
            self._known[(name, version)] = Known(read, zone, basis(read, zone))

    def get(self, name: str, version: int) -> Known:
        """What this process knows of the version: an unknown one (a store written without a
        service) folds nothing, under no basis, and every report reads its raw history."""
        return self._known.get((name, version), _UNKNOWN)


_statements: dict[tuple[str, str], compiled.Statement] = {}


@dataclass(frozen=True)
class Folding:
    """A batch's fold under way (``send``), finished by ``finish`` once its pipeline ended."""

    ids: list[int]
    old: compiled.Sent  # the tickets' rollup keys before the fold
    merged: list[tuple[Known, list[dict[str, Any]], compiled.Sent]]  # by reading


def send(conn: sa.Connection, decisions: Sequence[Decision], readings: Readings) -> Folding | None:
    """Fold the decisions' events (of distinct tickets) into their tickets' facts rows: send
    the read of their rollup keys, then each ticket's merge, inside the caller's pipeline.

    Nothing to do for a decision whose events count for nothing and that keeps the unit,
    category and version (a warning); None if that is all of them.
    """
    values: dict[str, tuple[Known, list[dict[str, Any]]]] = {}
    for decision in decisions:
        before, after = decision.before, decision.after
        known = readings.get(after.definition, after.definition_version)
        if before.version > 0 and not _matters(decision, known.read):
            continue
        added = _added(decision, known, day_of(after.created_at, known.zone))
        values.setdefault(known.basis or "", (known, []))[1].append(added)
    if not values:
        return None
    ids = [added["ticket_id"] for _, merges in values.values() for added in merges]
    old = rollups.send_keys(conn, ids)
    merged = [
        (known, merges, MERGE.for_dialect(conn).send_many(conn, merges))
        for known, merges in values.values()
    ]
    return Folding(ids, old, merged)


def finish(conn: sa.Connection, folding: Folding | None) -> None:
    """Fold again from the whole history the rows folded under another reading (or none),
    which a merge leaves alone, then move the tickets in the daily sums (``rollups``)."""
    if folding is None:
        return
    for known, merges, sent in folding.merged:
        if sent.count() < len(merges):  # rare (a migration): the whole group, it is correct too
            whole = [{"b_id": m["ticket_id"], "b_since": 0, "b_day": m["day"]} for m in merges]
            _statement(conn, known).execute_many(conn, whole)
    new = rollups.send_keys(conn, folding.ids).rows()
    rollups.move(conn, folding.old.rows(), new)


def _added(decision: Decision, known: Known, day: datetime) -> dict[str, Any]:
    """The facts row of the decision's events alone (``tally.fold``: the fold in Python, the
    events being in hand), to merge into the ticket's row."""
    after, found = decision.after, tally.fold(decision.events, known.read)
    return {
        "ticket_id": after.id,
        "definition_name": after.definition,
        "created_at": after.created_at,
        "day": day,
        "lead_unit": after.lead_unit,
        "category": after.category,
        "basis": known.basis,
        "entered": int(found.entered),
        "via_district": int(found.via_district),
        "excluded": int(found.excluded),
        "responses": found.responses,
        "late": found.late,
        "redone": int(found.redone),
        "first_callback": found.first_callback,
        "last_callback": found.last_callback,
        "changed_at": found.newest or after.created_at,
    }


def _matters(decision: Decision, read: Reading) -> bool:
    before, after = decision.before, decision.after
    kept = (before.lead_unit, before.category, before.definition_version)
    if kept != (after.lead_unit, after.category, after.definition_version):
        return True  # a migration: the new version may read the history otherwise
    names = {*read.triggers, OVERDUE}
    return any(e.trigger in names for e in decision.events)


_UNKNOWN = Known(Reading((), (), (), (), (), None, None, None, (), None), None, None)


def _statement(conn: sa.Connection, known: Known) -> Any:
    """The ticket's whole history folded again, replacing its row (a row of another basis)."""
    key = (conn.dialect.name, known.basis or "")
    found = _statements.get(key)
    if found is None:
        where = sa.and_(tickets.c.id == sa.bindparam("b_id"))
        day = sa.bindparam("b_day", type_=UTCDateTime)
        found = _statements[key] = compiled.Statement(
            upsert(conn.dialect.name, known.read, known.basis, where, True, day)
        )
    return found


def upsert(
    dialect: str, read: Reading, digest: str | None, where: Any, whole: bool, day: Any
) -> Any:
    """INSERT the fold of the tickets ``where`` selects (their events after ``b_since``), or
    merge it into their rows: replace them (``whole``) or add to rows of the same basis only."""
    t, e = tickets.c, events.c
    aggregates, since = folded(read), sa.bindparam("b_since", type_=sa.Integer)
    query = (
        sa.select(
            t.id,
            t.definition_name,
            t.created_at,
            day,
            t.lead_unit,
            t.category,
            sa.literal(digest, sa.String).label("basis"),
            *(a.label(name) for name, a in aggregates.items()),
        )
        .outerjoin(events, sa.and_(e.ticket_id == t.id, e.seq > since, counted(read)))
        .where(where)
        .group_by(t.id)
    )
    names = ["ticket_id", "definition_name", "created_at", "day", "lead_unit", "category", "basis"]
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(ticket_facts)
    insert = insert.from_select([*names, *aggregates], query)
    return insert.on_conflict_do_update(
        index_elements=["ticket_id"],
        set_=_replaced(insert) if whole else _merged(insert),
        where=None if whole else ticket_facts.c.basis == insert.excluded.basis,
    )


def _replaced(insert: Any) -> dict[str, Any]:
    return {c.name: insert.excluded[c.name] for c in ticket_facts.c if c.name != "ticket_id"}


def _merged(insert: Any) -> dict[str, Any]:
    old, new = ticket_facts.c, insert.excluded
    merged = _replaced(insert)
    for name in MERGED:
        merged[name] = sa.case((new[name] > old[name], new[name]), else_=old[name])
    for name in SUMMED:
        merged[name] = old[name] + new[name]
    # Later events have larger seqs: the first callback stays, a new last one replaces.
    merged["first_callback"] = sa.func.coalesce(old.first_callback, new.first_callback)
    merged["last_callback"] = sa.func.coalesce(new.last_callback, old.last_callback)
    later = sa.or_(old.changed_at.is_(None), new.changed_at > old.changed_at)
    merged["changed_at"] = sa.case((later, new.changed_at), else_=old.changed_at)
    return merged


def refold(conn: sa.Connection, read: Reading, zone: tzinfo, where: Any) -> None:
    """Fold again the whole history of every ticket ``where`` selects, in one statement, then
    set their days (the migration that creates the table). Call ``rollups.rebuild`` after."""
    digest, t = basis(read, zone), tickets.c
    statement = upsert(conn.dialect.name, read, digest, where, True, t.created_at)
    conn.execute(statement, {"b_since": 0})
    f = ticket_facts.c
    found = conn.execute(sa.select(t.id, t.created_at).where(where)).all()
    days = [{"b_id": i, "b_day": day_of(created, zone)} for i, created in found]
    if days:
        set_day = ticket_facts.update().where(f.ticket_id == sa.bindparam("b_id"))
        conn.execute(set_day.values(day=sa.bindparam("b_day")), days)


def _merge(dialect: str) -> Any:
    """The facts of new events (``_added``) into the ticket's row, if of the same basis."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(ticket_facts)
    return insert.on_conflict_do_update(
        index_elements=["ticket_id"],
        set_=_merged(insert),
        where=ticket_facts.c.basis == insert.excluded.basis,
    )


MERGE = compiled.ByDialect(_merge, [c.name for c in ticket_facts.c])
