"""``hotline``: the command line, a thin shell over the Service.

Data goes to stdout, errors to stderr as one ``Error:`` line with a non-zero exit.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from hotline.api import server
from hotline.cli import (
    audit,
    published,
    report,
    serve,
    simulate,
    status,
    token,
    whistle,
    workflow,
)
from hotline.cli.common import (
    BatchOption,
    DbOption,
    IdleOption,
    LeaseOption,
    key_value,
    mask,
    open_service,
    out,
    user_errors,
)
from hotline.clock import FrozenClock, SystemClock
from hotline.daemon.scheduler import Daemon
from hotline.engine import kpi, meanings
from hotline.engine.definition import Definition
from hotline.engine.ticket import Event, Ticket
from hotline.persistence import db
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service
from hotline.simulation import demo as demo_script
from hotline.workflows import loader

app = typer.Typer(
    help="Hotline: a workflow engine for citizen-complaint hotlines (12345).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workflow.register(app)
audit.register(app)
whistle.register(app)
report.register(app)
published.register(report.report_app)
simulate.register(app)
token.register(app)
serve.register(app)
status.register(app)


@app.command()
@user_errors
def init(db_url: DbOption = db.DEFAULT_URL) -> None:
    """Create the database or upgrade it, and publish the shipped workflows."""
    store = SqlStore(db_url)
    store.migrate()
    published = Service(store).install_shipped()
    names = ", ".join(f"{name}@{version}" for name, version in published)
    out.print(f"database ready: {db_url} (workflows: {names})")


@app.command()
@user_errors
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
    ] = loader.DEFAULT,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """Take in a new ticket (受理)."""
    intake = Intake(category, summary, urgency, channel, name, phone, address)
    service = open_service(db_url)
    ticket = service.submit(intake, actor=actor, idempotency_key=key, definition=workflow)
    out.print(f"ticket {ticket.id} {ticket.state} (version {ticket.version})")


@app.command()
@user_errors
def fire(
    ticket_id: int,
    trigger: str,
    set_: Annotated[list[str] | None, typer.Option("--set", help="A field as key=value.")] = None,
    actor: str = "cli",
    expect_version: Annotated[
        int | None, typer.Option(help="Refuse if the ticket is not at this version.")
    ] = None,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """Fire TRIGGER on a ticket (dispatch, respond, reply, record_callback…)."""
    fields = dict(key_value(item) for item in set_ or [])
    ticket = open_service(db_url).fire(ticket_id, trigger, fields, actor, expect_version)
    out.print(f"ticket {ticket.id} {ticket.state} (version {ticket.version})")


@app.command()
@user_errors
def show(ticket_id: int, db_url: DbOption = db.DEFAULT_URL) -> None:
    """A ticket: state, units, fields, pending deadlines and what may happen next."""
    service = open_service(db_url)
    ticket = service.get(ticket_id)
    contact = service.store.contact(ticket_id)
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
    for deadline in service.store.deadlines(ticket_id):
        rows.append((f"deadline {deadline.kind}", f"due {deadline.due_at:%Y-%m-%d %H:%M} UTC"))
    table = Table(title=f"ticket {ticket.id}", show_header=False)
    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)


@app.command()
@user_errors
def history(
    ticket_id: int,
    at: Annotated[
        str | None,
        typer.Option(help="Show the ticket as it was at this ISO 8601 instant (UTC if no zone)."),
    ] = None,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """A ticket's full, hash-chained history, or the ticket as it was at an instant."""
    service = open_service(db_url)
    if at is not None:
        out.print(audit.as_of_table(service, ticket_id, audit.parse_time(at)))
        return
    out.print(_history_table(ticket_id, service.history(ticket_id)))


@app.command()
@user_errors
def tickets(
    state: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    limit: int = 100,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """List tickets, filtered by state, lead unit or category."""
    service = open_service(db_url)
    found = service.store.find(state=state, unit=unit, category=category, limit=limit)
    out.print(_tickets_table(service, found))


@app.command()
@user_errors
def demo(db_url: DbOption = db.DEFAULT_URL) -> None:
    """Drive about twenty tickets through every path of the beijing-12345 workflow."""
    store = SqlStore(db_url)
    store.migrate()
    clock = FrozenClock(SystemClock().now().replace(second=0, microsecond=0))
    service = Service(store, clock)
    service.install_shipped()
    tickets = demo_script.run(service, clock)
    out.print(_tickets_table(service, tickets, title=f"{len(tickets)} demo tickets in {db_url}"))
    redone = next(t for t in tickets if t.round > 1 and _closed(service, t))
    out.print(_history_table(redone.id, service.history(redone.id)))
    overdue = tickets[-1]  # the burst main nobody replied to: reminded, then escalated (督办)
    out.print(_history_table(overdue.id, service.history(overdue.id)))
    whistled = next(t for t in tickets if t.whistle)  # the leaking main: 吹哨报到
    out.print(_history_table(whistled.id, service.history(whistled.id)))
    out.print(
        f"Next: hotline show {redone.id} · hotline history {redone.id} · "
        "hotline tickets --state dispatched · hotline whistles --stats"
    )


@app.command()
@user_errors
def run(
    db_url: DbOption = db.DEFAULT_URL,
    safety: Annotated[
        float,
        typer.Option(
            envvar="HOTLINE_SWEEP_SAFETY",
            help="Seconds between sweeps when nothing falls due sooner.",
        ),
    ] = 2.0,
    log_level: serve.LogLevel = "INFO",
    host: serve.HostOption = server.DEFAULT_HOST,
    port: serve.PortOption = server.DEFAULT_PORT,
    api: Annotated[bool, typer.Option(help="Serve the HTTP API beside the daemon.")] = True,
    lease: LeaseOption = 120.0,
    batch: BatchOption = 200,
    exit_when_idle: IdleOption = False,
) -> None:
    """Run the daemon (fire due deadlines, deliver the outbox) and serve the HTTP API, until
    SIGTERM or Ctrl-C (or, with --exit-when-idle, until nothing is left to fire: no API then)."""
    serve.configure_logging(log_level)
    service = open_service(db_url)
    daemon = Daemon(service, safety=safety, lease=timedelta(seconds=lease), batch=batch)
    if api and not exit_when_idle:
        server.serve(service, host, port, daemon)
        return
    stopping = threading.Event()
    if exit_when_idle:
        daemon.idle.on_idle = stopping.set
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    daemon.start()
    stopping.wait()
    daemon.stop()


@app.command()
@user_errors
def deadlines(
    ticket: Annotated[int | None, typer.Option(help="Only this ticket's deadlines.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only those past their due time.")] = False,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """Pending deadlines with their due time and the time left."""
    service = open_service(db_url)
    now = service.clock.now()
    found = service.store.deadlines(ticket, due_before=now if overdue else None)
    table = Table(
        "id",
        "ticket",
        "kind",
        "state",
        "measure",
        "due (UTC)",
        "left",
        "next rung",
        title=f"{len(found)} pending deadline(s)",
    )
    for d in found:
        table.add_row(
            str(d.id),
            str(d.ticket_id),
            d.kind,
            d.state,
            d.measure,
            f"{d.due_at:%Y-%m-%d %H:%M}",
            _left(d.due_at - now),
            f"{d.fire_at:%m-%d %H:%M}" if d.fire_at else "-",
        )
    out.print(table)


@app.command()
@user_errors
def outbox(
    dead: Annotated[bool, typer.Option(help="Only messages parked as dead.")] = False,
    ticket: int | None = None,
    db_url: DbOption = db.DEFAULT_URL,
) -> None:
    """Outbox messages: what handlers were asked to do, and how it went."""
    found = open_service(db_url).store.outbox(ticket, status="dead" if dead else None)
    table = Table(
        "id",
        "ticket",
        "handler",
        "status",
        "attempts",
        "next attempt (UTC)",
        "last error",
        title=f"{len(found)} message(s)",
    )
    for m in found:
        table.add_row(
            str(m.id),
            str(m.ticket_id),
            m.handler,
            m.status,
            str(m.attempts),
            f"{m.next_attempt_at:%m-%d %H:%M:%S}",
            m.last_error or "",
        )
    out.print(table)


def _left(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    text = f"{minutes // 1440}d {minutes % 1440 // 60}h {minutes % 60}m".removeprefix("0d ")
    return text if delta.total_seconds() >= 0 else f"overdue {text}"


def _verdict(service: Service, ticket: Ticket) -> str:
    """双是 / 非双是 / 双否 from the last callback answers, or "-" before any callback."""
    definition = _definition(service, ticket)
    resolved, level = meanings.answers_in(definition, ticket.fields)
    if level is None:
        return "-"
    return kpi.verdict(resolved, level, definition.kpi).value


def _closed(service: Service, ticket: Ticket) -> bool:
    return ticket.state == _definition(service, ticket).final


def _definition(service: Service, ticket: Ticket) -> Definition:
    return service.compiled(ticket.definition, ticket.definition_version).definition


def _tickets_table(service: Service, found: list[Ticket], title: str | None = None) -> Table:
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


def _history_table(ticket_id: int, events: list[Event]) -> Table:
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


if __name__ == "__main__":
    app()
