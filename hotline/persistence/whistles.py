"""Whistle rows (吹哨报到): written from the ticket's whistle snapshot, queried by SQL.

``write`` runs inside the store's transaction of every decision, beside the event that changed
the whistle; ``listing`` and ``department_stats`` answer ``hotline whistles`` and feed the KPI
report without loading tickets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hotline.engine.decision import Decision
from hotline.engine.whistle import WAITING, Participant, Task, Whistle
from hotline.persistence import compiled
from hotline.persistence.tables import WhistleParticipantRow, WhistleRow, WhistleTaskRow

whistles = WhistleRow.__table__
participants = WhistleParticipantRow.__table__
tasks = WhistleTaskRow.__table__
WHISTLE_TABLES = {t.name: t for t in (whistles, participants, tasks)}


@dataclass(frozen=True)
class Listed:
    """One whistle as ``hotline whistles`` shows it."""

    ticket_id: int
    no: int
    status: str
    whistler: str
    reason: str
    opened_at: datetime
    summoned: list[str]
    missing: list[str]  # summoned or absent: not yet reported, declined or excused
    absent: list[str]  # missed their report deadline at least once


@dataclass(frozen=True)
class DepartmentStats:
    """How a department answered whistles: plain values for reports."""

    department: str
    summoned: int
    reported: int
    reported_in_time: int
    median_report_seconds: float | None
    absences: int
    excused: int = 0  # its decline was accepted: the matter was not its own


def write(conn: sa.Connection, decision: Decision) -> None:
    """Bring the whistle rows in line with the decision's snapshot (no-op if unchanged)."""
    before, after = decision.before.whistle, decision.after.whistle
    if after is None or after == before:
        return
    ticket_id = decision.before.id
    if before is None or before.no != after.no:
        _upsert(conn, whistles, {"ticket_id": ticket_id, "no": after.no}, _whistle(after), False)
        old_participants: dict[str, Participant] = {}
        old_tasks: dict[int, Task] = {}
    else:
        _upsert(conn, whistles, {"ticket_id": ticket_id, "no": after.no}, _whistle(after), True)
        old_participants = {p.department: p for p in before.participants}
        old_tasks = {t.no: t for t in before.tasks}
    where = {"ticket_id": ticket_id, "whistle_no": after.no}
    for p in after.participants:
        if p != old_participants.get(p.department):
            _upsert(
                conn,
                participants,
                where | {"department": p.department},
                _participant(p),
                p.department in old_participants,
            )
    for t in after.tasks:
        if t != old_tasks.get(t.no):
            _upsert(conn, tasks, where | {"no": t.no}, _task(t), t.no in old_tasks)


def listing(
    conn: sa.Connection,
    open_only: bool = False,
    department: str | None = None,
    limit: int | None = None,
) -> list[Listed]:
    """Whistles, newest first, with who was summoned and who is still missing."""
    query = (
        sa.select(whistles).order_by(whistles.c.opened_at.desc(), whistles.c.id.desc()).limit(limit)
    )
    if open_only:
        query = query.where(whistles.c.status == "open")
    if department is not None:
        query = query.where(
            sa.exists().where(
                participants.c.ticket_id == whistles.c.ticket_id,
                participants.c.whistle_no == whistles.c.no,
                participants.c.department == department,
            )
        )
    found = list(conn.execute(query))
    keys = {(w.ticket_id, w.no) for w in found}
    members: dict[tuple[int, int], list[Any]] = {key: [] for key in keys}
    if found:
        rows = conn.execute(
            sa.select(participants)
            .where(participants.c.ticket_id.in_({k[0] for k in keys}))
            .order_by(participants.c.id)
        )
        for p in rows:
            members.get((p.ticket_id, p.whistle_no), []).append(p)
    return [_listed(w, members[(w.ticket_id, w.no)]) for w in found]


def department_stats(
    conn: sa.Connection, since: datetime | None = None, until: datetime | None = None
) -> list[DepartmentStats]:
    """Per department, over whistles summoning it in [since, until): how often summoned, how
    often it reported (in time), its median time to report, its absences and excusals."""
    period = [
        *([participants.c.summoned_at >= since] if since else []),
        *([participants.c.summoned_at < until] if until else []),
    ]
    p = participants.c
    totals = (
        sa.select(
            p.department,
            sa.func.count().label("summoned"),
            sa.func.count(p.report_seconds).label("reported"),
            sa.func.sum(sa.case((p.in_time.is_(True), 1), else_=0)).label("in_time"),
            sa.func.sum(p.absences).label("absences"),
            sa.func.sum(sa.case((p.status == "excused", 1), else_=0)).label("excused"),
        )
        .where(*period)
        .group_by(p.department)
        .order_by(p.department)
    )
    medians = _medians(conn, period)
    return [
        DepartmentStats(
            department=row.department,
            summoned=row.summoned,
            reported=row.reported,
            reported_in_time=int(row.in_time or 0),
            median_report_seconds=medians.get(row.department),
            absences=int(row.absences or 0),
            excused=int(row.excused or 0),
        )
        for row in conn.execute(totals)
    ]


def _medians(conn: sa.Connection, period: list[Any]) -> dict[str, float]:
    """The median of report_seconds per department, by window functions (SQLite and PG)."""
    p = participants.c
    ranked = (
        sa.select(
            p.department,
            p.report_seconds.label("seconds"),
            sa.func.row_number()
            .over(partition_by=p.department, order_by=p.report_seconds)
            .label("rank"),
            sa.func.count().over(partition_by=p.department).label("n"),
        )
        .where(p.report_seconds.is_not(None), *period)
        .subquery()
    )
    # The middle row, or the two middle rows of an even count (integer division on both).
    middle = sa.or_(ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.rank == (ranked.c.n + 2) // 2)
    query = (
        sa.select(ranked.c.department, sa.func.avg(ranked.c.seconds))
        .where(middle)
        .group_by(ranked.c.department)
    )
    return {department: float(value) for department, value in conn.execute(query)}


def _upsert(
    conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any], old: bool
) -> None:
    """Update the row of ``key`` (``old``) or insert it, with ``values``."""
    statement = _statement(table.name, tuple(key), tuple(values), old)
    if old:
        statement.execute(conn, values | {f"key_{name}": v for name, v in key.items()})
    else:
        statement.execute(conn, key | values)


@functools.cache  # one per table, operation and set of columns: a handful
def _statement(
    table: str, key: tuple[str, ...], columns: tuple[str, ...], old: bool
) -> compiled.Statement:
    found = WHISTLE_TABLES[table]
    if not old:
        return compiled.Statement(found.insert(), (*key, *columns))
    where = sa.and_(*(found.c[name] == sa.bindparam(f"key_{name}") for name in key))
    return compiled.Statement(found.update().where(where), columns)


def _whistle(w: Whistle) -> dict[str, Any]:
    return {
        "whistler": w.whistler,
        "reason": w.reason,
        "status": "open" if w.open else "closed",
        "opened_at": w.opened_at,
        "closed_at": w.closed_at,
        "close_reason": w.close_reason,
        "conferences": [c.model_dump(mode="json") for c in w.conferences],
    }


def _participant(p: Participant) -> dict[str, Any]:
    reported = p.status == "reported" and p.answered_at is not None
    seconds = int((p.answered_at - p.summoned_at).total_seconds()) if reported else None
    return p.model_dump(exclude={"department"}) | {"report_seconds": seconds}


def _task(t: Task) -> dict[str, Any]:
    return t.model_dump(exclude={"no"})


def _listed(w: Any, members: list[Any]) -> Listed:
    return Listed(
        ticket_id=w.ticket_id,
        no=w.no,
        status=w.status,
        whistler=w.whistler,
        reason=w.reason,
        opened_at=w.opened_at,
        summoned=[m.department for m in members],
        missing=[m.department for m in members if m.status in WAITING],
        absent=[m.department for m in members if m.absences],
    )
