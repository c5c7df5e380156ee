"""``hotline simulate``: fill a database with a seeded, realistic mix of tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from hotline import errors, workflows
from hotline.cli.common import DEFAULT_DB, DbOption, err, migrated_service, out, user_errors
from hotline.clock import FrozenClock

# The bar follows simulated time (commands keep coming after the last ticket is submitted).
COLUMNS = (
    TextColumn("day {task.completed:4.1f} of {task.total:.0f}"),
    BarColumn(),
    TextColumn("{task.fields[tickets]} tickets, {task.fields[commands]} commands"),
    TimeElapsedColumn(),
)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


@user_errors
def simulate_command(
    tickets: Annotated[int, typer.Option(help="How many tickets to submit.")] = 1000,
    days: Annotated[int, typer.Option(help="Over how many days.")] = 30,
    seed: Annotated[int, typer.Option(help="The same seed gives the same tickets.")] = 12345,
    start: Annotated[
        str, typer.Option(help="First day (local time of the definition's calendar).")
    ] = "2022-01-01",
    db_url: DbOption = DEFAULT_DB,
) -> None:
    """Drive simulated tickets, some of them whistled, through the real service."""
    if tickets < 1 or days < 1:
        raise errors.HotlineError("--tickets and --days must be at least 1")
    from hotline.simulation import simulate

    service = migrated_service(db_url)
    service.install_shipped()
    zone = service.compiled(workflows.DEFAULT).calendar.timezone
    try:
        first = datetime.fromisoformat(start).replace(tzinfo=zone)
    except ValueError:
        raise errors.HotlineError(f"--start {start!r}: write it as YYYY-MM-DD") from None
    clock = FrozenClock(first)
    service.clock = clock
    with Progress(*COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task("simulating", total=days, tickets=0, commands=0)

        def played(p: simulate.Played) -> None:
            day = p.elapsed / timedelta(days=1)
            bar.update(task, completed=day, tickets=p.tickets, commands=p.commands)

        done = simulate.run(service, clock, tickets, days, seed, played)
    out.print(
        f"simulated {done.tickets} tickets ({done.whistles} whistled), {done.commands} commands, "
        f"until {done.ended_at:%Y-%m-%d %H:%M} UTC in {db_url}"
        + (f" ({done.refused} planned steps refused)" if done.refused else ""),
        soft_wrap=True,
    )
