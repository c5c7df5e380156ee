"""``hotline run|deadlines|outbox|demo``: the daemon, what it waits to fire and deliver, and a
demonstration of both. APScheduler, uvicorn and FastAPI are imported only by ``run``."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from hotline import api as http
from hotline.cli import serve, tickets
from hotline.cli.common import (
    DEFAULT_DB,
    BatchOption,
    DbOption,
    IdleOption,
    LeaseOption,
    migrated_service,
    open_service,
    out,
    user_errors,
)


def register(app: typer.Typer) -> None:
    for command in (demo, run, deadlines, outbox):
        app.command()(user_errors(command))


def demo(db_url: DbOption = DEFAULT_DB) -> None:
    """Drive about twenty tickets through every path of the beijing-12345 workflow."""
    from hotline.clock import FrozenClock, SystemClock
    from hotline.simulation import demo as demo_script

    clock = FrozenClock(SystemClock().now().replace(second=0, microsecond=0))
    service = migrated_service(db_url, clock)
    service.install_shipped()
    done = demo_script.run(service, clock)
    out.print(tickets.tickets_table(service, done, title=f"{len(done)} demo tickets in {db_url}"))
    redone = next(t for t in done if t.round > 1 and tickets.is_closed(service, t))
    out.print(tickets.history_table(redone.id, service.history(redone.id)))
    overdue = done[-1]  # the burst main nobody replied to: reminded, then escalated (督办)
    out.print(tickets.history_table(overdue.id, service.history(overdue.id)))
    whistled = next(t for t in done if t.whistle)  # the leaking main: 吹哨报到
    out.print(tickets.history_table(whistled.id, service.history(whistled.id)))
    called = done[demo_script.STREET_LIGHTS]  # Art. 23: the callback started at expiry
    out.print(tickets.history_table(called.id, service.history(called.id)))
    original = done[demo_script.LOUDSPEAKERS]  # Art. 11: the original of a repeat group
    out.print(
        f"Next: hotline show {redone.id} (rounds) · hotline show {original.id} (repeat group) · "
        f"hotline report outcomes --period {clock.now():%Y-%m} --field reason_code · "
        "hotline tickets --state dispatched · hotline whistles --stats"
    )


def run(
    db_url: DbOption = DEFAULT_DB,
    safety: Annotated[
        float,
        typer.Option(
            envvar="HOTLINE_SWEEP_SAFETY",
            help="Seconds between sweeps when nothing falls due sooner.",
        ),
    ] = 2.0,
    log_level: serve.LogLevel = "INFO",
    host: serve.HostOption = http.DEFAULT_HOST,
    port: serve.PortOption = http.DEFAULT_PORT,
    api: Annotated[bool, typer.Option(help="Serve the HTTP API beside the daemon.")] = True,
    lease: LeaseOption = 120.0,
    batch: BatchOption = 200,
    exit_when_idle: IdleOption = False,
) -> None:
    """Run the daemon (fire due deadlines, deliver the outbox) and serve the HTTP API, until
    SIGTERM or Ctrl-C (or, with --exit-when-idle, until nothing is left to fire: no API then)."""
    from hotline.daemon.scheduler import Daemon

    serve.configure_logging(log_level)
    service = open_service(db_url)
    daemon = Daemon(service, safety=safety, lease=timedelta(seconds=lease), batch=batch)
    if api and not exit_when_idle:
        from hotline.api import server

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


def deadlines(
    ticket: Annotated[int | None, typer.Option(help="Only this ticket's deadlines.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only those past their due time.")] = False,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Pending deadlines with their due time and the time left."""
    service = open_service(db_url)
    now = service.clock.now()
    found = service.pending_deadlines(ticket, due_before=now if overdue else None)
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


def outbox(
    dead: Annotated[bool, typer.Option(help="Only messages parked as dead.")] = False,
    ticket: int | None = None,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Outbox messages: what handlers were asked to do, and how it went."""
    found = open_service(db_url).outbox(ticket, status="dead" if dead else None)
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
