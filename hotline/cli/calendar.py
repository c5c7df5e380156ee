"""``hotline calendar …``: how far the business calendars know their working days."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from hotline.cli.common import DEFAULT_DB, DbOption, err, open_service, out, user_errors

if TYPE_CHECKING:
    from hotline.workflows import calendars

calendar_app = typer.Typer(
    help="Business calendars: coverage of the official schedule, provisional deadlines.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")


@calendar_app.command("refresh")
@user_errors
def refresh(db_url: DbOption = DEFAULT_DB) -> None:
    """Recompute provisional deadlines after a year's official schedule was added (to a
    calendar file or by upgrading the chinesecalendar package)."""
    service = open_service(db_url)
    changed = service.recompute_provisional()
    out.print(f"recomputed the provisional deadlines of {changed} ticket(s)")
    warn(service.clock.now().date())


@calendar_app.command("coverage")
@user_errors
def coverage(db_url: DbOption = DEFAULT_DB) -> None:
    """The last day each calendar's official schedule covers, and the days left."""
    from hotline.workflows import calendars

    today = open_service(db_url).clock.now().date()
    out.print(coverage_table(calendars.coverage(today)))
    warn(today)


def coverage_table(found: list[calendars.Coverage]) -> Table:
    table = Table("calendar", "covered until", "days left", title="calendar coverage")
    for c in found:
        table.add_row(c.name, str(c.covered_until), str(c.days_left))
    return table


def warn(today: date) -> None:
    """One warning line on stderr per calendar within ``calendars.WARN_DAYS`` of its end."""
    from hotline.workflows import calendars

    for c in calendars.coverage(today):
        if c.warning:
            err.print(f"[yellow]Warning:[/yellow] {c.warning}", markup=True, highlight=False)
