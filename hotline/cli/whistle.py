"""``hotline whistle …``: whistle coordination (吹哨报到) from the command line.

Each command fires one whistle transition of the ticket's definition through the Service (one
transaction, one event in the history); ``hotline whistles`` lists them from the whistle rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from hotline.cli.common import DEFAULT_DB, DbOption, open_service, out, user_errors

if TYPE_CHECKING:
    from hotline.persistence import whistles
from hotline.engine import meanings
from hotline.errors import HotlineError

Department = Annotated[str, typer.Option("--department", "-d", help="The answering unit code.")]
Actor = Annotated[str, typer.Option(help="Who does it (recorded in the history).")]


def register(app: typer.Typer) -> None:
    app.command(whistle.__name__)(user_errors(whistle))
    for name, command in COMMANDS.items():
        app.command(name)(user_errors(command))


def _fire(db_url: str, ticket_id: int, action: str, fields: dict[str, Any], actor: str) -> None:
    """Fire the trigger of the ticket's definition that runs the whistle ``action``."""
    given = {k: v for k, v in fields.items() if v is not None}
    service = open_service(db_url)
    ticket = service.get(ticket_id)
    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    trigger = meanings.running(definition, action)
    if trigger is None:
        raise HotlineError(f"workflow {definition.name!r} has no whistle step {action!r}")
    ticket = service.fire(ticket_id, trigger, given, actor)
    w = ticket.whistle
    status = "-" if w is None else "open" if w.open else f"closed ({w.close_reason})"
    missing = ", ".join(w.missing) if w and w.open else ""
    out.print(
        f"ticket {ticket.id} {ticket.state} (version {ticket.version}); "
        f"whistle {w.no if w else '-'} {status}" + (f"; missing: {missing}" if missing else "")
    )


def whistle(
    ticket_id: int,
    to: Annotated[list[str], typer.Option("--to", help="A department to summon (repeat).")],
    reason: Annotated[str, typer.Option(help="Why the departments are summoned.")],
    within: Annotated[
        str | None, typer.Option(help="Report window, e.g. 24h (default: the definition's).")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Whistling unit (default: lead unit).")] = None,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """吹哨: summon departments to a ticket, each to report within a deadline."""
    fields = {"to": to, "within": within, "reason": reason, "by": by}
    _fire(db_url, ticket_id, "open_whistle", fields, actor)


def report(
    ticket_id: int,
    department: Department,
    person: Annotated[str, typer.Option(help="Who reported for the department.")],
    note: str | None = None,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """报到: a summoned department reports (shows up, takes its share)."""
    fields = {"department": department, "person": person, "note": note}
    _fire(db_url, ticket_id, "record_report", fields, actor)


def decline(
    ticket_id: int,
    department: Department,
    reason: Annotated[str, typer.Option(help="Why it is not the department's matter.")],
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """A summoned department declines; the whistling unit then accepts or rejects that."""
    fields = {"department": department, "reason": reason}
    _fire(db_url, ticket_id, "record_decline", fields, actor)


def accept(
    ticket_id: int,
    department: Department,
    note: str | None = None,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Accept a department's decline: it is excused."""
    fields = {"department": department, "note": note}
    _fire(db_url, ticket_id, "accept_decline", fields, actor)


def reject(
    ticket_id: int,
    department: Department,
    reason: Annotated[str, typer.Option(help="Why the department must report after all.")],
    within: Annotated[str | None, typer.Option(help="Its new report window.")] = None,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Reject a department's decline: it is summoned again with a fresh deadline."""
    fields = {"department": department, "reason": reason, "within": within}
    _fire(db_url, ticket_id, "reject_decline", fields, actor)


def conference(
    ticket_id: int,
    held_at: Annotated[str, typer.Option(help="When, e.g. 2026-03-03T10:00+08:00.")],
    attendee: Annotated[list[str], typer.Option("--attendee", help="Who attended (repeat).")],
    decisions: Annotated[str, typer.Option(help="What the conference decided.")],
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """联席会商: record a joint conference on the ticket's open whistle."""
    fields = {"held_at": held_at, "attendees": attendee, "decisions": decisions}
    _fire(db_url, ticket_id, "record_conference", fields, actor)


def task(
    ticket_id: int,
    owner: Annotated[str, typer.Option(help="The department that owns the task.")],
    title: Annotated[str, typer.Option(help="What is to be done.")],
    due: Annotated[str, typer.Option(help="Due date and time, e.g. 2026-03-10T18:00+08:00.")],
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Give a department a task from the latest conference; its due date is a deadline."""
    fields = {"owner": owner, "title": title, "due": due}
    _fire(db_url, ticket_id, "assign_task", fields, actor)


def task_done(
    ticket_id: int,
    task: Annotated[int, typer.Option("--task", help="The task number.")],
    note: str | None = None,
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Mark a conference task done."""
    _fire(db_url, ticket_id, "finish_task", {"task": task, "note": note}, actor)


def close(
    ticket_id: int,
    reason: Annotated[str, typer.Option(help="Why the whistle ends now.")],
    actor: Actor = "cli",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """The whistling unit closes the whistle before every department has answered."""
    _fire(db_url, ticket_id, "close_whistle", {"reason": reason}, actor)


def listing(
    open_: Annotated[bool, typer.Option("--open", help="Only open whistles.")] = False,
    department: Annotated[
        str | None, typer.Option(help="Only whistles summoning this department.")
    ] = None,
    stats: Annotated[
        bool, typer.Option("--stats", help="Per-department statistics instead of whistles.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many whistles, newest first.")] = 100,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Whistles and who is still missing, or per-department statistics (--stats)."""
    service = open_service(db_url)
    if stats:
        out.print(_stats_table(service.whistle_stats()))
    else:
        out.print(_whistles_table(service.listed_whistles(open_, department, limit)))


def _whistles_table(found: list[whistles.Listed]) -> Table:
    table = Table(
        "ticket", "no", "status", "by", "opened (UTC)", "summoned", "missing", "absent", "reason",
        title=f"{len(found)} whistle(s)",
    )  # fmt: skip
    for w in found:
        table.add_row(
            str(w.ticket_id),
            str(w.no),
            w.status,
            w.whistler,
            f"{w.opened_at:%Y-%m-%d %H:%M}",
            str(len(w.summoned)),
            ", ".join(w.missing) or "-",
            ", ".join(w.absent) or "-",
            w.reason,
        )
    return table


def _stats_table(found: list[whistles.DepartmentStats]) -> Table:
    table = Table(
        "department", "summoned", "reported", "in time", "excused", "median to report",
        "absences", title="whistle answers by department",
    )  # fmt: skip
    for s in found:
        median = s.median_report_seconds
        table.add_row(
            s.department,
            str(s.summoned),
            str(s.reported),
            str(s.reported_in_time),
            str(s.excused),
            "-" if median is None else f"{median / 3600:.1f} h",
            str(s.absences),
        )
    return table


COMMANDS = {  # beside ``whistle`` itself
    "whistle-report": report,
    "whistle-decline": decline,
    "whistle-accept": accept,
    "whistle-reject": reject,
    "whistle-conference": conference,
    "whistle-task": task,
    "whistle-task-done": task_done,
    "whistle-close": close,
    "whistles": listing,
}
