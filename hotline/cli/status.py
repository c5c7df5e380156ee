"""``hotline status``: the replicas sharing the database and the work waiting for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotline.cli import calendar
from hotline.cli.common import DEFAULT_DB, DbOption, open_service, out, user_errors
from hotline.clock import SystemClock

if TYPE_CHECKING:
    from hotline.persistence import backlog, replicas


def register(app: typer.Typer) -> None:
    app.command("status")(status)


@user_errors
def status(
    since: Annotated[
        float, typer.Option(help="Show replicas seen in the last SINCE minutes.")
    ] = 60.0,
    alive_within: Annotated[
        float, typer.Option(help="A replica silent for longer than this (seconds) is 'lost'.")
    ] = 30.0,
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Replicas seen recently, pending and overdue deadlines, outbox backlog and dead messages."""
    service = open_service(db_url)
    now = SystemClock().now()
    try:
        seen = service.replicas_seen(now - timedelta(minutes=since))
        counts = service.measure_backlog(now)
    finally:
        service.close()
    out.print(_replicas_table(seen, now, timedelta(seconds=alive_within)))
    out.print(_backlog_table(counts))
    from hotline.workflows import calendars

    out.print(calendar.coverage_table(calendars.coverage(now.date())))
    calendar.warn(now.date())


def _state(replica: replicas.Replica, now: datetime, alive_within: timedelta) -> str:
    if replica.stopped_at is not None:
        return "stopped"
    return "alive" if now - replica.last_seen_at <= alive_within else "lost"


def _replicas_table(seen: list[replicas.Replica], now: datetime, alive_within: timedelta) -> Table:
    alive = sum(_state(r, now, alive_within) == "alive" for r in seen)
    table = Table(
        "replica",
        "host",
        "pid",
        "started (UTC)",
        "last seen",
        "state",
        title=f"{alive} replica(s) alive, {len(seen)} seen",
    )
    for r in seen:
        ago = int((now - r.last_seen_at).total_seconds())
        table.add_row(
            r.owner,
            r.host,
            str(r.pid),
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            f"{ago} s ago",
            _state(r, now, alive_within),
        )
    return table


def _backlog_table(counts: backlog.Backlog) -> Table:
    table = Table("work", "count", title="backlog")
    for label, value in (
        ("deadlines pending", counts.deadlines_pending),
        ("deadlines overdue", counts.deadlines_overdue),
        ("deadline rungs due now", counts.deadlines_due),
        ("deadline rungs leased", counts.deadlines_claimed),
        ("outbox backlog", counts.outbox_pending),
        ("outbox due now", counts.outbox_due),
        ("outbox dead", counts.outbox_dead),
    ):
        table.add_row(label, str(value))
    return table
