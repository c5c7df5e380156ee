"""The steps of a whistle (吹哨报到): summon, answer, rule on a decline, confer, assign and
finish tasks, close, and what a missed deadline does.

Each step takes the ticket and returns a changed copy; nothing here reads a clock. Every
participant's report deadline and every task's due date is a ``Deadline`` scoped to the whistle
(``deadlines.WHISTLE``), not to a state, and is fired by the sweeper like any other (``missed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hotline.engine import deadlines
from hotline.engine.calendar import Calendar
from hotline.engine.definition import Definition, Measure
from hotline.engine.durations import Span
from hotline.engine.ticket import Deadline, Ticket
from hotline.engine.whistle import (
    ABSENT,
    TASK_OVERDUE,
    WAITING,
    Conference,
    Participant,
    Status,
    Task,
    Whistle,
)
from hotline.engine.whistle import KEY as WHISTLE
from hotline.errors import InvalidField


def summon(
    ticket: Ticket,
    to: Sequence[str],
    reason: str,
    whistler: str,
    within: Span | None,
    definition: Definition,
    calendar: Calendar,
    now: datetime,
) -> Ticket:
    """吹哨: open a whistle with one participant and one report deadline per department."""
    definition.require_units("to", to, "department")
    if not to:
        raise InvalidField("to", "name at least one department to summon")
    if twice := next((d for i, d in enumerate(to) if d in to[:i]), None):
        raise InvalidField("to", f"department {twice!r} is named twice")
    definition.require_units("by", [whistler], "department")
    if whistler in to:
        raise InvalidField("to", f"the whistling unit {whistler!r} cannot summon itself")
    no = ticket.whistle.no + 1 if ticket.whistle else 1
    scope = f"{deadlines.WHISTLE}{no}"
    opened = [_report_deadline(d, scope, within, definition, calendar, now) for d in to]
    participants = tuple(
        Participant(department=d, summoned_at=now, due_at=dl.due_at)
        for d, dl in zip(to, opened, strict=True)
    )
    whistle = Whistle(
        no=no, whistler=whistler, reason=reason, opened_at=now, participants=participants
    )
    return ticket.evolve(whistle=whistle, deadlines=(*ticket.deadlines, *opened))


def answer(ticket: Ticket, department: str, status: Status, now: datetime, **notes: Any) -> Ticket:
    """A department reports or declines: its report deadline is met."""
    whistle = _open(ticket)
    p = whistle.participant(department)
    if p.status not in WAITING:
        raise InvalidField("department", f"{department!r} {_ANSWERED[p.status]}")
    update: dict[str, Any] = {"status": status, "answered_at": now, **notes}
    if status == "reported":
        update["in_time"] = now <= p.due_at
    changed = _with_participant(whistle, p.model_copy(update=update))
    return _close_deadline(ticket.evolve(whistle=changed), f"report:{department}", "met", now)


def rule_on_decline(
    ticket: Ticket,
    department: str,
    accepted: bool,
    note: str | None,
    within: Span | None,
    definition: Definition,
    calendar: Calendar,
    now: datetime,
) -> Ticket:
    """The whistling unit excuses a declining department, or summons it again afresh."""
    whistle = _open(ticket)
    p = whistle.participant(department)
    if p.status != "declined":
        raise InvalidField("department", f"{department!r} has not declined (it is {p.status})")
    if accepted:
        return ticket.evolve(
            whistle=_with_participant(
                whistle, p.model_copy(update={"status": "excused", "note": note})
            )
        )
    again = _report_deadline(department, whistle.scope, within, definition, calendar, now)
    resummoned = p.model_copy(update={"status": "summoned", "due_at": again.due_at, "note": note})
    return ticket.evolve(
        whistle=_with_participant(whistle, resummoned), deadlines=(*ticket.deadlines, again)
    )


def confer(ticket: Ticket, held_at: datetime, attendees: Sequence[str], decisions: str) -> Ticket:
    """联席会商: record a joint conference on the open whistle."""
    whistle = _open(ticket)
    meeting = Conference(held_at=held_at, attendees=tuple(attendees), decisions=decisions)
    return ticket.evolve(
        whistle=whistle.model_copy(update={"conferences": (*whistle.conferences, meeting)})
    )


def assign(
    ticket: Ticket,
    owner: str,
    title: str,
    due: datetime,
    definition: Definition,
    calendar: Calendar,
    now: datetime,
) -> Ticket:
    """A conference's task for ``owner``, due at ``due``: a deadline like any other."""
    whistle = _open(ticket)
    definition.require_units("owner", [owner], "department")
    if not whistle.conferences:
        raise InvalidField("owner", f"whistle {whistle.no} has no conference to give tasks")
    if due <= now:
        raise InvalidField("due", f"{due.isoformat()} is not in the future")
    task = Task(
        no=len(whistle.tasks) + 1,
        owner=owner,
        title=title,
        due_at=due,
        conference=len(whistle.conferences),
    )
    # A due date is a date, not a span of working time: the window is wall-clock seconds.
    window = int((due - now).total_seconds())
    deadline = _fresh(
        f"task:{task.no}", whistle.scope, Measure.CALENDAR, window, definition, calendar, now
    )
    changed = whistle.model_copy(update={"tasks": (*whistle.tasks, task)})
    return ticket.evolve(whistle=changed, deadlines=(*ticket.deadlines, deadline))


def finish_task(ticket: Ticket, no: int, note: str | None, now: datetime) -> Ticket:
    whistle = _open(ticket)
    task = whistle.task(no)
    if task.done_at is not None:
        raise InvalidField("task", f"task {no} of whistle {whistle.no} is already done")
    done = task.model_copy(update={"done_at": now, "note": note})
    tasks = tuple(done if t.no == no else t for t in whistle.tasks)
    ticket = ticket.evolve(whistle=whistle.model_copy(update={"tasks": tasks}))
    return _close_deadline(ticket, f"task:{no}", "met", now)


def close(ticket: Ticket, reason: str, now: datetime) -> Ticket:
    """End the whistle; its open deadlines are cancelled (returned closed, for writing)."""
    whistle = _open(ticket)
    ended = whistle.model_copy(update={"closed_at": now, "close_reason": reason})
    changed = tuple(
        deadlines.close(d, "cancelled", now) if d.state == whistle.scope and d.open else d
        for d in ticket.deadlines
    )
    return ticket.evolve(whistle=ended, deadlines=changed)


def missed(
    ticket: Ticket, deadline: Deadline, definition: Definition
) -> tuple[Ticket, str, dict[str, Any]]:
    """A whistle deadline fell due: (ticket, event, payload) marking the department absent or
    the task overdue, and naming the supervisor to tell (督办)."""
    whistle = ticket.whistle
    assert whistle is not None and deadline.state == whistle.scope, "a cancelled deadline fired"
    what, _, key = deadline.kind.partition(":")
    if what == "task":
        task = whistle.task(int(key))
        tasks = tuple(
            t.model_copy(update={"overdue": True}) if t == task else t for t in whistle.tasks
        )
        changed, event, unit = whistle.model_copy(update={"tasks": tasks}), TASK_OVERDUE, task.owner
        payload: dict[str, Any] = {"task": task.no, "owner": unit}
    else:
        p = whistle.participant(key)
        absent = p.model_copy(update={"status": "absent", "absences": p.absences + 1})
        changed, event, unit = _with_participant(whistle, absent), ABSENT, key
        payload = {"department": unit}
    found = definition.unit(unit)
    payload |= {WHISTLE: whistle.no, "supervisor": found.supervisor if found else None}
    return ticket.evolve(whistle=changed), event, payload


_ANSWERED = {
    "reported": "has already reported",
    "declined": "has declined; the whistling unit must accept or reject that first",
    "excused": "is excused",
}


def _open(ticket: Ticket) -> Whistle:
    if ticket.whistle is None or not ticket.whistle.open:
        raise InvalidField(WHISTLE, f"ticket {ticket.id} has no open whistle")
    return ticket.whistle


def _report_deadline(
    department: str,
    scope: str,
    within: Span | None,
    definition: Definition,
    calendar: Calendar,
    now: datetime,
) -> Deadline:
    settings = definition.whistle
    window = calendar.seconds(within or settings.within, settings.measure)
    return _fresh(
        f"report:{department}", scope, settings.measure, window, definition, calendar, now
    )


def _fresh(
    kind: str,
    scope: str,
    measure: Measure,
    window: int,
    definition: Definition,
    calendar: Calendar,
    now: datetime,
) -> Deadline:
    opened = Deadline(
        kind=kind,
        state=scope,
        measure=measure.value,
        window=window,
        opened_at=now,
        due_at=now,
        running_since=now,
    )
    return deadlines.schedule(opened, definition.whistle.rule(kind), calendar)


def _with_participant(whistle: Whistle, changed: Participant) -> Whistle:
    participants = tuple(
        changed if p.department == changed.department else p for p in whistle.participants
    )
    return whistle.model_copy(update={"participants": participants})


def _close_deadline(ticket: Ticket, kind: str, status: str, now: datetime) -> Ticket:
    scope = ticket.whistle.scope if ticket.whistle else ""
    changed = tuple(
        deadlines.close(d, status, now) if (d.kind, d.state) == (kind, scope) and d.open else d
        for d in ticket.deadlines
    )
    return ticket.evolve(deadlines=changed)
