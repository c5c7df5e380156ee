"""``hotline init|submit|fire|show|history|tickets``: what an operator does to tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline import workflows
from hotline.cli import audit, calendar
from hotline.cli.common import (
    DEFAULT_DB,
    DbOption,
    key_value,
    mask,
    migrated_service,
    open_service,
    out,
    user_errors,
)

if TYPE_CHECKING:
    from hotline.engine.ticket import Event, Ticket
    from hotline.service import Service


def register(app: typer.Typer) -> None:
    for command in (init, submit, fire, show, history, tickets):
        app.command()(user_errors(command))


def init(db_url: DbOption = DEFAULT_DB) -> None:
    """Create the database or upgrade it, and publish the shipped workflows."""
    service = migrated_service(db_url)
    published = service.install_shipped()
    names = ", ".join(f"{name}@{version}" for name, version in published)
    out.print(f"database ready: {db_url} (workflows: {names})")
    recomputed = service.recompute_provisional()  # a package upgrade may bring a new year
    if recomputed:
        out.print(f"recomputed the provisional deadlines of {recomputed} ticket(s)")
    calendar.warn(service.clock.now().date())


def submit(
    category: Annotated[str, typer.Option(help="Category code from the definition.")],
    summary: Annotated[str, typer.Option(help="What the citizen asks for.")] = "",
    urgency: Annotated[
        str | None, typer.Option(help="Urgency (default: the definition's first).")
    ] = None,
    channel: str = "phone",
    name: Annotated[str | None, typer.Option(help="Complainant's name.")] = None,
    phone: Annotated[str | None, typer.Option(help="Complainant's phone.")] = None,
    address: Annotated[str | None, typer.Option(help="Complainant's address.")] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: repeats return the same ticket.")
    ] = None,
    actor: str = "operator",
    workflow: Annotated[
        str,
        typer.Option(envvar="HOTLINE_WORKFLOW", help="The workflow definition the ticket follows."),
    ] = workflows.DEFAULT,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Take in a new ticket (受理)."""
    from hotline.service import Intake

    intake = Intake(category, summary, urgency, channel, name, phone, address)
    service = open_service(db_url)
    ticket = service.submit(intake, actor=actor, idempotency_key=key, definition=workflow)
    out.print(f"ticket {ticket.id} {ticket.state} (version {ticket.version})")


def fire(
    ticket_id: int,
    trigger: str,
    set_: Annotated[list[str] | None, typer.Option("--set", help="A field as key=value.")] = None,
    actor: str = "cli",
    expect_version: Annotated[
        int | None, typer.Option(help="Refuse if the ticket is not at this version.")
    ] = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Fire TRIGGER on a ticket (dispatch, respond, reply, record_callback…)."""
    fields = dict(key_value(item) for item in set_ or [])
    ticket = open_service(db_url).fire(ticket_id, trigger, fields, actor, expect_version)
    out.print(f"ticket {ticket.id} {ticket.state} (version {ticket.version})")


def show(ticket_id: int, db_url: DbOption = DEFAULT_DB) -> None:
    """A ticket: state, units, fields, pending deadlines and what may happen next."""
    service = open_service(db_url)
    ticket = service.get(ticket_id)
    contact = service.contact(ticket_id)
    rows = [
        ("state", ticket.state),
        ("version", ticket.version),
        ("round", ticket.round),
        ("definition", f"{ticket.definition}@{ticket.definition_version}"),
        ("category", ticket.category),
        ("urgency", ticket.urgency),
        ("channel", ticket.channel),
        ("summary", ticket.summary),
        ("lead unit", ticket.lead_unit or "-"),
        ("co-units", ", ".join(ticket.co_units) or "-"),
        ("excluded", "yes" if ticket.excluded else "no"),
        ("contact", " / ".join(mask(k, v) for k, v in contact.items() if v) or "-"),
        *((f"field {k}", v) for k, v in ticket.fields.items()),
        ("allowed", ", ".join(service.allowed(ticket)) or "-"),
    ]
    for deadline in service.pending_deadlines(ticket_id):
        due = f"due {deadline.due_at:%Y-%m-%d %H:%M} UTC"
        if deadline.provisional:  # counted over a year whose holidays are not published yet
            due += " (provisional: plain weekdays, no official schedule yet)"
        rows.append((f"deadline {deadline.kind}", due))
    for entry in service.rounds(ticket):  # 再派件: every round's own record
        shown = {
            k: v
            for k, v in entry.items()
            if k != "round" and not k.endswith("_at") and v is not None
        }
        rows.append((f"round {entry['round']}", ", ".join(f"{k}: {v}" for k, v in shown.items())))
    linked = service.links(ticket_id)
    rows += [(f"{name} of", f"#{target}") for name, target in linked.to.items()]
    for name, sources in linked.by.items():  # e.g. the repeats of an original (Art. 11)
        listed = ", ".join(f"#{s}" for s in sources)
        rows.append((f"{name} by", f"{listed} ({len(sources) + 1} citizens in the group)"))
    table = Table(title=f"ticket {ticket.id}", show_header=False)
    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)


def history(
    ticket_id: int,
    at: Annotated[
        str | None,
        typer.Option(help="Show the ticket as it was at this ISO 8601 instant (UTC if no zone)."),
    ] = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """A ticket's full, hash-chained history, or the ticket as it was at an instant."""
    service = open_service(db_url)
    if at is not None:
        out.print(audit.as_of_table(service, ticket_id, audit.parse_time(at)))
        return
    out.print(history_table(ticket_id, service.history(ticket_id)))


def tickets(
    state: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    limit: int = 100,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """List tickets, filtered by state, lead unit or category."""
    service = open_service(db_url)
    found = service.find(state=state, unit=unit, category=category, limit=limit)
    out.print(tickets_table(service, found))


def _verdict(service: Service, ticket: Ticket) -> str:
    """双是 / 非双是 / 双否 from the last callback answers, or "-" before any callback."""
    from hotline.engine import kpi, meanings

    definition = service.compiled(ticket.definition, ticket.definition_version).definition
    resolved, level = meanings.answers_in(definition, ticket.fields)
    if level is None:
        return "-"
    return kpi.verdict(resolved, level, definition.kpi).value


def is_closed(service: Service, ticket: Ticket) -> bool:
    """Whether the ticket is in its definition's final state."""
    return (
        ticket.state
        == service.compiled(ticket.definition, ticket.definition_version).definition.final
    )


def tickets_table(service: Service, found: list[Ticket], title: str | None = None) -> Table:
    """Tickets one a row: category, lead unit, state, rounds and the callback's verdict."""
    table = Table("id", "category", "unit", "state", "rounds", "callback", title=title)
    for t in found:
        table.add_row(
            str(t.id),
            t.category,
            t.lead_unit or "-",
            t.state,
            str(t.round),
            _verdict(service, t) + (" 剔除" if t.excluded else ""),
        )
    return table


def history_table(ticket_id: int, events: list[Event]) -> Table:
    """A ticket's events one a row, with the head of each hash."""
    table = Table(title=f"history of ticket {ticket_id}")
    for column in ("seq", "at (UTC)", "trigger", "from → to", "actor", "hash"):
        table.add_column(column, no_wrap=True)
    table.add_column("details")
    for e in events:
        details = ", ".join(f"{k}={v}" for k, v in e.payload.items())
        table.add_row(
            str(e.seq),
            f"{e.occurred_at:%m-%d %H:%M}",
            e.trigger,
            f"{e.from_state or '·'} → {e.to_state}",
            e.actor,
            e.hash[:8],
            details,
        )
    return table
